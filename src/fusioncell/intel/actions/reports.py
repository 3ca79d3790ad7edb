"""Submitting, releasing (with sanitisation) and answering intelligence reports.

Each is one transaction: the releasability and the grade are checked, the STIX is validated
and marked, the report, its releases and its object versions are written, and one signed
entry whose body holds the bundle is appended; its live event reaches exactly the
organisations the report is released to. A retry with the same client id returns the first
report; the same id with another request is a conflict.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.db.transaction import atomic
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput, PayloadTooLarge
from fusioncell.intel import policy, stix
from fusioncell.intel.actions.storing import (
    Audience,
    ToStore,
    report_body,
    store_reports,
    version_key,
)
from fusioncell.intel.entries import IntelEntry
from fusioncell.intel.models import Release, Report, ReportKind, StixObject
from fusioncell.intel.queries import (
    get_report,
    organisations,
    own_earlier_report,
    own_earlier_reports,
    reports_with_ids,
)
from fusioncell.ledger.entries import canonical

# Limits on what one report may hold.
MAX_BUNDLE_BYTES = 2_000_000
MAX_OBJECTS = 2_000
MAX_TEXT = 20_000
DEFAULT_TLP = "amber"
MAX_BATCH = 5_000


def _audience(
    db: Session,
    actor: Viewer,
    release_to: Iterable[str],
    *,
    always: Iterable[uuid.UUID] = (),
    known: Sequence[Organisation] | None = None,
) -> Audience:
    """The named organisations (by slug), with the actor's own, the supervisor's and
    ``always`` added; an unknown name is refused. ``known``: the cell's organisations, if
    already read."""
    known_by_slug = {o.slug: o for o in (known or organisations(db, actor))}
    by_id = {o.id: o for o in known_by_slug.values()}
    chosen: dict[uuid.UUID, Organisation] = {}
    unknown = []
    for name in release_to:
        name = name.strip()
        if not name:
            continue
        found = known_by_slug.get(name) or known_by_slug.get(name.upper())
        if found is None:
            unknown.append(name)
        else:
            chosen[found.id] = found
    if unknown:
        raise InvalidInput(
            f"no organisation {', '.join(repr(u) for u in unknown)} in the cell",
            errors=[
                {"field": "release_to", "message": f"unknown organisation {u!r}"} for u in unknown
            ],
            organisations=sorted(known_by_slug),
        )
    for organisation_id in (actor.organisation_id, *always):
        chosen[organisation_id] = by_id[organisation_id]
    for organisation in known_by_slug.values():
        if organisation.kind == OrganisationKind.SUPERVISOR.value:
            chosen[organisation.id] = organisation
    return Audience(sorted(chosen.values(), key=lambda o: o.slug))


def _check_tlp(tlp: str) -> str:
    if tlp not in stix.TLP_LEVELS:
        raise InvalidInput(
            f"TLP is one of {', '.join(stix.TLP_LEVELS)}",
            errors=[{"field": "tlp", "message": f"not a TLP level: {tlp!r}"}],
        )
    return tlp


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(canonical(list(parts))).hexdigest()


def _content_hash(item: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(item)).hexdigest()


@dataclass(frozen=True)
class _Checked:
    """A submitted bundle, validated: its objects, grade, the request's fingerprint and each
    object's content hash (as submitted, by ``id`` and version), from one canonical
    serialisation of each object."""

    objects: list[dict[str, Any]]
    grade: stix.Grade | None
    fingerprint: str
    hashes: dict[str, str]


def _version_hashes(objects: Sequence[dict[str, Any]]) -> tuple[dict[str, str], bytes]:
    """Each object's content hash by ``id`` and version, and the objects' canonical array."""
    encoded = [canonical(item) for item in objects]
    hashes = {
        str(item.get("id")) + "\n" + version_key(item)[1]: hashlib.sha256(data).hexdigest()
        for item, data in zip(objects, encoded, strict=True)
        if isinstance(item, dict) and "id" in item
    }
    return hashes, b"[" + b",".join(encoded) + b"]"


def _check_versions(
    db: Session,
    organisation_id: uuid.UUID,
    objects: Sequence[dict[str, Any]],
    hashes: dict[str, str] | None = None,
) -> dict[str, str]:
    """Each object's content hash (as submitted, before marking), refusing a version (id and
    ``modified``) the organisation already stored with other content."""
    if hashes is None:
        hashes = _version_hashes(objects)[0]
    keys = {version_key(item) for item in objects if item.get("type") != "marking-definition"}
    if keys:
        # By id (the index on organisation, id and version finds each), then the versions
        # asked: a tuple IN is a scan of all the organisation's versions on SQLite.
        for stix_id, modified, content_hash in db.execute(
            select(StixObject.stix_id, StixObject.modified, StixObject.content_hash).where(
                StixObject.author_organisation_id == organisation_id,
                StixObject.stix_id.in_(list({stix_id for stix_id, _version in keys})),
            )
        ):
            if (stix_id, modified) not in keys:
                continue
            if hashes.get(stix_id + "\n" + modified, content_hash) != content_hash:
                raise Conflict(
                    f"{stix_id} version {modified} is already stored with other content: a "
                    "new version needs a newer 'modified'",
                    object=stix_id,
                    modified=modified,
                )
    return hashes


def _submission(bundle: Any, release_to: Sequence[str], tlp: str, grade: str | None) -> _Checked:
    """A submitted bundle validated, graded and fingerprinted (each object serialised once)."""
    objects = stix.objects_of(bundle)
    if len(objects) > MAX_OBJECTS:
        raise InvalidInput(f"a report holds at most {MAX_OBJECTS} objects", limit=MAX_OBJECTS)
    hashes, encoded = _version_hashes(objects)
    rest = canonical({**bundle, "objects": []})  # the bundle without its objects' bytes
    if len(rest) - 2 + len(encoded) > MAX_BUNDLE_BYTES:  # len(canonical(bundle))
        raise PayloadTooLarge(
            f"a report may be at most {MAX_BUNDLE_BYTES} bytes", limit=MAX_BUNDLE_BYTES
        )
    stix.validate(objects, max_objects=MAX_OBJECTS)
    checked_grade = stix.parse_grade(grade) if grade else None
    # canonical(["bundle", objects, release, tlp, grade]), with the objects' bytes reused
    tail = canonical([sorted(set(release_to)), tlp, str(checked_grade or "")])
    fingerprint = hashlib.sha256(b'["bundle",' + encoded + b"," + tail[1:]).hexdigest()
    return _Checked(objects, checked_grade, fingerprint, hashes)


def submission_body(
    *,
    report_id: uuid.UUID,
    author_organisation: uuid.UUID,
    bundle: Any,
    release_to: Sequence[str],
    released_to: Sequence[str],
    tlp: str = DEFAULT_TLP,
    grade: str | None = None,
) -> dict[str, Any]:
    """The ``intel.report.submitted`` body ``do_submit_report`` will record for this request,
    for a client that signs it with its own key: ``released_to`` is the audience's slugs as
    the cell completes it (the named organisations, the author's and the supervisor's)."""
    checked = _submission(bundle, release_to, tlp, grade)
    slugs = sorted(set(released_to))
    return report_body(
        report_id=report_id,
        kind=ReportKind.REPORT,
        author_organisation=author_organisation,
        released_to=slugs,
        tlp=tlp,
        grade=checked.grade,
        objects=stix.mark(
            checked.objects, tlp=_check_tlp(tlp), organisations=slugs, grade=checked.grade
        ),
        fingerprint=checked.fingerprint,
    )


def _store(db: Session, actor: Viewer, *, now: datetime, **fields: Any) -> Report:
    """One report through ``storing.store_reports``, read back as a Report."""
    ((report_id, _index),) = store_reports(db, actor, [ToStore(**fields)], now=now)
    report = db.get(Report, report_id)
    assert report is not None
    return report


def _unclaimed(db: Session, client_id: uuid.UUID) -> uuid.UUID:
    """The client's id unless another report already holds it (then a random one)."""
    return client_id if db.get(Report, client_id) is None else uuid.uuid4()


def _earlier(db: Session, actor: Viewer, client_id: uuid.UUID, fingerprint: str) -> Report | None:
    earlier = own_earlier_report(db, actor, client_id)
    if earlier is not None and earlier.request_hash != fingerprint:
        raise IdempotencyConflict(report_id=str(client_id))
    return earlier


def do_submit_report(
    db: Session,
    actor: Viewer,
    *,
    report_id: uuid.UUID,
    bundle: Any,
    release_to: Sequence[str],
    tlp: str = DEFAULT_TLP,
    grade: str | None = None,
    now: datetime,
) -> Report:
    """A party's analyst or liaison submits a STIX 2.1 bundle (or a TAXII envelope's
    objects), released to the named organisations, the party itself and the supervisor."""
    policy.require(actor, policy.may_submit(actor), "only a party's analyst or liaison submits")
    submission = Submission(report_id, bundle, tuple(release_to), tlp, grade)
    checked = _submission(bundle, release_to, tlp, grade)
    with atomic(db):
        ((found, _index, earlier),) = _submit_all(db, actor, [(submission, checked)], now=now)
        if earlier is not None:
            return earlier
        report = db.get(Report, found)
        assert report is not None
        return report


@dataclass(frozen=True)
class Submission:
    """One report of a batch: a bundle with its client-chosen id, releasability, TLP and
    grade (as ``do_submit_report`` takes them)."""

    report_id: uuid.UUID
    bundle: Any
    release_to: Sequence[str] = ()
    tlp: str = DEFAULT_TLP
    grade: str | None = None


@dataclass(frozen=True)
class Submitted:
    report_id: uuid.UUID
    log_index: int
    client_id: uuid.UUID
    retried: bool  # an earlier submission with this id: nothing new was written


def do_submit_reports(
    db: Session, actor: Viewer, submissions: Sequence[Submission], *, now: datetime
) -> list[Submitted]:
    """Many bundles at once (``fusioncell intel submit`` with several files): each is checked
    as ``do_submit_report`` checks it and becomes its own report with its own signed entry,
    all in one transaction; one refused bundle refuses the batch (its index is named) and
    nothing is written. A retried batch returns the first reports."""
    prepared = prepare_submissions(actor, submissions)
    with atomic(db):
        return submit_prepared(db, actor, prepared, now=now)


@dataclass(frozen=True)
class Prepared:
    """Submissions checked before any transaction (``prepare_submissions``)."""

    items: list[tuple[Submission, _Checked]]


def prepare_submissions(actor: Viewer, submissions: Sequence[Submission]) -> Prepared:
    """The first step of ``do_submit_reports``, shared with actions that submit inside their
    own transaction (TAXII's ``do_add_objects``): the permission, then each bundle validated,
    graded and fingerprinted; a refusal names the bundle when there are several."""
    policy.require(actor, policy.may_submit(actor), "only a party's analyst or liaison submits")
    if not submissions:
        raise InvalidInput("give at least one bundle")
    if len(submissions) > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH} bundles", limit=MAX_BATCH)
    checked = []
    for index, submission in enumerate(submissions):
        try:
            checked.append(
                (
                    submission,
                    _submission(
                        submission.bundle, submission.release_to, submission.tlp, submission.grade
                    ),
                )
            )
        except (InvalidInput, PayloadTooLarge) as refusal:
            if len(submissions) == 1:
                raise
            raise type(refusal)(
                f"bundle {index}: {refusal.detail}", submission=index, **refusal.extensions
            ) from None
    return Prepared(checked)


def submit_prepared(
    db: Session, actor: Viewer, prepared: Prepared, *, now: datetime
) -> list[Submitted]:
    """The second step, inside the caller's action transaction (not an action): the reports,
    their entries and rows."""
    done = _submit_all(db, actor, prepared.items, now=now)
    return [
        Submitted(
            report_id=report_id,
            log_index=log_index,
            client_id=submission.report_id,
            retried=earlier is not None,
        )
        for (submission, _checked), (report_id, log_index, earlier) in zip(
            prepared.items, done, strict=True
        )
    ]


def _submit_all(
    db: Session,
    actor: Viewer,
    checked: Sequence[tuple[Submission, _Checked]],
    *,
    now: datetime,
) -> list[tuple[uuid.UUID, int, Report | None]]:
    """Inside the caller's transaction: each submission's report id and log index, and the
    earlier report for a retried one (nothing written for it). Audiences, retries, stored versions and taken
    ids are looked up once for the whole batch."""
    client_ids = [submission.report_id for submission, _ in checked]
    earlier = own_earlier_reports(db, actor, client_ids)
    taken = reports_with_ids(db, client_ids)
    known = organisations(db, actor)
    audiences: dict[tuple[str, ...], Audience] = {}
    first: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}  # client id -> fingerprint, report id
    hashes: dict[str, str] = {}
    fresh: list[dict[str, Any]] = []
    results: list[tuple[uuid.UUID, Report | None]] = []  # report id, earlier report
    to_store: list[ToStore] = []
    for submission, found in checked:
        client_id = submission.report_id
        if (before := earlier.get(client_id)) is not None:
            if before.request_hash != found.fingerprint:
                raise IdempotencyConflict(report_id=str(client_id))
            results.append((before.id, before))
            continue
        if (again := first.get(client_id)) is not None:  # twice in this batch
            if again[0] != found.fingerprint:
                raise IdempotencyConflict(report_id=str(client_id))
            results.append((again[1], None))
            continue
        key = tuple(submission.release_to)
        release = audiences.get(key)
        if release is None:
            release = audiences[key] = _audience(db, actor, key, known=known)
        for version, content_hash in found.hashes.items():
            if hashes.setdefault(version, content_hash) != content_hash:
                stix_id, modified = version.split("\n", 1)
                raise Conflict(
                    f"{stix_id} version {modified} is in this batch twice with other content",
                    object=stix_id,
                    modified=modified,
                )
        fresh.extend(found.objects)
        report_id = uuid.uuid4() if client_id in taken else client_id
        first[client_id] = (found.fingerprint, report_id)
        to_store.append(
            ToStore(
                entry_type=IntelEntry.REPORT_SUBMITTED,
                kind=ReportKind.REPORT,
                report_id=report_id,
                client_id=client_id,
                objects=stix.mark(
                    found.objects,
                    tlp=_check_tlp(submission.tlp),
                    organisations=release.slugs,
                    grade=found.grade,
                ),
                release=release,
                tlp=submission.tlp,
                grade=found.grade,
                fingerprint=found.fingerprint,
                hashes=found.hashes,
            )
        )
        results.append((report_id, None))
    _check_versions(db, actor.organisation_id, fresh, hashes)
    indexes = dict(store_reports(db, actor, to_store, now=now))
    return [
        (report_id, before.log_index if before is not None else indexes[report_id], before)
        for report_id, before in results
    ]


@dataclass(frozen=True)
class Observation:
    """The common case: something seen at a place and time, described in words."""

    title: str
    description: str
    latitude: float
    longitude: float
    observed_at: datetime
    place: str = ""


def _check_observation(observation: Observation) -> None:
    errors = []
    if not observation.title.strip() or len(observation.title) > 300:
        errors.append({"field": "title", "message": "a title of 1 to 300 characters"})
    if not observation.description.strip() or len(observation.description) > MAX_TEXT:
        errors.append(
            {"field": "description", "message": f"a description of 1 to {MAX_TEXT} characters"}
        )
    if not -90 <= observation.latitude <= 90 or not -180 <= observation.longitude <= 180:
        errors.append({"field": "location", "message": "a latitude and longitude on Earth"})
    if len(observation.place) > 200:
        errors.append({"field": "place", "message": "at most 200 characters"})
    if errors:
        raise InvalidInput("the observation is incomplete: " + errors[0]["message"], errors=errors)


def do_submit_observation(
    db: Session,
    actor: Viewer,
    *,
    report_id: uuid.UUID,
    observation: Observation,
    release_to: Sequence[str],
    tlp: str = DEFAULT_TLP,
    grade: str,
    now: datetime,
) -> Report:
    """The common case built into STIX for the member: the party as the source, the place,
    the observation and a note of what was seen."""
    policy.require(actor, policy.may_submit(actor), "only a party's analyst or liaison submits")
    _check_observation(observation)
    checked_grade = stix.parse_grade(grade)
    fingerprint = _fingerprint(
        "observation",
        [
            observation.title,
            observation.description,
            str(observation.latitude),
            str(observation.longitude),
            stix.stix_time(observation.observed_at),
            observation.place,
        ],
        sorted(set(release_to)),
        tlp,
        str(checked_grade),
    )
    with atomic(db):
        if (earlier := _earlier(db, actor, report_id, fingerprint)) is not None:
            return earlier
        release = _audience(db, actor, release_to)
        own = next(o for o in release.organisations if o.id == actor.organisation_id)
        objects = stix.observation(
            source=stix.organisation_identity(own.id, own.name),
            title=observation.title,
            description=observation.description,
            latitude=observation.latitude,
            longitude=observation.longitude,
            place=observation.place,
            observed_at=observation.observed_at,
            now=now,
        )
        marked = stix.mark(
            objects, tlp=_check_tlp(tlp), organisations=release.slugs, grade=checked_grade
        )
        return _store(
            db,
            actor,
            entry_type=IntelEntry.REPORT_SUBMITTED,
            kind=ReportKind.REPORT,
            report_id=_unclaimed(db, report_id),
            client_id=report_id,
            objects=marked,
            release=release,
            tlp=tlp,
            grade=checked_grade,
            fingerprint=fingerprint,
            hashes=_check_versions(db, actor.organisation_id, objects),
            now=now,
        )


def do_release_report(
    db: Session,
    actor: Viewer,
    *,
    release_id: uuid.UUID,
    report_id: uuid.UUID,
    release_to: Sequence[str],
    sanitisation: stix.Sanitisation = stix.Sanitisation(),
    tlp: str | None = None,
    now: datetime,
) -> Report:
    """Release a report further as a new, derived report: new ids, perhaps sanitised (the
    chosen properties redacted, coordinates coarsened, the source made "a party of the
    cell", objects dropped), with a granular marking on what changed. The supervisor
    releases any report it reads; a party only its own. The original keeps its audience."""
    fingerprint = _fingerprint(
        "release",
        str(report_id),
        sorted(set(release_to)),
        sorted(sanitisation.redact),
        sanitisation.grid_km,
        sanitisation.anonymise_source,
        sorted(sanitisation.drop),
        tlp,
    )
    if sanitisation.grid_km is not None and not 0.1 <= sanitisation.grid_km <= 500:
        raise InvalidInput(
            "the grid is between 0.1 and 500 km",
            errors=[{"field": "grid_km", "message": "between 0.1 and 500"}],
        )
    with atomic(db):
        original = get_report(db, actor, report_id)  # 404 if not released to the actor
        policy.require(
            actor,
            policy.may_release(actor, original.author_organisation_id),
            "only the supervisor, or the report's own party, releases a report",
        )
        if (earlier := _earlier(db, actor, release_id, fingerprint)) is not None:
            return earlier
        if original.kind == ReportKind.RESPONSE:
            raise InvalidInput("a response is released with its report, not on its own")
        release = _audience(db, actor, release_to, always=[original.author_organisation_id])
        objects = original.bundle["objects"]
        unknown = sanitisation.drop - {str(o.get("id")) for o in objects}
        if unknown:
            raise InvalidInput(
                "drop only objects of the report",
                errors=[
                    {"field": "drop", "message": f"not in the report: {u}"} for u in sorted(unknown)
                ],
            )
        sources = [original.source_ref] if original.source_ref else []
        sanitised = stix.sanitise(objects, sanitisation, source_ids=sources, now=now)
        if not [o for o in sanitised.objects if o.get("type") != "marking-definition"]:
            raise InvalidInput("nothing would be left to release")
        try:
            stix.validate(sanitised.objects, max_objects=MAX_OBJECTS)
        except InvalidInput as error:
            raise InvalidInput(
                "the sanitised report would not be valid STIX: " + error.detail,
                **error.extensions,
            ) from None
        level = _check_tlp(tlp or original.tlp)
        grade = (
            stix.Grade(original.reliability, original.credibility)
            if original.reliability and original.credibility
            else None
        )
        marked = stix.mark(sanitised.objects, tlp=level, organisations=release.slugs, grade=grade)
        return _store(
            db,
            actor,
            entry_type=IntelEntry.REPORT_RELEASED,
            kind=ReportKind.DERIVED,
            report_id=_unclaimed(db, release_id),
            client_id=release_id,
            objects=marked,
            release=release,
            tlp=level,
            grade=grade,
            fingerprint=fingerprint,
            hashes=_check_versions(db, actor.organisation_id, sanitised.objects),
            derived_from=original,
            extra={
                "derived_from_index": original.log_index,
                "sanitisation": {
                    "redact": sorted(sanitisation.redact),
                    "grid_km": sanitisation.grid_km,
                    "anonymise_source": sanitisation.anonymise_source,
                    "drop": sorted(sanitisation.drop),
                },
                "changes": sanitised.changes,
            },
            now=now,
        )


def do_respond_to_report(
    db: Session,
    actor: Viewer,
    *,
    response_id: uuid.UUID,
    report_id: uuid.UUID,
    opinion: str | None = None,
    explanation: str = "",
    sighting_of: str | None = None,
    seen_at: datetime | None = None,
    now: datetime,
) -> Report:
    """An organisation that received a report answers it: an opinion (strongly-disagree ...
    strongly-agree, with an explanation) or a sighting, released to the report's audience."""
    fingerprint = _fingerprint(
        "response", str(report_id), opinion, explanation, sighting_of,
        stix.stix_time(seen_at) if seen_at else None,
    )  # fmt: skip
    if (opinion is None) == (sighting_of is None):
        raise InvalidInput("give either an opinion or a sighting")
    if len(explanation) > MAX_TEXT:
        raise InvalidInput(f"the explanation may be at most {MAX_TEXT} characters")
    if opinion is not None and not explanation.strip():
        raise InvalidInput(
            "an opinion needs an explanation",
            errors=[{"field": "explanation", "message": "say why"}],
        )
    with atomic(db):
        report = get_report(db, actor, report_id)
        policy.require(actor, policy.may_respond(actor), "your roles do not answer reports")
        if (earlier := _earlier(db, actor, response_id, fingerprint)) is not None:
            return earlier
        if report.kind == ReportKind.RESPONSE:
            raise InvalidInput("answer the report, not a response to it")
        own = next(o for o in organisations(db, actor) if o.id == actor.organisation_id)
        author = stix.organisation_identity(own.id, own.name)
        about = [
            str(o["id"])
            for o in report.bundle["objects"]
            if o.get("type") not in ("marking-definition", "identity")
        ][:100]
        if opinion is not None:
            objects = stix.opinion(
                author=author, value=opinion, explanation=explanation, about=about, now=now
            )
        else:
            if sighting_of not in about:
                raise InvalidInput(
                    "a sighting is of one of the report's objects",
                    errors=[{"field": "sighting_of", "message": "not an object of the report"}],
                )
            objects = stix.sighting(
                author=author,
                of=str(sighting_of),
                description=explanation,
                seen_at=seen_at or now,
                now=now,
            )
        stix.validate(objects, max_objects=MAX_OBJECTS)
        release_rows = db.scalars(
            select(Release.organisation_id).where(Release.report_id == report.id)
        ).all()
        by_id = {o.id: o for o in organisations(db, actor)}
        release = Audience(sorted((by_id[i] for i in release_rows), key=lambda o: o.slug))
        marked = stix.mark(objects, tlp=report.tlp, organisations=release.slugs, grade=None)
        return _store(
            db,
            actor,
            entry_type=IntelEntry.REPORT_RESPONDED,
            kind=ReportKind.RESPONSE,
            report_id=_unclaimed(db, response_id),
            client_id=response_id,
            objects=marked,
            release=release,
            tlp=report.tlp,
            grade=None,
            fingerprint=fingerprint,
            hashes=_check_versions(db, actor.organisation_id, objects),
            responds_to=report,
            extra={"responds_to_index": report.log_index},
            now=now,
        )

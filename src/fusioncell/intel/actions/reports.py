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

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput, PayloadTooLarge
from fusioncell.intel import policy, stix
from fusioncell.intel.entries import IntelEntry
from fusioncell.intel.events import emit_intel
from fusioncell.intel.models import Release, Report, ReportKind, StixObject
from fusioncell.intel.queries import get_report, organisations, own_earlier_report
from fusioncell.ledger.entries import audience, canonical
from fusioncell.ledger.record import record

# Limits on what one report may hold.
MAX_BUNDLE_BYTES = 2_000_000
MAX_OBJECTS = 2_000
MAX_TEXT = 20_000
DEFAULT_TLP = "amber"


@dataclass(frozen=True)
class Audience:
    organisations: list[Organisation]

    @property
    def ids(self) -> list[uuid.UUID]:
        return [o.id for o in self.organisations]

    @property
    def slugs(self) -> list[str]:
        return sorted(o.slug for o in self.organisations)


def _audience(
    db: Session, actor: Viewer, release_to: Iterable[str], *, always: Iterable[uuid.UUID] = ()
) -> Audience:
    """The named organisations (by slug), with the actor's own, the supervisor's and
    ``always`` added; an unknown name is refused."""
    known = {o.slug: o for o in organisations(db, actor)}
    by_id = {o.id: o for o in known.values()}
    chosen: dict[uuid.UUID, Organisation] = {}
    unknown = []
    for name in release_to:
        name = name.strip()
        if not name:
            continue
        found = known.get(name) or known.get(name.upper())
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
            organisations=sorted(known),
        )
    for organisation_id in (actor.organisation_id, *always):
        chosen[organisation_id] = by_id[organisation_id]
    for organisation in known.values():
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


def _check_size(data: Any) -> None:
    size = len(canonical(data)) if not isinstance(data, bytes | str) else len(data)
    if size > MAX_BUNDLE_BYTES:
        raise PayloadTooLarge(
            f"a report may be at most {MAX_BUNDLE_BYTES} bytes", limit=MAX_BUNDLE_BYTES
        )


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(canonical(list(parts))).hexdigest()


def _version_key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["id"]), str(item.get("modified") or item.get("created") or "")


def _content_hash(item: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(item)).hexdigest()


def _check_versions(
    db: Session, organisation_id: uuid.UUID, objects: Sequence[dict[str, Any]]
) -> dict[str, str]:
    """Each object's content hash (as submitted, before marking), refusing a version (id and
    ``modified``) the organisation already stored with other content."""
    hashes = {
        str(item["id"]) + "\n" + _version_key(item)[1]: _content_hash(item) for item in objects
    }
    keys = [_version_key(item) for item in objects if item.get("type") != "marking-definition"]
    if keys:
        for stix_id, modified, content_hash in db.execute(
            select(StixObject.stix_id, StixObject.modified, StixObject.content_hash).where(
                StixObject.author_organisation_id == organisation_id,
                tuple_(StixObject.stix_id, StixObject.modified).in_(keys),
            )
        ):
            if hashes.get(stix_id + "\n" + modified, content_hash) != content_hash:
                raise Conflict(
                    f"{stix_id} version {modified} is already stored with other content: a "
                    "new version needs a newer 'modified'",
                    object=stix_id,
                    modified=modified,
                )
    return hashes


def _source_of(objects: Sequence[dict[str, Any]]) -> str | None:
    """The source: the identity the report's objects are created by (the most cited)."""
    identities = {o["id"] for o in objects if o.get("type") == "identity"}
    cited: dict[str, int] = {}
    for item in objects:
        ref = item.get("created_by_ref")
        if isinstance(ref, str) and ref in identities:
            cited[ref] = cited.get(ref, 0) + 1
    if cited:
        return max(sorted(cited), key=lambda ref: cited[ref])
    return None


def report_body(
    *,
    report_id: uuid.UUID,
    kind: ReportKind,
    author_organisation: uuid.UUID,
    released_to: list[str],
    tlp: str,
    grade: stix.Grade | None,
    objects: list[dict[str, Any]],
    fingerprint: str,
    derived_from: uuid.UUID | None = None,
    responds_to: uuid.UUID | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of a report's entry: what its author signs (a client with its own key builds
    the same body, ``submission_body``), holding the bundle as released."""
    return {
        "report": str(report_id),
        "kind": kind.value,
        "author_organisation": str(author_organisation),
        "released_to": released_to,
        "tlp": tlp,
        "grade": str(grade) if grade else None,
        "source": _source_of(objects),
        "derived_from": str(derived_from) if derived_from else None,
        "responds_to": str(responds_to) if responds_to else None,
        "request": fingerprint,
        **(extra or {}),
        "bundle": {"type": "bundle", "id": f"bundle--{report_id}", "objects": objects},
    }


def _submission(
    bundle: Any, release_to: Sequence[str], tlp: str, grade: str | None
) -> tuple[list[dict[str, Any]], stix.Grade | None, str]:
    """A submitted bundle's objects (validated), its grade and the request's fingerprint."""
    _check_size(bundle)
    objects = stix.objects_of(bundle)
    stix.validate(objects, max_objects=MAX_OBJECTS)
    checked_grade = stix.parse_grade(grade) if grade else None
    fingerprint = _fingerprint(
        "bundle", objects, sorted(set(release_to)), tlp, str(checked_grade or "")
    )
    return objects, checked_grade, fingerprint


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
    objects, checked_grade, fingerprint = _submission(bundle, release_to, tlp, grade)
    slugs = sorted(set(released_to))
    return report_body(
        report_id=report_id,
        kind=ReportKind.REPORT,
        author_organisation=author_organisation,
        released_to=slugs,
        tlp=tlp,
        grade=checked_grade,
        objects=stix.mark(objects, tlp=_check_tlp(tlp), organisations=slugs, grade=checked_grade),
        fingerprint=fingerprint,
    )


def _store(
    db: Session,
    actor: Viewer,
    *,
    entry_type: IntelEntry,
    kind: ReportKind,
    report_id: uuid.UUID,
    client_id: uuid.UUID,
    objects: list[dict[str, Any]],
    release: Audience,
    tlp: str,
    grade: stix.Grade | None,
    fingerprint: str,
    hashes: dict[str, str],
    derived_from: Report | None = None,
    responds_to: Report | None = None,
    extra: dict[str, Any] | None = None,
    now: datetime,
) -> Report:
    summary = stix.summarise(objects)
    source = _source_of(objects)
    body = report_body(
        report_id=report_id,
        kind=kind,
        author_organisation=actor.organisation_id,
        released_to=release.slugs,
        tlp=tlp,
        grade=grade,
        objects=objects,
        fingerprint=fingerprint,
        derived_from=derived_from.id if derived_from else None,
        responds_to=responds_to.id if responds_to else None,
        extra=extra,
    )
    bundle = body["bundle"]
    appended = record(
        db,
        author_of(actor),
        entry_type,
        body,
        audience=audience(organisations=release.ids),
        now=now,
    )
    bbox = summary.bbox
    report = Report(
        id=report_id,
        client_id=client_id,
        kind=kind.value,
        author_id=actor.member_id,
        author_organisation_id=actor.organisation_id,
        derived_from=derived_from.id if derived_from else None,
        responds_to=responds_to.id if responds_to else None,
        title=summary.title or kind.value,
        tlp=tlp,
        reliability=grade.reliability if grade else None,
        credibility=grade.credibility if grade else None,
        source_ref=source,
        opinion=summary.opinion if kind == ReportKind.RESPONSE else None,
        bundle=bundle,
        request_hash=fingerprint,
        search_text=summary.text[:100_000],
        observed_at=summary.observed_at or appended.logged_at,
        west=bbox[0] if bbox else None,
        south=bbox[1] if bbox else None,
        east=bbox[2] if bbox else None,
        north=bbox[3] if bbox else None,
        log_index=appended.index,
        leaf_hash=appended.leaf_hash,
        submitted_at=appended.logged_at,
    )
    if db.get_bind().dialect.name == "postgresql":
        report.search_vector = func.to_tsvector("simple", report.search_text)
    db.add(report)
    db.flush()  # the report, then the rows that point at it (no ORM relationships order them)
    db.add_all(Release(report_id=report_id, organisation_id=o) for o in release.ids)
    # One INSERT for all the report's object versions (executemany), not one unit-of-work
    # object each.
    rows = []
    for item in objects:
        key = _version_key(item)
        located = item.get("type") == "location"
        rows.append(
            {
                "id": uuid.uuid4(),
                "report_id": report_id,
                "author_organisation_id": actor.organisation_id,
                "stix_id": key[0],
                "stix_type": str(item["type"]),
                "spec_version": stix.spec_version_of(item),
                "modified": key[1],
                "content_hash": hashes.get(key[0] + "\n" + key[1], _content_hash(item)),
                "body": item,
                "date_added": appended.logged_at,
                "latitude": item.get("latitude") if located else None,
                "longitude": item.get("longitude") if located else None,
            }
        )
    db.execute(insert(StixObject), rows)
    db.flush()
    emit_intel(db, report, now=now)
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
    objects, checked_grade, fingerprint = _submission(bundle, release_to, tlp, grade)
    with atomic(db):
        if (earlier := _earlier(db, actor, report_id, fingerprint)) is not None:
            return earlier
        release = _audience(db, actor, release_to)
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

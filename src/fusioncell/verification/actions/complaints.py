"""Evidence files and complaints (issue 13, items 1 and 4).

- Evidence is stored by its SHA-256, within the rules' size and types; its entry holds the
  hash, size, type and what its EXIF says (never the bytes) and is released to the storing
  organisation, which may then attach it to a complaint. Storing the same file again is the
  first result.
- A party's liaison officer, the verifier or the humanitarian organisation files a complaint:
  what is alleged, against which party (or an unknown one), the rule or commitment concerned,
  the place (an RFC 7946 Point) and time, links to what the filer may see and files it
  stored. A de-escalation violation candidate becomes a complaint in one step. The case is
  released to both parties, the supervisor, the verifier and the filer's organisation; the
  supervisor's triage is due within the rules' hours of its filing.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deescalation import queries as deescalation
from fusioncell.deescalation.queries import directory
from fusioncell.errors import IdempotencyConflict, InvalidInput, PayloadTooLarge
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_
from fusioncell.verification.actions.common import past_time, point, released_ids, text
from fusioncell.verification.entries import VerificationEntry
from fusioncell.verification.events import EventKind, emit_verification
from fusioncell.verification.exif import read_exif
from fusioncell.verification.models import (
    Case,
    CaseEvidence,
    CaseState,
    CaseStep,
    EvidenceFile,
    EvidenceHolder,
)
from fusioncell.verification.policy import may_file, may_store_evidence, require
from fusioncell.verification.queries.cases import (
    SHARED_KINDS,
    case_id_taken,
    find_own_case,
    next_number,
    rules_in_force,
)
from fusioncell.verification.queries.evidence import find_file, find_holder, held_by
from fusioncell.verification.queries.links import KINDS, find_candidate, link_visible

_NOT_FILER = N_(
    "A complaint is filed by a party's liaison officer, the verifier or the humanitarian "
    "organisation."
)
_NOT_STORER = N_("Evidence is stored by those who file complaints or investigate them.")
_TOO_LARGE = N_("An evidence file may be at most %(limit)s bytes.")
_BAD_TYPE = N_("An evidence file is one of %(types)s.")
_NOT_THAT_TYPE = N_("The file's content is not of the type it names.")
_EMPTY = N_("The evidence file is empty.")
_NOT_PARTY = N_("A complaint is against a party of the cell, or against an unknown party.")
_BAD_LINK = N_("A link is one of %(kinds)s with the id of something you may see.")
_NO_SUCH_LINK = N_("Link %(position)s names nothing you may see.")
_TOO_MANY_LINKS = N_("At most %(limit)s links.")
_TOO_MANY_FILES = N_("At most %(limit)s evidence files.")
_NO_SUCH_EVIDENCE = N_("Evidence %(sha256)s is not a file your organisation stored.")
_NO_SUCH_CANDIDATE = N_("No violation candidate with this key is shown to you now.")
_NEED_PLACE = N_("Give the place and time of what is alleged.")

_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}


def _check_content(content: bytes, media_type: str) -> None:
    magic = _MAGIC.get(media_type)
    if magic is not None and not content.startswith(magic):
        raise InvalidInput(_NOT_THAT_TYPE, field="type")
    if media_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(_NOT_THAT_TYPE, field="type") from None


def do_store_evidence(
    db: Session, actor: Viewer, content: bytes, *, media_type: str, now: datetime
) -> EvidenceFile:
    require(actor, may_store_evidence(actor), _NOT_STORER)
    rules = rules_in_force(db)
    if len(content) > rules.max_evidence_bytes:
        limit = rules.max_evidence_bytes
        raise PayloadTooLarge(N_(_TOO_LARGE, limit=limit), limit=limit)
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind not in rules.evidence_types:
        types = list(rules.evidence_types)
        raise InvalidInput(N_(_BAD_TYPE, types=", ".join(types)), field="type", types=types)
    if not content:
        raise InvalidInput(_EMPTY, field="file")
    _check_content(content, kind)
    sha256 = hashlib.sha256(content).hexdigest()
    exif = read_exif(content) if kind == "image/jpeg" else None
    dir_ = directory(db, actor)
    own = dir_.by_id[actor.organisation_id]
    with atomic(db):
        existing = find_file(db, sha256)
        if existing is not None and find_holder(db, actor, sha256) is not None:
            return existing
        at = log_clock(db, now=now)
        appended = record(
            db,
            author_of(actor),
            VerificationEntry.EVIDENCE_STORED,
            {
                "sha256": sha256,
                "size": len(content),
                "type": existing.media_type if existing is not None else kind,
                "exif": existing.exif if existing is not None else exif,
                "organisation": own.slug,
                "member": str(actor.member_id),
                "released_to": [own.slug],
            },
            audience=audience(organisations=[own.id]),
            now=at,
        )
        if existing is None:
            existing = EvidenceFile(
                sha256=sha256, media_type=kind, size=len(content), content=content, exif=exif
            )
            db.add(existing)
            db.flush()
        db.add(
            EvidenceHolder(
                sha256=sha256,
                organisation_id=own.id,
                member_id=actor.member_id,
                log_index=appended.index,
                stored_at=appended.logged_at,
            )
        )
        emit_verification(
            db,
            EventKind.EVIDENCE,
            subject=sha256,
            log_index=appended.index,
            payload={"sha256": sha256},
            now=at,
        )
    return existing


def _links(
    db: Session, actor: Viewer, links: list[dict[str, Any]], *, limit: int, now: datetime
) -> list[dict[str, str]]:
    if len(links) > limit:
        raise InvalidInput(N_(_TOO_MANY_LINKS, limit=limit), field="links", limit=limit)
    found: list[dict[str, str]] = []
    for position, link in enumerate(links):
        kind, ident = link.get("kind"), link.get("id")
        if kind not in KINDS or not isinstance(ident, str) or not 0 < len(ident) <= 200:
            raise InvalidInput(
                N_(_BAD_LINK, kinds=", ".join(KINDS)),
                field="links",
                position=position,
                kinds=list(KINDS),
            )
        if not link_visible(db, actor, kind, ident, now=now):
            raise InvalidInput(
                N_(_NO_SUCH_LINK, position=position), field="links", position=position
            )
        if {"kind": kind, "id": ident} not in found:
            found.append({"kind": kind, "id": ident})
    return found


def _from_candidate(
    db: Session, actor: Viewer, key: str, *, now: datetime
) -> tuple[dict[str, Any], tuple[float, float], datetime]:
    """The candidate as the filer sees it, and where and when its latest observation was."""
    candidate = find_candidate(db, actor, key, now=now)
    if candidate is None:
        raise InvalidInput(_NO_SUCH_CANDIDATE, field="candidate")
    ids = set(candidate["observations"])
    rows = [r for r in deescalation.list_observations(db, actor, until=now) if str(r.id) in ids]
    if not rows:
        raise InvalidInput(_NO_SUCH_CANDIDATE, field="candidate")
    latest = max(rows, key=lambda r: (r.observed_at, str(r.id)))
    return candidate, (latest.lon, latest.lat), latest.observed_at


def do_file_complaint(
    db: Session,
    actor: Viewer,
    *,
    case_id: uuid.UUID,
    allegation: str | None,
    against: str | None,
    rule: str | None,
    location: Any,
    occurred_at: datetime | None,
    links: list[dict[str, Any]] | None = None,
    evidence: list[str] | None = None,
    candidate: str | None = None,
    now: datetime,
) -> Case:
    require(actor, may_file(actor), _NOT_FILER)
    rules = rules_in_force(db)
    dir_ = directory(db, actor)
    found_candidate = None
    if candidate is not None:
        found_candidate, place, seen_at = _from_candidate(db, actor, candidate, now=now)
        against = against if against is not None else found_candidate["party"]
        rule = rule or found_candidate["rule"]
        allegation = allegation or (
            f"{found_candidate['rule']}: {found_candidate['party']} {found_candidate['category']}"
            f" in {found_candidate['zone']}, {found_candidate['measure']} "
            f"{found_candidate['value']} against a limit of {found_candidate['limit']}"
        )
        lon, lat = point(location) if location is not None else place
        when = past_time(occurred_at, field="occurred_at", now=now) if occurred_at else seen_at
    else:
        if location is None or occurred_at is None:
            raise InvalidInput(_NEED_PLACE, field="location" if location is None else "occurred_at")
        lon, lat = point(location)
        when = past_time(occurred_at, field="occurred_at", now=now)
    if against in ("", "unknown"):
        against = None
    if against is not None and against not in dir_.parties():
        raise InvalidInput(_NOT_PARTY, field="against", parties=dir_.parties())
    said = text(allegation, field="allegation", limit=rules.max_text_chars)
    rule_text = text(rule, field="rule", limit=rules.max_rule_chars)
    linked = _links(db, actor, list(links or []), limit=rules.max_links, now=now)
    if found_candidate is not None:
        extra = [{"kind": "candidate", "id": candidate or ""}] + [
            {"kind": "observation", "id": o} for o in found_candidate["observations"]
        ]
        linked += [link for link in extra if link not in linked]
    hashes = list(dict.fromkeys(evidence or []))
    if len(hashes) > rules.max_evidence:
        limit = rules.max_evidence
        raise InvalidInput(N_(_TOO_MANY_FILES, limit=limit), field="evidence", limit=limit)
    files = held_by(db, actor, hashes)
    for sha256 in hashes:
        if sha256 not in files:
            raise InvalidInput(
                N_(_NO_SUCH_EVIDENCE, sha256=sha256[:64]), field="evidence", sha256=sha256[:64]
            )
    attached = [{"sha256": h, "size": files[h].size, "type": files[h].media_type} for h in hashes]
    own = dir_.by_id[actor.organisation_id]
    released = sorted(
        {o.slug for o in dir_.by_slug.values() if o.kind in SHARED_KINDS} | {own.slug}
    )
    fields = (said, against, rule_text, lon, lat, when, linked, attached)
    with atomic(db):
        earlier = find_own_case(db, actor.member_id, case_id)
        if earlier is not None:
            recorded = (
                earlier.allegation,
                dir_.by_id[earlier.against_id].slug if earlier.against_id else None,
                earlier.rule,
                earlier.lon,
                earlier.lat,
                earlier.occurred_at,
                earlier.links,
                earlier.evidence,
            )
            if recorded != fields:
                raise IdempotencyConflict(case_id=str(case_id))
            return earlier
        at = log_clock(db, now=now)
        case = Case(
            id=case_id if not case_id_taken(db, case_id) else uuid.uuid4(),
            client_id=case_id,
            number=next_number(db),
            filed_by=actor.member_id,
            organisation_id=own.id,
            against_id=dir_.by_slug[against].id if against else None,
            rule=rule_text,
            allegation=said,
            lon=lon,
            lat=lat,
            occurred_at=when,
            links=linked,
            evidence=attached,
            candidate=found_candidate,
            released_to=released,
            ladder=rules.ladder_terms(),
            state=CaseState.FILED,
            log_index=-1,
            filed_at=at,
            triage_due_at=at + rules.triage,
        )
        appended = record(
            db,
            author_of(actor),
            VerificationEntry.COMPLAINT_FILED,
            {
                "case": str(case.id),
                "number": case.number,
                "organisation": own.slug,
                "member": str(actor.member_id),
                "against": against,
                "rule": rule_text,
                "allegation": said,
                "location": {"type": "Point", "coordinates": [lon, lat]},
                "occurred_at": log_time(when),
                "links": linked,
                "evidence": attached,
                "candidate": found_candidate,
                "triage_due_at": log_time(case.triage_due_at),
                "ladder": case.ladder,
                "state": case.state,
                "released_to": released,
            },
            audience=audience(organisations=released_ids(dir_, released)),
            now=at,
        )
        case.log_index = appended.index
        case.filed_at = appended.logged_at
        db.add(case)
        db.flush()
        db.add_all([CaseEvidence(case_id=case.id, sha256=h) for h in hashes])
        db.add(
            CaseStep(
                log_index=appended.index,
                case_id=case.id,
                kind=VerificationEntry.COMPLAINT_FILED.value,
                member_id=actor.member_id,
                organisation_id=own.id,
                client_id=None,
                at=appended.logged_at,
            )
        )
        emit_verification(
            db,
            EventKind.CASE,
            subject=str(case.id),
            log_index=appended.index,
            payload={"case": str(case.id), "step": "filed", "state": case.state},
            now=at,
        )
    return case

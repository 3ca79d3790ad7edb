"""The registry of protected places and the no-strike lists (issue 12, item 4).

Any organisation proposes a site or a community (its lead: a party's liaison officer, the
supervisor, the verifier, a host or humanitarian observer); it is in force once each party's
liaison officer and the supervisor have signed it, each signature an entry of its own, so the
log shows who consented and when. Each party's no-strike list, the places in force as sent
to it, goes out weekly (by the log's key, ``NoStrikeSender``) or on the supervisor's demand;
the party's focal point, its liaison officer, acknowledges receipt by a signed entry.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction.entries import ProtectionEntry
from fusioncell.deconfliction.models.registry import (
    NoStrikeList,
    PlaceKind,
    PlaceSignature,
    ProtectedPlace,
)
from fusioncell.deconfliction.protection import (
    ProtectionRules,
    checked_geometry,
    deconfliction_rules,
    is_party_officer,
    is_supervisor,
    may_sign_places,
    metric,
    protection_rules,
    require,
    speaks_for_organisation,
)
from fusioncell.deconfliction.protection_events import ProtectionEvent, emit_protection
from fusioncell.deconfliction.queries.registry import (
    Directory,
    directory,
    find_own_place,
    get_no_strike_list,
    get_place,
    no_strike_places,
    parties_sent,
    place_id_taken,
    signatures_of,
    signed_by_organisation,
)
from fusioncell.errors import IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import audience, canonical, log_time
from fusioncell.ledger.record import ByLog, record
from fusioncell.text import N_

_NOT_PROPOSER = N_("Only an organisation's lead member proposes a protected place.")
_NOT_SIGNATORY = N_("Only a party's liaison officer or the supervisor signs a protected place.")
_NOT_FOCAL_POINT = N_("Only the party's liaison officer acknowledges its no-strike list.")
_NOT_SENDER = N_("Only the supervisor sends the no-strike lists on demand.")
_BAD_KIND = N_("The kind is one of %(kinds)s.")
_BAD_NAME = N_("A protected place needs a name of at most %(limit)s characters.")
_NEEDS_POPULATION = N_(
    "A community names the population group it protects, in at most %(limit)s characters."
)
_SITE_POPULATION = N_("A site names no population group; a community does.")
_TOO_LARGE = N_("A community's area may be at most %(limit)s km².")
_BAD_BUFFER = N_("The buffer is a whole number of metres from 0 to %(limit)s.")
_NOTE_TOO_LONG = N_("The note may be at most %(limit)s characters.")


def _released_to(dir_: Directory) -> tuple[list[str], dict[str, Any]]:
    """Every organisation of the cell: the registry is shared with all of them."""
    everyone = dir_.everyone()
    return [o.slug for o in everyone], audience(organisations=[o.id for o in everyone])


def _check_place(
    db: Session,
    *,
    kind: str,
    name: str,
    geometry: Any,
    population: str | None,
    buffer_m: int | None,
    note: str,
    rules: ProtectionRules,
) -> tuple[str, str | None]:
    if kind not in {k.value for k in PlaceKind}:
        raise InvalidInput(
            N_(_BAD_KIND, kinds=", ".join(PlaceKind)), field="kind", kinds=list(PlaceKind)
        )
    name = name.strip()
    if not 0 < len(name) <= rules.max_name_chars:
        raise InvalidInput(
            N_(_BAD_NAME, limit=rules.max_name_chars), field="name", limit=rules.max_name_chars
        )
    if kind == PlaceKind.COMMUNITY:
        population = (population or "").strip()
        if not 0 < len(population) <= rules.max_name_chars:
            raise InvalidInput(
                N_(_NEEDS_POPULATION, limit=rules.max_name_chars),
                field="population",
                limit=rules.max_name_chars,
            )
        parsed = checked_geometry(
            geometry,
            ("Polygon", "MultiPolygon"),
            field="geometry",
            max_vertices=rules.max_vertices,
        )
        if metric(db).area_km2(parsed) > rules.max_community_km2:
            raise InvalidInput(
                N_(_TOO_LARGE, limit=rules.max_community_km2),
                field="geometry",
                limit=rules.max_community_km2,
            )
    else:
        if population:
            raise InvalidInput(_SITE_POPULATION, field="population")
        population = None
        checked_geometry(geometry, ("Point",), field="geometry", max_vertices=1)
    largest = deconfliction_rules(db).max_buffer_m
    if buffer_m is not None and (
        isinstance(buffer_m, bool) or not isinstance(buffer_m, int) or not 0 <= buffer_m <= largest
    ):
        raise InvalidInput(N_(_BAD_BUFFER, limit=largest), field="buffer_m", limit=largest)
    if len(note) > rules.max_note_chars:
        raise InvalidInput(
            N_(_NOTE_TOO_LONG, limit=rules.max_note_chars),
            field="note",
            limit=rules.max_note_chars,
        )
    return name, population


def do_propose_place(
    db: Session,
    actor: Viewer,
    *,
    place_id: uuid.UUID,
    kind: str,
    name: str,
    geometry: Any,
    population: str | None = None,
    buffer_m: int | None = None,
    note: str = "",
    now: datetime,
) -> ProtectedPlace:
    """Propose a protected site (a Point) or community (a Polygon): nothing is in force
    until every signatory has signed. A retry with the same id returns the first proposal."""
    require(actor, speaks_for_organisation(actor), _NOT_PROPOSER)
    rules = protection_rules(db)
    name, population = _check_place(
        db,
        kind=kind,
        name=name,
        geometry=geometry,
        population=population,
        buffer_m=buffer_m,
        note=note,
        rules=rules,
    )
    dir_ = directory(db, actor)
    released_to, audience_ = _released_to(dir_)
    with atomic(db):
        earlier = find_own_place(db, actor.member_id, place_id)
        if earlier is not None:
            same = (
                earlier.kind,
                earlier.name,
                earlier.population,
                earlier.geometry,
                earlier.buffer_m,
                earlier.note,
            ) == (kind, name, population, geometry, buffer_m, note)
            if not same:
                raise IdempotencyConflict(place_id=str(place_id))
            return earlier
        object_id = place_id if not place_id_taken(db, place_id) else uuid.uuid4()
        appended = record(
            db,
            author_of(actor),
            ProtectionEntry.PLACE_PROPOSED,
            {
                "place": str(object_id),
                "kind": kind,
                "name": name,
                "population": population,
                "geometry": geometry,
                "buffer_m": buffer_m,
                "note": note,
                "organisation": dir_.slug(actor.organisation_id),
                "member": str(actor.member_id),
                "released_to": released_to,
            },
            audience=audience_,
            now=now,
        )
        place = ProtectedPlace(
            id=object_id,
            client_id=place_id,
            proposed_by=actor.member_id,
            organisation_id=actor.organisation_id,
            kind=kind,
            name=name,
            population=population,
            geometry=geometry,
            buffer_m=buffer_m,
            note=note,
            log_index=appended.index,
            proposed_at=appended.logged_at,
        )
        db.add(place)
        emit_protection(
            db,
            ProtectionEvent.PLACE,
            subject=str(object_id),
            log_index=appended.index,
            payload={"place": str(object_id), "step": "proposed"},
            now=now,
        )
    return place


def do_sign_place(
    db: Session, actor: Viewer, *, place_id: uuid.UUID, now: datetime
) -> PlaceSignature:
    """Sign a proposed place for the actor's organisation; the signature that completes the
    set puts the place in force. A second signature of one organisation returns the first."""
    require(actor, may_sign_places(actor), _NOT_SIGNATORY)
    dir_ = directory(db, actor)
    released_to, audience_ = _released_to(dir_)
    with atomic(db):
        place = get_place(db, actor, place_id)
        if (earlier := signed_by_organisation(db, place.id, actor.organisation_id)) is not None:
            return earlier
        # Under the log's lock, so two signatures at the same moment see each other: one
        # organisation signs once, and exactly one signature completes the set.
        log_clock(db, now=now)
        db.refresh(place)
        if (earlier := signed_by_organisation(db, place.id, actor.organisation_id)) is not None:
            return earlier
        signed = {s.organisation_id for s in signatures_of(db, actor, [place.id])[place.id]}
        completes = place.agreed_log_index is None and dir_.signatories() <= (
            signed | {actor.organisation_id}
        )
        appended = record(
            db,
            author_of(actor),
            ProtectionEntry.PLACE_SIGNED,
            {
                "place": str(place.id),
                "place_index": place.log_index,
                "organisation": dir_.slug(actor.organisation_id),
                "member": str(actor.member_id),
                "agreed": completes,
                "released_to": released_to,
            },
            audience=audience_,
            now=now,
        )
        signature = PlaceSignature(
            place_id=place.id,
            organisation_id=actor.organisation_id,
            member_id=actor.member_id,
            log_index=appended.index,
            signed_at=appended.logged_at,
        )
        db.add(signature)
        if completes:
            place.agreed_log_index = appended.index
            place.agreed_at = appended.logged_at
        emit_protection(
            db,
            ProtectionEvent.PLACE,
            subject=str(place.id),
            log_index=appended.index,
            payload={
                "place": str(place.id),
                "step": "agreed" if completes else "signed",
                "by": dir_.slug(actor.organisation_id),
            },
            now=now,
        )
    return signature


# -- the no-strike lists --------------------------------------------------------------------

_LISTS = uuid.UUID("8f0d6c43-51b6-4d3e-9b8a-2f4b7c1e6a90")


def week_period(now: datetime, rules: ProtectionRules) -> tuple[str, datetime]:
    """The latest weekly send due at or before ``now``: its ISO week ("2026-W02") and when."""
    day = now.replace(hour=rules.no_strike_hour, minute=0, second=0, microsecond=0)
    due = day + timedelta(days=rules.no_strike_weekday - now.isoweekday())
    if due > now:
        due -= timedelta(weeks=1)
    year, week, _day = due.isocalendar()
    return f"{year}-W{week:02d}", due


def digest_of(content: dict[str, Any]) -> str:
    """The SHA-256 of a list's content in its RFC 8785 form: what the entry binds."""
    return hashlib.sha256(canonical(content)).hexdigest()


def _send(
    db: Session, viewer: Viewer, *, period: str, parties: list[Any], now: datetime
) -> list[NoStrikeList]:
    rules = protection_rules(db)
    dir_ = directory(db, viewer)
    released_to, audience_ = _released_to(dir_)
    content = no_strike_places(db, viewer)
    digest = digest_of(content)
    sent = []
    for party in parties:
        list_id = uuid.uuid5(_LISTS, f"{party.id}/{period}")
        # The entry's own log time: the acknowledgement is due a fixed time after it.
        ack_due = log_clock(db, now=now) + rules.no_strike_ack
        appended = record(
            db,
            ByLog(),
            ProtectionEntry.NO_STRIKE_LIST_SENT,
            {
                "list": str(list_id),
                "party": party.slug,
                "period": period,
                "content": content,
                "digest": digest,
                "ack_due": log_time(ack_due),
                "released_to": released_to,
            },
            audience=audience_,
            now=now,
        )
        row = NoStrikeList(
            id=list_id,
            party_id=party.id,
            period=period,
            content=content,
            digest=digest,
            places=len(content["features"]),
            log_index=appended.index,
            sent_at=appended.logged_at,
            ack_due_at=ack_due,
        )
        db.add(row)
        emit_protection(
            db,
            ProtectionEvent.NO_STRIKE_LIST,
            subject=str(list_id),
            log_index=appended.index,
            payload={"list": str(list_id), "party": party.slug, "step": "sent"},
            now=now,
        )
        sent.append(row)
    return sent


def do_send_weekly_no_strike_lists(
    db: Session, cell: Viewer, *, now: datetime
) -> list[NoStrikeList]:
    """The cell's weekly send (signed by the log's key): each party that has no list for the
    week due gets one. Two processes sending at once: the second finds the lists sent (under
    the log's lock), or fails on the unique period and finds them next time."""
    period, _due = week_period(now, protection_rules(db))
    with atomic(db):
        waiting = [p for p in directory(db, cell).parties() if p.id not in parties_sent(db, period)]
        return _send(db, cell, period=period, parties=waiting, now=now) if waiting else []


def do_send_no_strike_lists(
    db: Session, actor: Viewer, *, request_id: uuid.UUID, now: datetime
) -> list[NoStrikeList]:
    """The supervisor sends every party its list now (after a place comes into force, say),
    signed by the log's key like the weekly one; a retry with the same id sends nothing."""
    require(actor, is_supervisor(actor), _NOT_SENDER)
    period = f"demand/{request_id}"
    with atomic(db):
        dir_ = directory(db, actor)
        waiting = [p for p in dir_.parties() if p.id not in parties_sent(db, period)]
        return _send(db, actor, period=period, parties=waiting, now=now)


def do_acknowledge_no_strike_list(
    db: Session, actor: Viewer, *, list_id: uuid.UUID, now: datetime
) -> NoStrikeList:
    """The party's focal point acknowledges receipt of its list (receipt, never approval);
    a retry, or a second member of the party, returns the acknowledgement already made."""
    with atomic(db):
        sent = get_no_strike_list(db, actor, list_id)
        require(
            actor,
            is_party_officer(actor) and actor.organisation_id == sent.party_id,
            _NOT_FOCAL_POINT,
        )
        if sent.ack_log_index is not None:
            return sent
        log_clock(db, now=now)  # the lock: an acknowledgement made meanwhile is now visible
        db.refresh(sent)
        if sent.ack_log_index is not None:
            return sent
        dir_ = directory(db, actor)
        released_to, audience_ = _released_to(dir_)
        appended = record(
            db,
            author_of(actor),
            ProtectionEntry.NO_STRIKE_LIST_ACKNOWLEDGED,
            {
                "list": str(sent.id),
                "list_index": sent.log_index,
                "digest": sent.digest,
                "organisation": dir_.slug(actor.organisation_id),
                "member": str(actor.member_id),
                "released_to": released_to,
            },
            audience=audience_,
            now=now,
        )
        sent.acknowledged_by = actor.member_id
        sent.ack_log_index = appended.index
        sent.acknowledged_at = appended.logged_at
        emit_protection(
            db,
            ProtectionEvent.NO_STRIKE_LIST,
            subject=str(sent.id),
            log_index=appended.index,
            payload={
                "list": str(sent.id),
                "party": dir_.slug(sent.party_id),
                "step": "acknowledged",
            },
            now=now,
        )
    return sent

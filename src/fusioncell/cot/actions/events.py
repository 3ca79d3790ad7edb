"""Receiving a CoT event from a member's TAK client.

Each accepted event is kept as received (its raw XML and digest) in a signed
``cot.event.received`` entry: the cell's statement, signed by the log, that the client
holding the member's certificate sent it; its audience is the member's organisation and the
supervisor. What the gateway makes of it goes through the other tracks' own actions, with
the member as the actor, so their permission checks and validation apply unchanged:

- a position (an atom, ``a-…``, with a point) of the member's own party (affiliation
  ``f``) becomes a de-escalation declaration: unit = the event's uid, category from its CoT
  type (``rules.toml``), count 1, its point and time. Only a party's liaison officer
  declares; a uid claimed by another party, or another affiliation (a report of someone
  else's unit), is refused and nothing is written.
- GeoChat (``b-t-f``) becomes a ROUTINE hotline message (its ``remarks``) on the bilateral
  channel of the member's party with the supervisor.
- anything else is kept and not interpreted.

The interpretation commits first, then the received entry: an event is accepted once both
are committed, and a retry of the same event finds its first result (the observation's
feature id and the message's id are derived from the event).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.cot.entries import CotEntry
from fusioncell.cot.models import CotEvent, CotUid
from fusioncell.cot.parse import CotEvent as Parsed
from fusioncell.cot.queries import (
    event_id_taken,
    organisation_slugs,
    party_channel,
    supervisor_ids,
    uid_owner,
)
from fusioncell.cot.rules import COT_RULES
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.errors import Forbidden, InvalidInput
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import ByLog, record
from fusioncell.text import N_

NAMESPACE = uuid.UUID("6f1c1d7e-3c1e-4a53-9a43-8f3f5b0f2c11")
CHAT = "b-t-f"
_OTHER_AFFILIATION = N_(
    "A client reports its own party's positions only (affiliation f): this one is another "
    "party's unit."
)
_OTHER_PARTY_UID = N_("This uid is another party's unit.")
_FUTURE = N_("The event is dated in the future.")
_NO_CHANNEL = N_("The member's party has no channel with the supervisor to chat on.")
_NO_TEXT = N_("The chat carries no text.")


@dataclass(frozen=True)
class Received:
    event_id: uuid.UUID
    kind: str  # "position", "chat" or "kept"
    log_index: int | None  # the received entry's; None for a retry
    became: int | None  # the observation batch's or the message's entry


def event_id(actor: Viewer, event: Parsed) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{actor.member_id}|{event.sha256}")


def kind_of(event: Parsed) -> str:
    if event.type == CHAT:
        return "chat"
    if event.type.startswith("a-") and event.point is not None:
        return "position"
    return "kept"


def _record_position(db: Session, actor: Viewer, event: Parsed, *, now: datetime) -> int | None:
    if event.affiliation != "f":
        raise Forbidden(_OTHER_AFFILIATION, uid=event.uid, type=event.type)
    owner = uid_owner(db, event.uid)
    if owner is not None and owner != actor.organisation_id:
        raise Forbidden(_OTHER_PARTY_UID, uid=event.uid)
    rules = ledger_context(db).rules(COT_RULES)
    if event.time > now + timedelta(seconds=rules.clock_skew_seconds):
        raise InvalidInput(_FUTURE, field="time")
    observed_at = min(event.time, now)
    assert event.point is not None
    own = organisation_slugs(db, actor)[actor.organisation_id]
    feature_id = "cot-" + hashlib.sha256(f"{event.uid}|{log_time(event.time)}".encode()).hexdigest()
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": feature_id[:64],
                "geometry": {"type": "Point", "coordinates": [event.point.lon, event.point.lat]},
                "properties": {
                    "unit": event.uid[:100],
                    "party": own,
                    "category": rules.category_of(event.type),
                    "count": 1,
                    "calibre_mm": None,
                    "range_km": None,
                    "observed_at": log_time(observed_at),
                    "source": "declaration",
                },
            }
        ],
    }
    recorded = do_record_observations(db, actor, document, now=now)
    return recorded.log_index


def _chat_text(event: Parsed) -> str:
    remarks = event.root.find("detail/remarks")
    text = "" if remarks is None or remarks.text is None else remarks.text.strip()
    if not text:
        raise InvalidInput(_NO_TEXT, field="remarks")
    return text


def _send_chat(db: Session, actor: Viewer, event: Parsed, *, now: datetime) -> int | None:
    text = _chat_text(event)
    channel = party_channel(db, actor)
    if channel is None:
        raise Forbidden(_NO_CHANNEL)
    message = do_send_message(
        db,
        actor,
        message_id=uuid.uuid5(NAMESPACE, f"chat|{actor.member_id}|{event.uid}"),
        channel_id=channel,
        precedence="ROUTINE",
        text=text,
        now=now,
    )
    return message.log_index


def do_receive_event(db: Session, actor: Viewer, event: Parsed, *, now: datetime) -> Received:
    """Interpret and keep one event; raises (nothing written) if it is refused."""
    try:
        raw = event.raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(N_("The gateway reads CoT in UTF-8.")) from None
    identity = event_id(actor, event)
    kind = kind_of(event)
    if event_id_taken(db, identity):
        return Received(identity, kind, None, None)
    became: int | None = None
    if kind == "position":
        became = _record_position(db, actor, event, now=now)
    elif kind == "chat":
        became = _send_chat(db, actor, event, now=now)
    slugs = organisation_slugs(db, actor)
    readers = audience(organisations=[actor.organisation_id, *supervisor_ids(db, actor)])
    with atomic(db):
        if event_id_taken(db, identity):  # the same event on another connection, meanwhile
            return Received(identity, kind, None, became)
        appended = record(
            db,
            ByLog(),
            CotEntry.EVENT_RECEIVED,
            _body(actor, event, identity, kind, became, raw, slugs),
            audience=readers,
            now=now,
        )
        if kind == "position" and uid_owner(db, event.uid) is None:
            db.add(
                CotUid(
                    uid=event.uid,
                    organisation_id=actor.organisation_id,
                    member_id=actor.member_id,
                    log_index=appended.index,
                )
            )
        db.add(
            CotEvent(
                id=identity,
                member_id=actor.member_id,
                organisation_id=actor.organisation_id,
                uid=event.uid,
                type=event.type,
                kind=kind,
                became=became,
                sha256=event.sha256,
                raw=raw,
                event_time=event.time,
                received_at=now,
                log_index=appended.index,
            )
        )
    return Received(identity, kind, appended.index, became)


def _body(
    actor: Viewer,
    event: Parsed,
    identity: uuid.UUID,
    kind: str,
    became: int | None,
    raw: str,
    slugs: dict[uuid.UUID, str],
) -> dict[str, Any]:
    return {
        "event": str(identity),
        "member": str(actor.member_id),
        "username": actor.username,
        "organisation": slugs[actor.organisation_id],
        "uid": event.uid,
        "type": event.type,
        "time": log_time(event.time),
        "kind": kind,
        "became": became,
        "sha256": event.sha256,
        "raw": raw,
    }

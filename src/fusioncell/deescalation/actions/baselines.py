"""The freeze (R6): each party declares its holdings per zone and category at T0 (the rules'
``freeze_at``), signed by its liaison officer, and the supervisor accepts the declaration;
only an accepted baseline binds. Two entries, each released to both parties, the supervisor
and the verifier."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.entries import DeescalationEntry
from fusioncell.deescalation.events import EventKind, emit_deescalation
from fusioncell.deescalation.models import Baseline
from fusioncell.deescalation.policy import is_party_officer, is_supervisor, require
from fusioncell.deescalation.queries import (
    baseline_id_taken,
    directory,
    find_own_baseline,
    geometry_in_force,
    get_baseline,
    rules_in_force,
)
from fusioncell.errors import Forbidden, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

MAX_HOLDINGS = 1000
_NOT_OFFICER = N_("A baseline is declared by a party's liaison officer.")
_OWN_ONLY = N_("A party declares only its own baseline.")
_NOT_SUPERVISOR = N_("Only the supervisor accepts a baseline.")
_BAD_HOLDING = N_("Each holding names a zone in force, a category and a count of at least 0.")
_TWICE = N_("A zone and category appear twice in the baseline.")


def _holdings(
    raw: Sequence[Any], zones: set[str], categories: Sequence[str]
) -> list[dict[str, Any]]:
    if len(raw) > MAX_HOLDINGS:
        raise InvalidInput(_BAD_HOLDING, field="holdings", limit=MAX_HOLDINGS)
    seen: set[tuple[str, str]] = set()
    out = []
    for index, item in enumerate(raw):
        zone = item.get("zone") if isinstance(item, dict) else None
        category = item.get("category") if isinstance(item, dict) else None
        count = item.get("count") if isinstance(item, dict) else None
        if (
            zone not in zones
            or category not in categories
            or not isinstance(count, int)
            or isinstance(count, bool)
            or not 0 <= count <= 10**9
        ):
            raise InvalidInput(_BAD_HOLDING, field="holdings", holding=index)
        if (zone, category) in seen:
            raise InvalidInput(_TWICE, field="holdings", holding=index)
        seen.add((str(zone), str(category)))
        out.append({"zone": zone, "category": category, "count": count})
    return sorted(out, key=lambda h: (h["zone"], h["category"]))


def do_declare_baseline(
    db: Session,
    actor: Viewer,
    *,
    baseline_id: uuid.UUID,
    party: str,
    holdings: Sequence[Any],
    now: datetime,
) -> Baseline:
    require(actor, is_party_officer(actor), _NOT_OFFICER)
    dir_ = directory(db, actor)
    own = dir_.by_id[actor.organisation_id]
    if party not in dir_.parties():
        raise InvalidInput(_BAD_HOLDING, field="party", parties=dir_.parties())
    if party != own.slug:
        raise Forbidden(_OWN_ONLY, field="party")
    rules = rules_in_force(db)
    zones = {zone.id for zone in geometry_in_force(db, actor).zones}
    checked = _holdings(holdings, zones, rules.categories)
    shared = [o.slug for o in dir_.shared()]
    with atomic(db):
        earlier = find_own_baseline(db, actor.member_id, baseline_id)
        if earlier is not None:
            if earlier.holdings != checked:
                raise IdempotencyConflict(baseline_id=str(baseline_id))
            return earlier
        object_id = baseline_id if not baseline_id_taken(db, baseline_id) else uuid.uuid4()
        appended = record(
            db,
            author_of(actor),
            DeescalationEntry.BASELINE_DECLARED,
            {
                "baseline": str(object_id),
                "party": own.slug,
                "at": log_time(rules.freeze_at),
                "holdings": checked,
                "member": str(actor.member_id),
                "released_to": shared,
            },
            audience=audience(organisations=[dir_.by_slug[s].id for s in shared]),
            now=now,
        )
        baseline = Baseline(
            id=object_id,
            client_id=baseline_id,
            party_id=own.id,
            at=rules.freeze_at,
            holdings=checked,
            declared_by=actor.member_id,
            log_index=appended.index,
            declared_at=appended.logged_at,
        )
        db.add(baseline)
        emit_deescalation(
            db,
            EventKind.BASELINE,
            subject=str(object_id),
            log_index=appended.index,
            payload={"baseline": str(object_id), "party": own.slug, "step": "declared"},
            now=now,
        )
    return baseline


def do_accept_baseline(
    db: Session, actor: Viewer, *, baseline_id: uuid.UUID, now: datetime
) -> Baseline:
    require(actor, is_supervisor(actor), _NOT_SUPERVISOR)
    dir_ = directory(db, actor)
    shared = [o.slug for o in dir_.shared()]
    with atomic(db):
        baseline = get_baseline(db, actor, baseline_id)
        if baseline is None:
            raise NotFound()
        if baseline.accepted_log_index is not None:
            return baseline  # accepted already: accepting again changes nothing
        appended = record(
            db,
            author_of(actor),
            DeescalationEntry.BASELINE_ACCEPTED,
            {
                "baseline": str(baseline.id),
                "baseline_index": baseline.log_index,
                "member": str(actor.member_id),
                "released_to": shared,
            },
            audience=audience(organisations=[dir_.by_slug[s].id for s in shared]),
            now=now,
        )
        baseline.accepted_by = actor.member_id
        baseline.accepted_log_index = appended.index
        baseline.accepted_at = appended.logged_at
        emit_deescalation(
            db,
            EventKind.BASELINE,
            subject=str(baseline.id),
            log_index=appended.index,
            payload={"baseline": str(baseline.id), "step": "accepted"},
            now=now,
        )
    return baseline

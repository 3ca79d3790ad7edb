"""The conflict check as the cell records it (R10): after a submission, an amendment or a
withdrawal, the notifications concerned are checked again in the same transaction; when the
protected places, the zones or the rules change, the engine checks every notification that
stands (``do_recheck_conflicts``). A check whose conflicts differ from the last one recorded
is a ``deconfliction.notification.checked`` entry, signed by the log, with the rows and the
notification's verdict; ``fusioncell verify`` recomputes each from the log before it.

What a notification conflicts with is checked among every notification that stands (not
withdrawn or cancelled): time windows decide which overlap.

A conflict the sender noted stays noted while the check keeps finding it; one that goes away
and comes back is flagged again, and so is every conflict after an amendment.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from fusioncell.db.transaction import atomic
from fusioncell.deconfliction import conflicts as engine
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.events import EventKind, emit_deconfliction
from fusioncell.deconfliction.models import ConflictRow, Notification
from fusioncell.deconfliction.queries.notifications import (
    conflicts_for_engine,
    open_for_engine,
    organisation_ids,
    partners_for_engine,
    protected_for_engine,
    release_of,
    rules_in_force,
    zones_for_engine,
)
from fusioncell.deconfliction.rules import DeconflictionRules
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import audience
from fusioncell.ledger.record import ByLog, record

# Projected geometries by (notification, version): a version's geometry never changes, so
# the check projects each once per process.
_METRIC: dict[tuple[str, int], BaseGeometry] = {}
_METRIC_KEPT = 200_000


def subject_of(notification: Notification) -> engine.Subject:
    return engine.Subject(
        id=str(notification.id),
        kind=notification.kind,
        geometry=notification.geometry,
        buffer_m=float(notification.buffer_m),
        starts_at=notification.starts_at,
        ends_at=notification.ends_at,
    )


def _index(
    db: Session, standing: Sequence[Notification], rules: DeconflictionRules
) -> engine.ConflictIndex:
    if len(_METRIC) > _METRIC_KEPT:
        _METRIC.clear()
    known = {
        str(n.id): _METRIC[(str(n.id), n.version)]
        for n in standing
        if (str(n.id), n.version) in _METRIC
    }
    index = engine.ConflictIndex(
        [subject_of(n) for n in standing],
        protected_for_engine(db, rules),
        zones_for_engine(db),
        rules,
        metric=known,
    )
    versions = {str(n.id): n.version for n in standing}
    for identifier, geometry in index.metric().items():
        _METRIC[(identifier, versions[identifier])] = geometry
    return index


def _stored(rows: Sequence[ConflictRow]) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "with": r.other_kind,
                "id": r.other_id,
                "distance_m": r.distance_m,
                "required_m": r.required_m,
                "from": r.overlap_from,
                "until": r.overlap_until,
            }
            for r in rows
        ),
        key=lambda c: (engine.ORDER[c["with"]], c["id"]),
    )


def _found(conflicts: Sequence[engine.Conflict]) -> list[dict[str, Any]]:
    return [
        {
            "with": str(c.with_),
            "id": c.id,
            "distance_m": c.distance_m,
            "required_m": c.required_m,
            "from": c.overlap_from,
            "until": c.overlap_until,
        }
        for c in conflicts
    ]


def record_checks(
    db: Session,
    notifications: Iterable[Notification],
    found: dict[str, list[engine.Conflict]],
    *,
    released_to: dict[uuid.UUID, list[str]],
    organisations: dict[str, uuid.UUID],
    always: frozenset[uuid.UUID] = frozenset(),
    now: datetime,
) -> list[Notification]:
    """Record the checks whose conflicts changed (and those in ``always``: a submission's or
    an amendment's first check). Inside the caller's transaction."""
    chosen = list(notifications)
    stored = conflicts_for_engine(db, [n.id for n in chosen])
    written = []
    for notification in sorted(chosen, key=lambda n: n.log_index):
        conflicts = found[str(notification.id)]
        before = stored[notification.id]
        if notification.id not in always and _stored(before) == _found(conflicts):
            continue
        noted = {(r.other_kind, r.other_id): r.noted_log_index for r in before}
        if notification.id in always:
            noted = {}  # a new version: every conflict is flagged again
        status = engine.status_of(
            conflicts, [key for key, index in noted.items() if index is not None]
        )
        body_conflicts = [{**c.as_dict(), "noted": noted.get(c.key)} for c in conflicts]
        appended = record(
            db,
            ByLog(),
            NotificationEntry.CHECKED,
            {
                "notification": str(notification.id),
                "notification_index": notification.log_index,
                "version": notification.version,
                "conflicts": body_conflicts,
                "status": status,
                "released_to": released_to[notification.id],
            },
            audience=audience(
                organisations=[organisations[s] for s in released_to[notification.id]]
            ),
            now=now,
        )
        for row in before:
            db.delete(row)
        db.flush()
        for c in conflicts:
            db.add(
                ConflictRow(
                    notification_id=notification.id,
                    other_kind=str(c.with_),
                    other_id=c.id,
                    distance_m=c.distance_m,
                    required_m=c.required_m,
                    overlap_from=c.overlap_from,
                    overlap_until=c.overlap_until,
                    noted_log_index=noted.get(c.key),
                )
            )
        notification.conflict_status = status
        notification.checked_log_index = appended.index
        emit_deconfliction(
            db,
            EventKind.CHECKED,
            notification=str(notification.id),
            log_index=appended.index,
            payload={"status": status, "conflicts": len(conflicts)},
            now=now,
        )
        written.append(notification)
    return written


def recheck_after(
    db: Session,
    changed: Sequence[Notification],
    *,
    released_to: dict[uuid.UUID, list[str]],
    organisations: dict[str, uuid.UUID],
    first: frozenset[uuid.UUID],
    now: datetime,
) -> dict[str, list[engine.Conflict]]:
    """Check the changed notifications (those that stand) and every notification whose
    conflicts they may have changed: those that named them, and those they now conflict
    with. ``first`` are new versions, whose check is recorded even when clear."""
    rules = rules_in_force(db)
    standing = list(open_for_engine(db))
    index = _index(db, standing, rules)
    by_id = {str(n.id): n for n in standing}
    mine = [str(n.id) for n in changed if str(n.id) in by_id]
    found = index.check_ids(mine)
    concerned = {uuid.UUID(i) for i in mine}
    concerned |= partners_for_engine(db, [n.id for n in changed])
    for conflicts in found.values():
        concerned |= {uuid.UUID(c.id) for c in conflicts if c.with_ == "notification"}
    others = [str(i) for i in concerned if str(i) in by_id and str(i) not in found]
    found.update(index.check_ids(others))
    chosen = [by_id[i] for i in found]
    missing = {n.id for n in chosen} - set(released_to)
    if missing:
        released_to.update(release_of(db, list(missing)))
    record_checks(
        db,
        chosen,
        found,
        released_to=released_to,
        organisations=organisations,
        always=first,
        now=now,
    )
    return found


def inputs_fingerprint(db: Session) -> str:
    """What every check depends on besides the notifications: the protected places, the
    zones and the rules in force (the engine rechecks everything when it changes)."""
    rules = rules_in_force(db)
    document = {
        "rules": rules.hash,
        "protected": [[p.id, p.geometry, p.buffer_m] for p in protected_for_engine(db, rules)],
        "zones": [[z.id, z.kind, z.geometry] for z in zones_for_engine(db)],
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def do_recheck_conflicts(db: Session, *, now: datetime) -> list[Notification]:
    """Check every notification that stands and has not ended, recording those whose
    conflicts changed: the engine runs it at start-up and whenever the protected places, the
    zones or the rules change. It holds the log's lock from the start (``log_clock``), so two
    processes rechecking at once take turns and the second finds nothing left to record."""
    with atomic(db):
        rules = rules_in_force(db)
        if not open_for_engine(db):
            return []
        now = log_clock(db, now=now)
        standing = list(open_for_engine(db))
        index = _index(db, standing, rules)
        current = [n for n in standing if n.ends_at > now]
        found = index.check_ids([str(n.id) for n in current])
        return record_checks(
            db,
            current,
            found,
            released_to=release_of(db, [n.id for n in current]),
            organisations=organisation_ids(db),
            now=now,
        )

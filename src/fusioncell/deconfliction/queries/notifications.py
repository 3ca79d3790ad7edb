"""Reads of notifications, viewer first. A notification is released to its sender's
organisation, every party, the supervisor and the verifier (``policy.SHARED_KINDS``): the
humanitarian organisation reads its own, never the parties' military activity. The filter is
in the SQL.

The engine's reads (``*_for_engine``) are the cell's own, for the conflict check and the
escalation of overdue duties: they read every notification, and never reach a viewer.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.cell.queries import console_of_cell, list_organisations
from fusioncell.deconfliction import conflicts as engine
from fusioncell.deconfliction.models import (
    Acknowledgement,
    Amendment,
    ConflictRow,
    ConflictWith,
    Duty,
    Notification,
    NotificationEscalation,
    Recipient,
)
from fusioncell.deconfliction.policy import SHARED_KINDS, may_read
from fusioncell.deconfliction.protected import SOURCES, current_zones
from fusioncell.deconfliction.rules import DECONFLICTION_RULES, DeconflictionRules
from fusioncell.ledger.context import ledger_context


@dataclass(frozen=True)
class Directory:
    """The cell's organisations, by slug and by id."""

    by_slug: dict[str, Organisation]
    by_id: dict[uuid.UUID, Organisation]

    def parties(self) -> list[Organisation]:
        return sorted(
            (o for o in self.by_id.values() if o.kind == OrganisationKind.PARTY),
            key=lambda o: o.slug,
        )

    def released_to(self, sender: uuid.UUID) -> list[str]:
        """Who reads a notification from ``sender``: the sender's organisation, every party,
        the supervisor and the verifier."""
        return sorted(
            o.slug for o in self.by_id.values() if o.id == sender or o.kind in SHARED_KINDS
        )

    def ids(self, slugs: Sequence[str]) -> list[uuid.UUID]:
        return [self.by_slug[s].id for s in slugs]


def directory(db: Session, viewer: Viewer) -> Directory:
    organisations = list_organisations(db, viewer)
    return Directory({o.slug: o for o in organisations}, {o.id: o for o in organisations})


def rules_in_force(db: Session) -> DeconflictionRules:
    return ledger_context(db).rules(DECONFLICTION_RULES)


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    if not may_read(viewer):
        return false()
    if viewer.organisation_kind in SHARED_KINDS:
        return true()
    return Notification.organisation_id == viewer.organisation_id


def get_notification(
    db: Session, viewer: Viewer, notification_id: uuid.UUID
) -> Notification | None:
    return db.scalar(
        select(Notification).where(Notification.id == notification_id, _visible(viewer))
    )


def list_notifications(
    db: Session,
    viewer: Viewer,
    *,
    kind: str | None = None,
    ending_after: datetime | None = None,
    limit: int = 200,
) -> Sequence[Notification]:
    """The latest first (by their window's start); ``ending_after`` keeps those whose window
    is still running then."""
    query = select(Notification).where(_visible(viewer))
    if kind is not None:
        query = query.where(Notification.kind == kind)
    if ending_after is not None:
        query = query.where(Notification.ends_at > ending_after)
    return db.scalars(
        query.order_by(Notification.starts_at.desc(), Notification.log_index.desc()).limit(
            min(limit, 1000)
        )
    ).all()


def visible_ids(db: Session, viewer: Viewer, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these notifications the viewer may read (a conflict names the others)."""
    if not ids:
        return set()
    return set(
        db.scalars(select(Notification.id).where(Notification.id.in_(ids), _visible(viewer)))
    )


def find_own_notification(
    db: Session, sender_id: uuid.UUID, client_id: uuid.UUID
) -> Notification | None:
    return db.scalar(
        select(Notification).where(
            Notification.sender_id == sender_id, Notification.client_id == client_id
        )
    )


def notification_id_taken(db: Session, notification_id: uuid.UUID) -> bool:
    return db.get(Notification, notification_id) is not None


def find_own_ack(db: Session, member_id: uuid.UUID, client_id: uuid.UUID) -> Acknowledgement | None:
    return db.scalar(
        select(Acknowledgement).where(
            Acknowledgement.member_id == member_id, Acknowledgement.client_id == client_id
        )
    )


def ack_id_taken(db: Session, ack_id: uuid.UUID) -> bool:
    return db.get(Acknowledgement, ack_id) is not None


# -- what goes with a notification (for those read above) ---------------------------------


@dataclass(frozen=True)
class Around:
    """Recipients, acknowledgements, conflicts, amendments and escalations of some
    notifications, read in five statements whatever their number."""

    recipients: dict[uuid.UUID, list[uuid.UUID]]
    acks: dict[uuid.UUID, list[Acknowledgement]]
    conflicts: dict[uuid.UUID, list[ConflictRow]]
    amendments: dict[uuid.UUID, list[Amendment]]
    escalations: dict[uuid.UUID, list[NotificationEscalation]]


def around(db: Session, notifications: Sequence[Notification]) -> Around:
    ids = [n.id for n in notifications]
    result = Around(
        {i: [] for i in ids},
        {i: [] for i in ids},
        {i: [] for i in ids},
        {i: [] for i in ids},
        {i: [] for i in ids},
    )
    if not ids:
        return result
    for r in db.scalars(
        select(Recipient)
        .where(Recipient.notification_id.in_(ids))
        .order_by(Recipient.organisation_id)
    ):
        result.recipients[r.notification_id].append(r.organisation_id)
    for a in db.scalars(
        select(Acknowledgement)
        .where(Acknowledgement.notification_id.in_(ids))
        .order_by(Acknowledgement.log_index)
    ):
        result.acks[a.notification_id].append(a)
    for c in db.scalars(
        select(ConflictRow)
        .where(ConflictRow.notification_id.in_(ids))
        .order_by(ConflictRow.other_kind, ConflictRow.other_id)
    ):
        result.conflicts[c.notification_id].append(c)
    for m in db.scalars(
        select(Amendment).where(Amendment.notification_id.in_(ids)).order_by(Amendment.version)
    ):
        result.amendments[m.notification_id].append(m)
    for e in db.scalars(
        select(NotificationEscalation)
        .where(NotificationEscalation.notification_id.in_(ids))
        .order_by(NotificationEscalation.log_index)
    ):
        result.escalations[e.notification_id].append(e)
    return result


def first_ack(
    acks: Sequence[Acknowledgement], organisation_id: uuid.UUID, version: int
) -> Acknowledgement | None:
    """A party's first acknowledgement of a version: the one that counts for its deadline."""
    return next(
        (a for a in acks if a.organisation_id == organisation_id and a.version == version), None
    )


def state_of(
    notification: Notification,
    recipients: Sequence[uuid.UUID],
    acks: Sequence[Acknowledgement],
    *,
    now: datetime,
) -> str:
    """Where a notification stands in the issue's order: withdrawn or cancelled; completed or
    expired (its window over: expired when a conflict was left unresolved); active (its
    window running); before that, distributed or ack_overdue while a recipient party owes its
    acknowledgement of the current version, then the conflict check's verdict: clear,
    conflict_flagged, noted, or amended (clear after an amendment)."""
    if notification.closed is not None:
        return notification.closed
    if now >= notification.ends_at:
        return "expired" if notification.conflict_status == "flagged" else "completed"
    if now >= notification.starts_at:
        return "active"
    owed = [r for r in recipients if first_ack(acks, r, notification.version) is None]
    if owed:
        return "ack_overdue" if now >= notification.ack_deadline else "distributed"
    if notification.conflict_status == "flagged":
        return "conflict_flagged"
    if notification.conflict_status == "noted":
        return "noted"
    return "amended" if notification.version > 0 else "clear"


# -- the engine's reads: the cell's, never a viewer's ------------------------------------


def open_for_engine(db: Session) -> Sequence[Notification]:
    """Every notification that stands (not withdrawn or cancelled): what conflicts are
    checked among."""
    return db.scalars(
        select(Notification).where(Notification.closed.is_(None)).order_by(Notification.log_index)
    ).all()


def escalation_candidates_for_engine(db: Session, *, since: datetime) -> Sequence[Notification]:
    """The notifications whose duties may still escalate: a version distributed since
    ``since`` whose window had not ended by then, or a FLASH emergency submitted since."""
    return db.scalars(
        select(Notification)
        .where(
            or_(
                and_(
                    Notification.version_at > since,
                    Notification.ends_at > since,
                    or_(Notification.closed_at.is_(None), Notification.closed_at > since),
                ),
                and_(Notification.flash.is_(True), Notification.submitted_at > since),
            )
        )
        .order_by(Notification.log_index)
    ).all()


def conflicts_for_engine(
    db: Session, notification_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ConflictRow]]:
    found: dict[uuid.UUID, list[ConflictRow]] = {i: [] for i in notification_ids}
    if not notification_ids:
        return found
    for row in db.scalars(
        select(ConflictRow).where(ConflictRow.notification_id.in_(notification_ids))
    ):
        found[row.notification_id].append(row)
    return found


def partners_for_engine(db: Session, notification_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """The notifications whose latest check names one of these."""
    if not notification_ids:
        return set()
    return set(
        db.scalars(
            select(ConflictRow.notification_id).where(
                ConflictRow.other_kind == ConflictWith.NOTIFICATION,
                ConflictRow.other_id.in_([str(i) for i in notification_ids]),
            )
        )
    )


def _cell_reader(db: Session) -> Viewer | None:
    """The cell's own reader (the console's): what the engine reads is shared with every
    member, or the cell's to decide on."""
    return console_of_cell(db)


def _organisations(db: Session) -> Sequence[Organisation]:
    reader = _cell_reader(db)
    return [] if reader is None else list_organisations(db, reader)


def organisation_ids(db: Session) -> dict[str, uuid.UUID]:
    """Every organisation's id by slug (entries name organisations by slug)."""
    return {o.slug: o.id for o in _organisations(db)}


def release_of(db: Session, notification_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Who reads each notification's entries (``Directory.released_to`` of its sender)."""
    organisations = _organisations(db)
    dir_ = Directory({o.slug: o for o in organisations}, {o.id: o for o in organisations})
    senders = db.execute(
        select(Notification.id, Notification.organisation_id).where(
            Notification.id.in_(notification_ids)
        )
    ).all()
    return {row[0]: dir_.released_to(row[1]) for row in senders}


def protected_for_engine(db: Session, rules: DeconflictionRules) -> list[engine.Protected]:
    """The protected places conflicts are checked against, from every source
    (``protected.SOURCES``)."""
    reader = _cell_reader(db)
    if reader is None:
        return []
    return [place for source in SOURCES for place in source.current(db, reader, rules)]


def zones_for_engine(db: Session) -> list[engine.Zone]:
    """The zones in force (a forbidden zone is chosen from them by kind)."""
    reader = _cell_reader(db)
    return [] if reader is None else current_zones(db, reader)


def separation_for_engine(db: Session) -> list[dict[str, Any]]:
    """The area of separation's geometry (its edges are the lines), for R8's reach."""
    return [dict(z.geometry) for z in zones_for_engine(db) if z.kind == "separation"]


# -- what the member's party owes (the header strip) -------------------------------------


@dataclass(frozen=True)
class Owed:
    notification: Notification
    duty: str  # Duty
    deadline: datetime
    steps: int


def list_owed(db: Session, viewer: Viewer, *, now: datetime, limit: int = 50) -> list[Owed]:
    """The acknowledgements the viewer's party owes (the current version of a notification
    that stands and has not ended) and the FLASH justifications its organisation owes, most
    urgent first. Two statements."""
    if not may_read(viewer):
        return []
    acked = select(Acknowledgement.id).where(
        Acknowledgement.notification_id == Notification.id,
        Acknowledgement.version == Notification.version,
        Acknowledgement.organisation_id == viewer.organisation_id,
    )
    steps = (
        select(func.count(NotificationEscalation.step))
        .where(
            NotificationEscalation.notification_id == Notification.id,
            NotificationEscalation.duty == Duty.ACK,
            NotificationEscalation.version == Notification.version,
            NotificationEscalation.organisation_id == viewer.organisation_id,
        )
        .scalar_subquery()
    )
    acks = db.execute(
        select(Notification, steps)
        .join(Recipient, Recipient.notification_id == Notification.id)
        .where(
            _visible(viewer),
            Recipient.organisation_id == viewer.organisation_id,
            Notification.closed.is_(None),
            Notification.ends_at > now,
            ~acked.exists(),
        )
        .order_by(Notification.ack_deadline, Notification.log_index)
        .limit(limit)
    ).all()
    justification_steps = (
        select(func.count(NotificationEscalation.step))
        .where(
            NotificationEscalation.notification_id == Notification.id,
            NotificationEscalation.duty == Duty.JUSTIFICATION,
        )
        .scalar_subquery()
    )
    justifications = db.execute(
        select(Notification, justification_steps)
        .where(
            and_(
                _visible(viewer),
                Notification.organisation_id == viewer.organisation_id,
                Notification.flash.is_(True),
                Notification.justified_at.is_(None),
            )
        )
        .order_by(Notification.justification_due, Notification.log_index)
        .limit(limit)
    ).all()
    owed = [Owed(row[0], Duty.ACK, row[0].ack_deadline, int(row[1])) for row in acks]
    for row in justifications:
        due = row[0].justification_due
        assert due is not None
        owed.append(Owed(row[0], Duty.JUSTIFICATION, due, int(row[1])))
    return sorted(owed, key=lambda o: (o.deadline, o.notification.log_index))[:limit]


# -- statistics (R8, R13): one method for every party ------------------------------------


@dataclass
class PartyStatistics:
    organisation: str
    notifications: int = 0
    on_time: int = 0
    late: int = 0
    flash: int = 0
    justified_in_time: int = 0
    justified_late: int = 0
    justification_owed: int = 0
    # Acknowledgements owed by the organisation (one per version of each notification it
    # received, unless the duty lapsed before its deadline), given in time, given late, and
    # missed (the deadline passed without one).
    acks_owed: int = 0
    acks_in_time: int = 0
    acks_late: int = 0
    acks_missed: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)


def statistics(db: Session, viewer: Viewer, *, now: datetime) -> list[PartyStatistics]:
    """Per organisation, over the notifications the viewer reads, by one method for every
    party (R13): how many it sent, on time and late, its FLASH emergencies and their
    justifications, and the acknowledgements it owed. Six statements."""
    if not may_read(viewer):
        return []
    dir_ = directory(db, viewer)
    stats: dict[uuid.UUID, PartyStatistics] = {}

    def of(organisation_id: uuid.UUID) -> PartyStatistics:
        if organisation_id not in stats:
            stats[organisation_id] = PartyStatistics(dir_.by_id[organisation_id].slug)
        return stats[organisation_id]

    notifications = db.scalars(
        select(Notification).where(_visible(viewer)).order_by(Notification.log_index)
    ).all()
    for n in notifications:
        s = of(n.organisation_id)
        s.notifications += 1
        kind = s.by_kind.setdefault(n.kind, {"on_time": 0, "late": 0})
        verdict = "late" if n.lead_time == "late" else "on_time"
        kind[verdict] += 1
        setattr(s, verdict, getattr(s, verdict) + 1)
        if n.flash:
            s.flash += 1
            due = n.justification_due
            if n.justified_at is None:
                s.justification_owed += 1
            elif due is not None and n.justified_at <= due:
                s.justified_in_time += 1
            else:
                s.justified_late += 1
    got = around(db, notifications)
    for n in notifications:
        delay = timedelta(seconds=int(n.ack_ladder["ack_seconds"]))
        versions = [(0, n.submitted_at)] + [(m.version, m.amended_at) for m in got.amendments[n.id]]
        for position, (version, since) in enumerate(versions):
            deadline = since + delay
            ends = [n.ends_at, *(t for t in (n.closed_at,) if t is not None)]
            if position + 1 < len(versions):
                ends.append(versions[position + 1][1])
            lapses = min(ends)
            for organisation_id in got.recipients[n.id]:
                s = of(organisation_id)
                ack = first_ack(got.acks[n.id], organisation_id, version)
                if ack is not None:
                    s.acks_owed += 1
                    if ack.acked_at <= deadline:
                        s.acks_in_time += 1
                    else:
                        s.acks_late += 1
                elif deadline < lapses and deadline <= now:
                    s.acks_owed += 1
                    s.acks_missed += 1
    return sorted(stats.values(), key=lambda s: s.organisation)


def conflict_names(
    db: Session, viewer: Viewer, rows: Sequence[ConflictRow]
) -> dict[tuple[str, str], str | None]:
    """What each conflict names, as the viewer may read it: a protected place's or a zone's
    name (shared with every member), another notification's kind and description if it is
    released to the viewer, else None (its id is withheld too)."""
    names: dict[tuple[str, str], str | None] = {}
    if not rows:
        return names
    for place in protected_for_engine(db, rules_in_force(db)):
        names[(ConflictWith.SITE.value, place.id)] = place.name
    for zone in zones_for_engine(db):
        names[(ConflictWith.ZONE.value, zone.id)] = zone.name
    others = []
    for row in rows:
        if row.other_kind == ConflictWith.NOTIFICATION:
            try:
                others.append(uuid.UUID(row.other_id))
            except ValueError:
                continue
    if others:
        for n in db.scalars(
            select(Notification).where(Notification.id.in_(others), _visible(viewer))
        ):
            names[("notification", str(n.id))] = f"{n.kind}: {' '.join(n.description.split())[:80]}"
    return names

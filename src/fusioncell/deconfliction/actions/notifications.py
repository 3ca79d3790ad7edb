"""Notifying (DESIGN R8-R10): a party's planned activity, movement or emergency, the
humanitarian organisation's movement, static site or emergency. A submission is distributed
at once (its entry's audience is every recipient), judged for its lead time (late is
accepted, and marked late), and checked for conflicts in the same transaction; then its
sender amends it, withdraws it, notes its conflicts, or justifies a FLASH emergency.

A notification is not a permission: the parties acknowledge receipt
(``actions.acknowledgements``), and nobody approves.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deconfliction import conflicts as engine
from fusioncell.deconfliction import lead_time
from fusioncell.deconfliction.actions.checks import recheck_after
from fusioncell.deconfliction.entries import NotificationEntry
from fusioncell.deconfliction.events import EventKind, emit_deconfliction
from fusioncell.deconfliction.fields import (
    Content,
    check_content,
    check_flash,
    check_justification,
    check_kind,
)
from fusioncell.deconfliction.models import (
    Amendment,
    Notification,
    Recipient,
)
from fusioncell.deconfliction.policy import kinds_sendable, may_send, require
from fusioncell.deconfliction.queries.notifications import (
    Directory,
    directory,
    find_own_notification,
    get_notification,
    notification_id_taken,
    rules_in_force,
    separation_for_engine,
)
from fusioncell.deconfliction.rules import DeconflictionRules
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput, NotFound
from fusioncell.hotline.rules import HOTLINE_RULES
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.context import ledger_context
from fusioncell.ledger.entries import audience, log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

MAX_REASON_CHARS = 2000

_MAY_NOT_SEND = N_("Your organisation may not send this kind of notification.")
_NOT_SENDER = N_("Only the sender's organisation amends, withdraws or notes a notification.")
_OVER = N_("This notification's window is over: it can no longer be changed.")
_CLOSED = N_("This notification was withdrawn: it can no longer be changed.")
_REASON = N_("A reason is text of at most %(limit)s characters.")
_NOT_FLASH = N_("Only a FLASH emergency is justified.")


def audience_of(dir_: Directory, released_to: list[str]) -> dict[str, Any]:
    return audience(organisations=dir_.ids(released_to))


def check_reason(text: Any, *, required: bool) -> str:
    if text is None and not required:
        return ""
    if not isinstance(text, str) or (required and not text.strip()) or len(text) > MAX_REASON_CHARS:
        raise InvalidInput(
            N_(_REASON, limit=MAX_REASON_CHARS), field="reason", limit=MAX_REASON_CHARS
        )
    return text


def acknowledgement_terms(db: Session, precedence: str, *, at: datetime) -> dict[str, Any]:
    """The hotline's deadline and ladder for ``precedence`` (R9), as the notification's entry
    binds them: the recipients answer to these even if the hotline's rules change."""
    rule = ledger_context(db).rules(HOTLINE_RULES).rule(precedence)
    return {
        "precedence": precedence,
        "deadline": log_time(at + rule.ack),
        "ack_seconds": int(rule.ack.total_seconds()),
        "ladder": [
            {"after_seconds": int(r.after.total_seconds()), "notify": list(r.notify)}
            for r in rule.ladder
        ],
        "repeat_seconds": int(rule.repeat.total_seconds()) if rule.repeat else 0,
    }


def justification_terms(rules: DeconflictionRules) -> dict[str, Any]:
    """A FLASH emergency's justification deadline and ladder, bound into its entry."""
    rule = rules.justification_rule()
    return {
        "ack_seconds": int(rule.ack.total_seconds()),
        "ladder": [
            {"after_seconds": int(r.after.total_seconds()), "notify": list(r.notify)}
            for r in rule.ladder
        ],
        "repeat_seconds": 0,
    }


def _near_line(content: Content, db: Session, rules: DeconflictionRules) -> bool:
    return engine.near_line(content.geometry, separation_for_engine(db), rules)


def _refuse_unless_sender(actor: Viewer, notification: Notification) -> None:
    if actor.organisation_id != notification.organisation_id or not kinds_sendable(actor):
        raise Forbidden(_NOT_SENDER)


def refuse_unless_open(notification: Notification, now: datetime) -> None:
    if notification.closed is not None:
        raise Conflict(_CLOSED, state=notification.closed)
    if now >= notification.ends_at:
        raise Conflict(_OVER, ends_at=log_time(notification.ends_at))


def _same_submission(
    earlier: Notification, kind: str, flash: bool, content: Content, justification: str | None
) -> bool:
    return (
        earlier.kind,
        earlier.flash,
        earlier.category,
        earlier.geometry,
        earlier.buffer_m,
        earlier.starts_at,
        earlier.ends_at,
        earlier.description,
        earlier.participants,
        earlier.details,
    ) == (
        kind,
        flash,
        content.category,
        content.geometry,
        content.buffer_m,
        content.starts_at,
        content.ends_at,
        content.description,
        content.participants,
        content.details,
    ) and (earlier.justification == justification or earlier.justification_log_index is not None)


def do_submit_notification(
    db: Session,
    actor: Viewer,
    *,
    notification_id: uuid.UUID,
    kind: str,
    geometry: Any,
    starts_at: datetime,
    ends_at: datetime,
    description: Any,
    buffer_m: Any = None,
    category: Any = None,
    flash: Any = False,
    participants: Any = None,
    details: Any = None,
    justification: Any = None,
    now: datetime,
) -> Notification:
    """Submit and distribute a notification; a retry with the same id returns the first."""
    kind = check_kind(kind)
    require(actor, may_send(actor, kind), _MAY_NOT_SEND)
    rules = rules_in_force(db)
    is_flash = check_flash(kind, flash)
    content = check_content(
        kind,
        category=category,
        geometry=geometry,
        buffer_m=buffer_m,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        participants=participants,
        details=details,
        now=now,
        rules=rules,
    )
    justified = check_justification(justification, rules) if is_flash else None
    if justification is not None and not is_flash:
        raise InvalidInput(_NOT_FLASH, field="justification")
    dir_ = directory(db, actor)
    sender = dir_.by_id[actor.organisation_id]
    recipients = [p.slug for p in dir_.parties() if p.id != sender.id]
    released_to = dir_.released_to(sender.id)
    near = _near_line(content, db, rules)
    precedence = rules.precedence_of(kind, flash=is_flash)
    with atomic(db):
        earlier = find_own_notification(db, actor.member_id, notification_id)
        if earlier is not None:
            if earlier.version > 0:
                return earlier  # a retry of a submission since amended
            if not _same_submission(earlier, kind, is_flash, content, justified):
                raise IdempotencyConflict(notification_id=str(notification_id))
            return earlier
        object_id = (
            notification_id if not notification_id_taken(db, notification_id) else uuid.uuid4()
        )
        notification = Notification(
            id=object_id,
            client_id=notification_id,
            sender_id=actor.member_id,
            organisation_id=sender.id,
            kind=kind,
            flash=is_flash,
            version=0,
            near_line=near,
            precedence=precedence,
            conflict_status="clear",
        )
        _apply(notification, content)
        at = logged_now(db, now)
        verdict = lead_time.judge(
            kind=kind,
            flash=is_flash,
            near_line=near,
            starts_at=content.starts_at,
            notified_at=at,
            rules=rules,
        )
        terms = acknowledgement_terms(db, precedence, at=at)
        justification_due = at + rules.flash_justification if is_flash else None
        if is_flash:
            terms["justification"] = justification_terms(rules)
        appended = record(
            db,
            author_of(actor),
            NotificationEntry.SUBMITTED,
            {
                "notification": str(object_id),
                "member": str(actor.member_id),
                "organisation": sender.slug,
                "kind": kind,
                "flash": is_flash,
                **content.as_body(),
                "justification": justified,
                "justification_due": log_time(justification_due) if justification_due else None,
                "near_line": near,
                "required_lead_s": verdict.required_seconds,
                "lead_time": verdict.lead_time,
                "recipients": recipients,
                "acknowledgement": terms,
                "released_to": released_to,
            },
            audience=audience_of(dir_, released_to),
            now=at,
        )
        assert appended.logged_at == at  # the lock is held: the clock cannot have moved
        notification.log_index = appended.index
        notification.submitted_at = appended.logged_at
        notification.version_log_index = appended.index
        notification.version_at = appended.logged_at
        notification.required_lead_s = verdict.required_seconds
        notification.lead_time = verdict.lead_time
        notification.ack_deadline = appended.logged_at + timedelta(seconds=terms["ack_seconds"])
        notification.ack_ladder = terms
        notification.justification = justified
        notification.justification_due = justification_due
        notification.justified_at = appended.logged_at if justified else None
        notification.justification_log_index = None
        notification.checked_log_index = appended.index
        db.add(notification)
        for slug in recipients:
            db.add(Recipient(notification_id=object_id, organisation_id=dir_.by_slug[slug].id))
        db.flush()
        emit_deconfliction(
            db,
            EventKind.NOTIFICATION,
            notification=str(object_id),
            log_index=appended.index,
            payload={"step": "submitted", "kind": kind, "lead_time": verdict.lead_time},
            now=at,
        )
        recheck_after(
            db,
            [notification],
            released_to={object_id: released_to},
            organisations={s: o.id for s, o in dir_.by_slug.items()},
            first=frozenset({object_id}),
            now=at,
        )
    return notification


def logged_now(db: Session, now: datetime) -> datetime:
    """The log time the transaction's next entry gets (the log's clock never runs
    backwards); taking it holds the log's lock until commit, so it cannot move: the verdict
    and the deadlines judged at it are judged at the entry's own log time."""
    return log_clock(db, now=now)


def _apply(notification: Notification, content: Content) -> None:
    notification.category = content.category
    notification.geometry = content.geometry
    notification.buffer_m = content.buffer_m
    notification.starts_at = content.starts_at
    notification.ends_at = content.ends_at
    notification.description = content.description
    notification.participants = content.participants
    notification.details = content.details


def owned_by_sender(db: Session, actor: Viewer, notification_id: uuid.UUID) -> Notification:
    notification = get_notification(db, actor, notification_id)
    if notification is None:
        raise NotFound()
    _refuse_unless_sender(actor, notification)
    return notification


def do_amend_notification(
    db: Session,
    actor: Viewer,
    notification_id: uuid.UUID,
    *,
    geometry: Any,
    starts_at: datetime,
    ends_at: datetime,
    description: Any,
    buffer_m: Any = None,
    category: Any = None,
    participants: Any = None,
    details: Any = None,
    reason: Any = None,
    version: int | None = None,
    now: datetime,
) -> Notification:
    """A new version, as a whole: distributed again, to be acknowledged again, judged for its
    lead time (``lead_time.judge_amendment``) and checked again. ``version`` is the one the
    sender amends: a retry of an amendment already made returns the notification."""
    rules = rules_in_force(db)
    why = check_reason(reason, required=False)
    with atomic(db):
        notification = owned_by_sender(db, actor, notification_id)
        if version is not None and version != notification.version:
            if version < notification.version:
                return notification  # a retry: that version was already amended
            raise Conflict(N_("There is no such version to amend."), version=notification.version)
        refuse_unless_open(notification, now)
        content = check_content(
            notification.kind,
            category=category,
            geometry=geometry,
            buffer_m=buffer_m,
            starts_at=starts_at,
            ends_at=ends_at,
            description=description,
            participants=participants,
            details=details,
            now=now,
            rules=rules,
        )
        dir_ = directory(db, actor)
        released_to = dir_.released_to(notification.organisation_id)
        near = _near_line(content, db, rules)
        at = logged_now(db, now)
        verdict = lead_time.judge_amendment(
            previous=lead_time.Verdict(
                timedelta(seconds=notification.required_lead_s), notification.lead_time
            ),
            previous_starts_at=notification.starts_at,
            kind=notification.kind,
            flash=notification.flash,
            near_line=near,
            starts_at=content.starts_at,
            amended_at=at,
            rules=rules,
        )
        terms = acknowledgement_terms(db, notification.precedence, at=at)
        if "justification" in notification.ack_ladder:
            terms["justification"] = notification.ack_ladder["justification"]
        new_version = notification.version + 1
        appended = record(
            db,
            author_of(actor),
            NotificationEntry.AMENDED,
            {
                "notification": str(notification.id),
                "notification_index": notification.log_index,
                "version": new_version,
                "member": str(actor.member_id),
                "reason": why,
                **content.as_body(),
                "near_line": near,
                "required_lead_s": verdict.required_seconds,
                "lead_time": verdict.lead_time,
                "acknowledgement": terms,
                "released_to": released_to,
            },
            audience=audience_of(dir_, released_to),
            now=at,
        )
        _apply(notification, content)
        notification.version = new_version
        notification.version_log_index = appended.index
        notification.version_at = appended.logged_at
        notification.near_line = near
        notification.required_lead_s = verdict.required_seconds
        notification.lead_time = verdict.lead_time
        notification.ack_deadline = appended.logged_at + timedelta(seconds=terms["ack_seconds"])
        notification.ack_ladder = terms
        db.add(
            Amendment(
                notification_id=notification.id,
                version=new_version,
                member_id=actor.member_id,
                reason=why,
                log_index=appended.index,
                amended_at=appended.logged_at,
            )
        )
        db.flush()
        emit_deconfliction(
            db,
            EventKind.NOTIFICATION,
            notification=str(notification.id),
            log_index=appended.index,
            payload={"step": "amended", "version": new_version, "lead_time": verdict.lead_time},
            now=at,
        )
        recheck_after(
            db,
            [notification],
            released_to={notification.id: released_to},
            organisations={s: o.id for s, o in dir_.by_slug.items()},
            first=frozenset({notification.id}),
            now=at,
        )
    return notification

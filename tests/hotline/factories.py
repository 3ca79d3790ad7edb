"""Hotline traffic made through the real actions, for the tests about what follows from it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.engine import make_sessionmaker
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.messages import (
    do_acknowledge_message,
    do_mark_delivered,
    do_send_message,
)
from fusioncell.hotline.engine import HotlineEngine
from fusioncell.hotline.models import Ack, Escalation, Message
from fusioncell.hotline.rules import DEFAULT_RULES
from fusioncell.ledger.context import LedgerContext, build_ledger_context

FLASH_TEXT = "Artillery movement near the line"


def send(
    db: Session,
    sender: Viewer,
    *,
    now: datetime,
    channel_id: uuid.UUID = CELL_CHANNEL_ID,
    precedence: str = "FLASH",
    text: str | None = FLASH_TEXT,
    message_id: uuid.UUID | None = None,
    **content: Any,
) -> Message:
    """A message to the cell channel, FLASH unless told; ``content`` is a template's ``form``
    and ``fields`` (with ``text=None``), or ``attachments``."""
    return do_send_message(
        db,
        sender,
        message_id=message_id or uuid.uuid4(),
        channel_id=channel_id,
        precedence=precedence,
        text=text,
        now=now,
        **content,
    )


def flash(
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    *,
    delivered: bool = True,
    text: str = FLASH_TEXT,
) -> Message:
    """alpha.liaison's FLASH in the cell channel, received by bravo.duty unless ``delivered``
    is False: BRAVO is the one party that must answer."""
    message = send(db, member("alpha.liaison"), now=clock.now(), text=text)
    if delivered:
        do_mark_delivered(db, member("bravo.duty"), message_ids=[message.id], now=clock.now())
    return message


def flashes(db: Session, sender: Viewer, clock: ManualClock, count: int) -> list[uuid.UUID]:
    """``count`` FLASH messages to the cell channel, one per round of a race."""
    return [send(db, sender, now=clock.now(), text=f"Round {round_}").id for round_ in range(count)]


def acknowledge(
    db: Session,
    actor: Viewer,
    message_id: uuid.UUID,
    *,
    now: datetime,
    ack_id: uuid.UUID | None = None,
    checkpoint_size: int | None = None,
) -> Ack:
    return do_acknowledge_message(
        db,
        actor,
        message_id=message_id,
        ack_id=ack_id or uuid.uuid4(),
        checkpoint_size=checkpoint_size,
        now=now,
    )


def escalations(db: Session, message_id: uuid.UUID) -> list[Escalation]:
    """A message's escalation rows in log order, read afresh."""
    db.rollback()
    return list(
        db.scalars(
            select(Escalation)
            .where(Escalation.message_id == message_id)
            .order_by(Escalation.log_index)
        )
    )


def restart_under_changed_rules(
    settings: Settings,
    engine: Engine,
    clock: ManualClock,
    path: Path,
    changes: dict[str, str],
) -> tuple[HotlineEngine, LedgerContext]:
    """The engine restarted under the shipped rules with ``changes`` made to their text
    (written to ``path``), as an operator editing the rules file would; with its context."""
    text = DEFAULT_RULES.read_text()
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    changed = build_ledger_context(replace(settings, hotline_policy=path))
    return HotlineEngine(make_sessionmaker(engine, ledger=changed), clock), changed

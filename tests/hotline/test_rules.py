"""The hotline rules: read from TOML, refused with a clear message when malformed, and bound
into the log, where a change is adopted as new rules before the next entry."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.db.engine import make_sessionmaker
from fusioncell.hotline.actions.channels import CELL_CHANNEL_ID
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.models import Message
from fusioncell.hotline.rules import (
    DEFAULT_RULES,
    HOTLINE_RULES,
    PRECEDENCES,
    RulesError,
    Rung,
    load_rules,
    parse_rules,
)
from fusioncell.ledger.context import LedgerContext, build_ledger_context
from fusioncell.ledger.entries import LedgerEntry, parse_leaf
from fusioncell.ledger.models import EntryBody, LogEntry


def test_the_default_policy_holds_the_deadlines_and_ladders_of_the_design() -> None:
    policy = load_rules(DEFAULT_RULES)

    assert tuple(policy.precedences) == PRECEDENCES
    flash = policy.rule("FLASH")
    assert (flash.delivered, flash.ack, flash.repeat) == (
        timedelta(seconds=15),
        timedelta(minutes=2),
        timedelta(minutes=2),
    )
    assert flash.ladder == (
        Rung(timedelta(minutes=2), ("party_duty_officer", "supervisor_duty_officer")),
        Rung(timedelta(minutes=5), ("party_liaison",)),
    )
    deadlines = {
        name: (rule.delivered, rule.ack, tuple(r.after for r in rule.ladder), rule.repeat)
        for name, rule in policy.precedences.items()
    }
    assert deadlines["IMMEDIATE"] == (
        timedelta(minutes=1),
        timedelta(minutes=10),
        (timedelta(minutes=10), timedelta(minutes=30)),
        None,
    )
    assert deadlines["PRIORITY"] == (
        timedelta(minutes=5),
        timedelta(hours=1),
        (timedelta(hours=1), timedelta(hours=3)),
        None,
    )
    assert deadlines["ROUTINE"] == (
        timedelta(minutes=15),
        timedelta(hours=6),
        (timedelta(hours=6),),
        None,
    )
    assert (policy.link_test_every, policy.link_test_precedence) == (
        timedelta(minutes=60),
        "IMMEDIATE",
    )
    assert len(policy.hash) == 64
    assert parse_rules(policy.document).hash == policy.hash


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_RULES.read_text()
    assert old in text
    path = tmp_path / f"policy-{uuid.uuid4().hex[:8]}.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[precedence.FLASH]", "[precedence.FLASH", "is not valid TOML"),
        ("delivered_seconds = 15\n", "", "the hotline rules are incomplete: 'delivered_seconds'"),
        ("[precedence.ROUTINE]", "[precedence.OTHER]", "the hotline rules are incomplete"),
        ("ack_seconds = 120", "ack_seconds = -1", "FLASH.ack_seconds must be a whole number"),
        ("ack_seconds = 120", 'ack_seconds = "soon"', "FLASH.ack_seconds must be a whole number"),
        ('notify = ["party_liaison"]', 'notify = ["the_press"]', "FLASH rung 2: notify one of"),
        ('notify = ["party_liaison"]', "notify = []", "FLASH rung 2: notify one of"),
        ('link_test_precedence = "IMMEDIATE"', 'link_test_precedence = "SOON"', "link_test"),
        (
            "ladder = [\n  { after_seconds = 21600",
            "ladder = [\n]\nunused = [\n  { after_seconds = 21600",
            "ROUTINE: the ladder needs at least one rung",
        ),
        ("max_attachments = 8", 'max_attachments = "eight"', "the hotline rules are incomplete"),
    ],
)
def test_a_malformed_policy_file_is_refused_with_a_message_naming_the_fault(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(RulesError) as raised:
        load_rules(edited(tmp_path, old, new))

    assert message in str(raised.value)


def test_a_missing_policy_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"

    with pytest.raises(RulesError, match=f"cannot read the hotline rules {missing}"):
        load_rules(missing)


@pytest.fixture
def other_policy(tmp_path: Path) -> Path:
    return edited(tmp_path, "delivered_seconds = 15", "delivered_seconds = 10")


def test_fusioncell_hotline_policy_names_the_file_and_a_new_file_changes_the_policy_hash(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, other_policy: Path, ledger: LedgerContext
) -> None:
    monkeypatch.setenv("FUSIONCELL_HOTLINE_POLICY", str(other_policy))

    chosen = Settings.from_env(database_url=settings.database_url, key_dir=settings.key_dir)
    changed = build_ledger_context(chosen)

    assert chosen.hotline_policy == other_policy
    assert changed.rules(HOTLINE_RULES).rule("FLASH").delivered == timedelta(seconds=10)
    assert changed.rules(HOTLINE_RULES).hash != ledger.rules(HOTLINE_RULES).hash
    assert changed.policy_hash != ledger.policy_hash
    assert changed.policy["hotline"] == changed.rules(HOTLINE_RULES).document


def test_a_changed_policy_is_adopted_in_the_log_before_the_next_entry_and_bound_into_it(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    db: Session,
    member: Callable[[str], Viewer],
    clock: ManualClock,
    settings: Settings,
    other_policy: Path,
) -> None:
    liaison = member("alpha.liaison")
    before = db.scalar(select(LogEntry.index).order_by(LogEntry.index.desc()).limit(1))
    assert before is not None
    monkeypatch.setenv("FUSIONCELL_HOTLINE_POLICY", str(other_policy))
    changed = build_ledger_context(
        replace(Settings.from_env(), database_url=settings.database_url, key_dir=settings.key_dir)
    )
    message_id = uuid.uuid4()

    with make_sessionmaker(engine, ledger=changed)() as restarted:
        do_send_message(
            restarted,
            liaison,
            message_id=message_id,
            channel_id=CELL_CHANNEL_ID,
            precedence="FLASH",
            text="Sent under the new policy",
            now=clock.now(),
        )

    db.rollback()
    adopted, sent = db.scalars(
        select(LogEntry).where(LogEntry.index > before).order_by(LogEntry.index)
    ).all()
    assert adopted.entry_type == LedgerEntry.POLICY_ADOPTED
    assert sent.entry_type == HotlineEntry.MESSAGE_SENT
    adopted_body = db.get(EntryBody, adopted.index)
    assert adopted_body is not None
    assert json.loads(adopted_body.body) == {"policy": changed.policy}
    assert parse_leaf(adopted.leaf).header["policy"] == changed.policy_hash
    assert parse_leaf(sent.leaf).header["policy"] == changed.policy_hash
    message = db.get(Message, message_id)
    assert message is not None
    assert message.hotline_policy == changed.rules(HOTLINE_RULES).hash
    assert message.delivered_deadline == clock.now() + timedelta(seconds=10)

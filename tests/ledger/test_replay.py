"""``verify`` runs whatever replays it is given, each observing every entry in log order, and
fails the log at the earliest problem any of them names. The ledger imports none."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from fusioncell import bootstrap
from fusioncell.commercial.replay import CommercialReplay
from fusioncell.deconfliction.replay import NotificationReplay
from fusioncell.deescalation.replay import ComplianceReplay
from fusioncell.diplomacy.replay import DiplomacyReplay
from fusioncell.hotline.replay import EscalationReplay
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.models import LogEntry
from fusioncell.ledger.verify import DatabaseSource, Replay, verify_log
from fusioncell.verification.replay import CaseReplay


@pytest.fixture
def signed(demo: None, app: FastAPI) -> int:
    """The demo log, checkpointed in full; its size."""
    app.state.checkpointer.run_once()
    with app.state.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(LogEntry)))


class Objects:
    """Names a problem at the first entry of one type, and records what it saw."""

    def __init__(self, entry_type: str, reason: str) -> None:
        self.entry_type = entry_type
        self.reason = reason
        self.seen: list[tuple[int, str, bool]] = []

    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        self.seen.append((index, entry_type, body is not None))

    def first_problem(self) -> tuple[int, str] | None:
        found = [index for index, kind, _body in self.seen if kind == self.entry_type]
        return (found[0], self.reason) if found else None


def run(engine: Engine, ledger: LedgerContext, *replays: Replay) -> tuple[bool, int | None, str]:
    with DatabaseSource(engine) as source:
        report = verify_log(
            source,
            log_key=ledger.keyring.log_signer.verifier(),
            replays=[lambda replay=replay: replay for replay in replays],
        )
    return report.ok, report.failed_index, report.reason or ""


def test_a_replay_observes_every_entry_in_log_order_with_its_body(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    watcher = Objects("no.such.type", "never")
    assert run(engine, ledger, watcher) == (True, None, "")
    assert [index for index, _kind, _body in watcher.seen] == list(range(signed))
    assert all(has_body for _index, _kind, has_body in watcher.seen)


def test_the_earliest_problem_any_replay_names_fails_the_log(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    late = Objects("hotline.channel.opened", "a channel the replay refuses")
    early = Objects("cell.member.created", "a member the replay refuses")
    ok, failed, reason = run(engine, ledger, late, early)
    late_problem, early_problem = late.first_problem(), early.first_problem()
    assert late_problem is not None and early_problem is not None
    assert early_problem[0] < late_problem[0]
    assert (ok, failed, reason) == (False, *early_problem)


def test_without_replays_the_ledger_judges_only_its_own_rules(
    signed: int, engine: Engine, ledger: LedgerContext
) -> None:
    assert run(engine, ledger) == (True, None, "")


def test_the_registry_gives_verify_each_tracks_replay() -> None:
    assert (
        EscalationReplay,
        ComplianceReplay,
        NotificationReplay,
        CaseReplay,
        DiplomacyReplay,
        CommercialReplay,
    ) == bootstrap.REPLAYS

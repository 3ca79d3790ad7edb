"""The verification rules: R11's deadlines, the escalation ladder and the evidence limits,
read from TOML and refused when incomplete or wrong."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fusioncell.verification.rules import RulesError, load_rules, parse_rules


def test_the_shipped_rules_are_r11s_deadlines() -> None:
    rules = load_rules()
    assert (rules.triage, rules.on_site, rules.comment_window) == (
        timedelta(hours=24),
        timedelta(hours=48),
        timedelta(hours=72),
    )
    assert rules.evidence_types == ("image/jpeg", "image/png", "application/pdf", "text/plain")
    assert rules.ladder_terms()[0] == {"after_seconds": 0, "notify": ["supervisor_duty_officer"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["deadlines"].pop("triage_hours"), "incomplete"),
        (lambda d: d["deadlines"].update(comment_hours=0), "at least 1"),
        (lambda d: d["deadlines"].update(on_site_hours="48"), "whole number"),
        (lambda d: d["escalation"].update(ladder=[]), "at least one rung"),
        (lambda d: d["escalation"]["ladder"][0].update(notify=["everyone"]), "notify one of"),
        (lambda d: d["evidence"].update(types=[]), "at least one type"),
        (lambda d: d["evidence"].update(max_bytes=0), "at least 1"),
    ],
)
def test_wrong_rules_are_refused(change: Any, message: str) -> None:
    document = copy.deepcopy(load_rules().document)
    change(document)
    with pytest.raises(RulesError, match=message):
        parse_rules(document)


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[deadlines\n")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(broken)

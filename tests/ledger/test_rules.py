"""The rules in force: sections registered by the tracks, one document, the same bytes as
before the sections were registered (so an existing log's rules hash does not change)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fusioncell.cell.rules import CELL_RULES
from fusioncell.commercial.rules import load_rules as load_commercial_rules
from fusioncell.config import Settings
from fusioncell.cot.rules import load_rules as load_cot_rules
from fusioncell.deconfliction.rules import load_rules as load_deconfliction_rules
from fusioncell.deescalation.rules import load_rules as load_deescalation_rules
from fusioncell.diplomacy.rules import load_rules as load_diplomacy_rules
from fusioncell.hotline.rules import DEFAULT_RULES, HOTLINE_RULES, HotlineRules, load_rules
from fusioncell.ledger.context import build_ledger_context
from fusioncell.ledger.entries import canonical
from fusioncell.ledger.rules import RulesSection, register_sections, registered_sections
from fusioncell.verification.rules import load_rules as load_verification_rules

# The rules hash of the shipped hotline rules and default settings. Registering the rules as
# sections kept the hash logs had bound ("2e79e3f5..."); it changed once since, on purpose,
# when the text limit became ``max_text_chars`` (characters, as the page counts them), and
# once more when the de-escalation track registered its limits (``deescalation/rules.toml``),
# and again when those rules named R7's inspection interval and request deadline, and when the
# deconfliction track registered R8-R10 (``deconfliction/rules.toml``), and when the
# verification track registered R11's deadlines, its escalation ladder and the evidence
# files' limits (``verification/rules.toml``), and when the diplomacy track registered its
# rules (``diplomacy/rules.toml``) and the commercial track the shipments' lead time and its
# evidence files' limits (``commercial/rules.toml``): a server started with new rules logs
# their adoption. Any other change here is a mistake.
SHIPPED_RULES_HASH = "4cfe87b9f1167254107ab4c02b20dcf8e701cbbcaace9aab44b10b64ac4f7d39"


def document_as_written_before_sections(settings: Settings) -> dict[str, Any]:
    """The document ``ledger/context.py`` hard-coded before the sections were registered
    (with the sections of the tracks registered since)."""
    return {
        "hotline": load_rules(settings.hotline_policy).document,
        "deescalation": load_deescalation_rules().document,
        "deconfliction": load_deconfliction_rules().document,
        "verification": load_verification_rules().document,
        "diplomacy": load_diplomacy_rules().document,
        "commercial": load_commercial_rules().document,
        "cot": load_cot_rules().document,
        "version": 1,
        "cell": {
            "login_backoff_threshold": settings.login_backoff_threshold,
            "login_backoff_base_seconds": settings.login_backoff_base_seconds,
            "login_backoff_max_seconds": settings.login_backoff_max_seconds,
            "token_ttl_seconds": settings.token_ttl_seconds,
            "session_ttl_seconds": settings.session_ttl_seconds,
        },
    }


def test_the_shipped_rules_keep_the_hash_existing_logs_bind(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite://", key_dir=tmp_path)
    assert build_ledger_context(settings).policy_hash == SHIPPED_RULES_HASH


def test_the_rules_document_is_byte_identical_to_the_hard_coded_one_for_other_settings(
    tmp_path: Path,
) -> None:
    shipped = DEFAULT_RULES
    faster = tmp_path / "rules.toml"
    faster.write_text(
        shipped.read_text().replace("delivered_seconds = 15", "delivered_seconds = 9")
    )
    settings = replace(
        Settings(database_url="sqlite://", key_dir=tmp_path),
        token_ttl_seconds=60,
        login_backoff_threshold=7,
        hotline_policy=faster,
    )
    context = build_ledger_context(settings)
    assert canonical(context.policy) == canonical(document_as_written_before_sections(settings))
    assert context.policy_hash != SHIPPED_RULES_HASH


def test_a_track_reads_its_section_by_its_object_or_by_name(tmp_path: Path) -> None:
    context = build_ledger_context(Settings(database_url="sqlite://", key_dir=tmp_path))
    hotline = context.rules(HOTLINE_RULES)
    assert isinstance(hotline, HotlineRules)
    assert context.rules("hotline") is hotline
    assert context.rules(CELL_RULES)["token_ttl_seconds"] == 3600
    with pytest.raises(LookupError, match="no rules section 'intelligence'"):
        context.rules("intelligence")


def test_every_registered_section_is_in_the_document_and_nothing_else(tmp_path: Path) -> None:
    context = build_ledger_context(Settings(database_url="sqlite://", key_dir=tmp_path))
    names = {section.name for section in registered_sections()}
    assert names == {
        "cell",
        "hotline",
        "deescalation",
        "deconfliction",
        "verification",
        "diplomacy",
        "commercial",
        "cot",
    }
    assert set(context.policy) == names | {"version"}


def test_a_second_section_with_a_taken_name_is_refused() -> None:
    impostor: RulesSection[dict[str, Any]] = RulesSection(
        name="hotline", load=lambda _s: {}, parse=dict, document=dict
    )
    with pytest.raises(ValueError, match="already registered"):
        register_sections(impostor)
    with pytest.raises(ValueError, match="the rules document's own field"):
        register_sections(replace(impostor, name="version"))
    assert HOTLINE_RULES in registered_sections()

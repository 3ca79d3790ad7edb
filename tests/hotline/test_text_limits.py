"""One limit for a message's text, in characters, on the page and on the server: a text the
page's counter accepts is never refused for its bytes, and every free-text field of a template
carries its own limit to the page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from tests.helpers.pages import HTML
from tests.helpers.tables import refused
from tests.hotline.factories import send
from tests.querycount import signed_in

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.config import Settings
from fusioncell.errors import InvalidInput
from fusioncell.hotline import forms
from fusioncell.hotline.rules import HOTLINE_RULES, RulesError, parse_rules
from fusioncell.ledger.context import LedgerContext

ARABIC_LETTER = "\u0628"  # two bytes in UTF-8
EMOJI = "\U0001f6a9"  # four bytes in UTF-8, two UTF-16 units, one character


def test_the_limit_counts_characters_not_bytes(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock, ledger: LedgerContext
) -> None:
    limit = ledger.rules(HOTLINE_RULES).max_text_chars
    alpha = member("alpha.liaison")

    longest = ARABIC_LETTER * (limit - 1) + EMOJI
    assert len(longest.encode()) > limit  # the old byte limit would have refused it
    assert send(db, alpha, now=clock.now(), text=longest).text == longest

    with refused(db, InvalidInput) as error:
        send(db, alpha, now=clock.now(), text=ARABIC_LETTER * (limit + 1))
    assert f"at most {limit} characters" in str(error.value)


def test_rules_from_before_named_the_limit_in_bytes_and_still_parse(
    ledger: LedgerContext,
) -> None:
    document = dict(ledger.rules(HOTLINE_RULES).document)
    limit = document.pop("max_text_chars")
    assert parse_rules({**document, "max_text_bytes": limit}).max_text_chars == limit
    with pytest.raises(RulesError):
        parse_rules(document)


def test_every_text_field_of_the_compose_form_carries_its_limit(
    app: FastAPI,
    db: Session,
    clock: ManualClock,
    settings: Settings,
    ledger: LedgerContext,
    demo: None,
) -> None:
    with signed_in(app, db, clock, settings, "alpha.liaison") as browser:
        page = browser.get("/hotline?compose=1", headers=HTML).text
    limit = ledger.rules(HOTLINE_RULES).max_text_chars
    assert re.search(rf'<textarea id="compose-text" name="text"[^>]*maxlength="{limit}"', page)
    for name, form in forms.FORMS.items():
        for field_name in form.fields:
            wanted = forms.text_limit(name, field_name)
            if wanted is None:
                continue
            tag = re.search(rf'<(?:textarea|input)[^>]*name="{name}\.{field_name}"[^>]*>', page)
            if tag is None:
                continue  # a template the compose form does not offer
            assert f'maxlength="{wanted}"' in tag.group(0), tag.group(0)
    assert 'maxlength="2000"' in page  # the incident's description, at least, is offered

"""Jinja2 environments, one per language, each with its Babel catalogue installed.

One environment per language keeps translation thread-safe without per-request globals. Each
also says in its language what any template prints: a ``Text`` (a problem's detail, a form's
error) is localized as it is printed (``finalize``), and the filters below write times, lists,
roles and organisation names as the locale does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from fusioncell.cell.labels import KIND_LABELS, ROLE_LABELS, organisation_name, role_list
from fusioncell.i18n import (
    LANGUAGES,
    direction,
    join_list,
    localize,
    moment_text,
    time_text,
    translate,
    translations,
)
from fusioncell.text import Text

PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATE_DIRS = [PACKAGE / "web" / "templates", *sorted(PACKAGE.glob("*/templates"))]


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(path) for path in dict.fromkeys(TEMPLATE_DIRS)]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: localize(language, value) if isinstance(value, Text) else value,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    env.globals["KIND_LABELS"] = KIND_LABELS
    env.filters["moment"] = lambda value: moment(value, language)
    env.filters["localized"] = lambda value: localize(language, value)
    env.filters["clock_time"] = lambda value: time_text(value, language)
    env.filters["listing"] = lambda items: join_list(language, [str(i) for i in items])
    env.filters["roles"] = lambda roles: role_list(roles, language)
    env.filters["organisation_name"] = lambda organisation: organisation_name(
        organisation, language
    )
    return env


def moment(value: datetime | str | None, language: str) -> str:
    """A time as the locale writes it, with its zone (UTC). Takes a ``datetime`` or the text
    a page row already holds ("2025-03-12 14:03:07", ISO 8601; UTC unless it says)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return moment_text(value, language)


def render(template: str, *, language: str, **context: Any) -> str:
    env = environment(language)
    return env.get_template(template).render(lang=language, dir=direction(language), **context)


__all__ = ["environment", "render", "translate"]

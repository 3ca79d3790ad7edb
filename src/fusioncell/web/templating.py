"""Jinja2 environments, one per language, each with its Babel catalogue installed.

One environment per language keeps translation thread-safe without per-request globals.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from fusioncell.cell.labels import KIND_LABELS, ROLE_LABELS
from fusioncell.i18n import LANGUAGES, direction, translate, translations

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
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["ROLE_LABELS"] = ROLE_LABELS
    env.globals["KIND_LABELS"] = KIND_LABELS
    return env


def render(template: str, *, language: str, **context: Any) -> str:
    env = environment(language)
    return env.get_template(template).render(lang=language, dir=direction(language), **context)


__all__ = ["environment", "render", "translate"]

"""Precedence badges meet WCAG AA contrast (4.5:1 for text), in the light and the dark theme,
computed from the colours app.css gives them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "src/fusioncell/web/static/css/app.css"
BADGES = {
    "flash": ("--badge-fg", "--flash"),
    "immediate": ("--badge-fg", "--immediate"),
    "priority": ("--badge-fg-priority", "--priority"),
    "routine": ("--badge-fg", "--routine"),
}


def variables() -> dict[str, str]:
    """The :root custom properties (the light theme; the dark one leaves the badges' alone)."""
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(), re.S)
    assert root is not None
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root.group(1)))


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("precedence", BADGES)
def test_each_precedence_badge_meets_wcag_aa(precedence: str) -> None:
    found = variables()
    text, background = BADGES[precedence]
    assert contrast(found[text], found[background]) >= 4.5, (precedence, found[background])


def test_the_dark_theme_keeps_the_badges_colours() -> None:
    dark = re.search(
        r"prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{(.*?)\}", CSS.read_text(), re.S
    )
    assert dark is not None
    changed = set(re.findall(r"(--[\w-]+):", dark.group(1)))
    assert not changed & {name for pair in BADGES.values() for name in pair}

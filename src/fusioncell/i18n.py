"""Languages offered, text direction, Babel catalogues, and ``translate``: the translations
every layer may use. Domain modules translate their own messages (form errors, labels) without
importing ``web/``; the catalogues live in ``fusioncell/locale/``.

Loading the .po at start-up (instead of compiling .mo files at setup) means a fresh checkout
has nothing to build and a catalogue edit shows on the next restart.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from fusioncell.errors import UnsupportedLanguage
from fusioncell.text import N_

__all__ = [
    "LANGUAGES",
    "N_",
    "direction",
    "negotiate",
    "require_language",
    "translate",
    "translations",
]

CATALOGUE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "ltr"),
    "ar": ("العربية", "rtl"),
    "he": ("עברית", "rtl"),
}


def require_language(code: str) -> str:
    if code not in LANGUAGES:
        raise UnsupportedLanguage(
            f"{code!r} is not offered; choose one of {', '.join(LANGUAGES)}",
            offered=list(LANGUAGES),
        )
    return code


def direction(code: str) -> str:
    return LANGUAGES.get(code, LANGUAGES["en"])[1]


def catalogue_path(code: str) -> Path:
    return CATALOGUE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(code: str) -> NullTranslations:
    path = catalogue_path(code)
    if code == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalogue = read_po(po, locale=code, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """Pick the first offered language from an Accept-Language header (q-values honoured)."""
    if not accept_language:
        return default
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else default


def translate(language: str, message: str, **variables: Any) -> str:
    text: str = translations(language).gettext(message)
    return text % variables if variables else text

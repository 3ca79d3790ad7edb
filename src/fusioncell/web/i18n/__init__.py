"""Languages offered, text direction, and Babel catalogues loaded straight from the .po files.

Loading the .po at start-up (instead of compiling .mo files at setup) means a fresh checkout
has nothing to build and a catalogue edit shows on the next restart.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from fusioncell.errors import UnsupportedLanguage

CATALOGUE_DIR = Path(__file__).parent
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

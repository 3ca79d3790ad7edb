"""Languages offered, text direction, Babel catalogues, and ``translate``: the translations
every layer may use. Domain modules translate their own messages (form errors, labels) without
importing ``web/``; the catalogues live in ``fusioncell/locale/``.

Loading the .po at start-up (instead of compiling .mo files at setup) means a fresh checkout
has nothing to build and a catalogue edit shows on the next restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time, get_datetime_format
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from fusioncell.errors import UnsupportedLanguage
from fusioncell.text import N_, Text

__all__ = [
    "LANGUAGES",
    "N_",
    "direction",
    "join_list",
    "localize",
    "moment_text",
    "negotiate",
    "require_language",
    "time_text",
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


def localize(language: str, value: object) -> str:
    """``value`` in ``language``: a ``Text`` by its message and parameters (a parameter that
    is a ``Text`` too is localized in turn; other parameters are names and numbers, kept as
    they are), any other string by the catalogue (a message marked with ``N_`` and passed on
    as a plain ``str``; unknown text is kept)."""
    if isinstance(value, Text):
        params = {
            name: localize(language, inner) if isinstance(inner, Text) else inner
            for name, inner in value.params.items()
        }
        return translate(language, value.message, **params)
    if isinstance(value, str):
        return translate(language, value) if value else value
    return str(value)


def join_list(language: str, items: Iterable[str]) -> str:
    """Items joined as the locale joins a list (CLDR's standard list: "A, B, and C",
    in Arabic and Hebrew the conjunction "and" is a prefix of the last item)."""
    listed = list(items)
    if not listed:
        return ""
    return str(format_list(listed, style="standard", locale=language))


def moment_text(moment: datetime, language: str, *, zone: tzinfo = UTC) -> str:
    """A date and time as the locale writes them (its medium date, its long time: seconds and
    the zone's name), in ``zone``. A naive ``moment`` is taken as UTC, as the database keeps it."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    local = aware.astimezone(zone)
    pattern = str(get_datetime_format("medium", locale=language)).replace("'", "")
    time = format_time(local, "long", tzinfo=zone, locale=language)
    date = format_date(local, "medium", locale=language)
    return pattern.replace("{0}", time).replace("{1}", date)


def time_text(moment: datetime, language: str, *, zone: tzinfo = UTC) -> str:
    """A time of day with seconds and the zone's name, as the locale writes it."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return str(format_time(aware.astimezone(zone), "long", tzinfo=zone, locale=language))

"""Text as the cell accepts it, and strings marked for translation.

``N_`` marks text for translation where it is defined; it is translated where it is shown.
Babel's extractor knows ``N_`` by default, so these strings reach the catalogues. Given
parameters, ``N_("at most %(limit)s characters", limit=64)`` is a ``Text``: a ``str`` that
reads as the English sentence (what problem+json and logs say) and still knows its message and
parameters, so a page can say it in its own language (``fusioncell.i18n.localize``) however
far it travelled as a plain string (an exception's ``detail``, a form's error).

``unsafe_text`` finds what no field may hold. JSON can spell a lone UTF-16 surrogate
(``"\\ud800"``), which Python decodes to a ``str`` that cannot be encoded as UTF-8: SQLite,
PostgreSQL, RFC 8785 canonical JSON and every response would fail on it. PostgreSQL refuses
the NUL character in text. Both are refused once, where a request enters the application
(``fusioncell.web.deps.refuse_unsafe_text``), so no field can forget to.
"""

from __future__ import annotations

from typing import Any

Location = tuple[str, ...]

NUL = "\x00"
HAS_NUL = "contains the NUL character"
HAS_SURROGATE = "contains a lone surrogate, which is not Unicode text"


class Text(str):
    """A sentence for a person: its English reading, with the message and parameters that
    translate it. ``english`` replaces the reading where another wording must stay (a
    library's own message, already documented to API clients)."""

    __slots__ = ("message", "params")
    message: str
    params: dict[str, Any]

    def __new__(cls, message: str, params: dict[str, Any], *, english: str | None = None) -> Text:
        text = super().__new__(cls, message % params if english is None else english)
        text.message = message
        text.params = params
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.message, self.params, str(self)))


def _rebuild(message: str, params: dict[str, Any], english: str) -> Text:
    return Text(message, params, english=english)


def N_(message: str, **params: Any) -> str:
    return Text(message, params) if params else message


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if NUL in value:
        return HAS_NUL
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return HAS_SURROGATE
    return None


def unsafe_text(value: Any, location: Location = ()) -> tuple[Location, str] | None:
    """The first string (value or object key) in a decoded JSON document or form that
    cannot be stored as text: where it is, and why. Walks without recursion, so a deeply
    nested document cannot exhaust the stack."""
    pending: list[tuple[Location, Any]] = [(location, value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            if (problem := text_problem(item)) is not None:
                return where, problem
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                key_text = str(key)
                if (problem := text_problem(key_text)) is not None:
                    return (*where, _printable(key_text)), f"the name {problem}"
                pending.append(((*where, key_text), inner))
        elif isinstance(item, list | tuple):
            pending.extend(
                ((*where, str(i)), inner) for i, inner in reversed(list(enumerate(item)))
            )
    return None


def _printable(value: str) -> str:
    """A name safe to echo back in a problem document."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace(NUL, "\\x00")

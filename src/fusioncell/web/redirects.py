"""Where a ``next=`` parameter may send a browser: a path on this site, else home.

Browsers are lenient where a server is strict: they read ``/\\evil`` as ``//evil`` (a backslash
counts as a slash), drop tabs and newlines inside a URL, and some decode ``%2F`` or ``%5C``
before deciding what is the host. So a target is checked as it is and as it reads once
percent-decoded (several times over): any form that names a scheme or a host, or carries a
backslash, a control character or a space, sends the browser home instead.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

HOME = "/"
_DECODINGS = 4


def _on_site(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    if "\\" in text or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site in every reading, else ``/``."""
    if not target:
        return HOME
    reading = target
    for _ in range(_DECODINGS):
        if not _on_site(reading):
            return HOME
        decoded = unquote(reading)
        if decoded == reading:
            return target
        reading = decoded
    return HOME  # still encoded after several decodings: nothing a person typed

"""``pytak``, imported without its optional ``aiohttp`` (only its TAK Server enrolment over
HTTPS needs it, which these tests do not use): it warns about it at import."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The 'aiohttp' package", category=UserWarning)
    import pytak

__all__ = ["pytak"]

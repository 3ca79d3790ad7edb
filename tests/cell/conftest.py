"""The cell's tests share the suite's fixtures (``tests/conftest.py``: row counts, logging in,
a second browser), the page helpers (``tests/helpers/pages.py``) and the cell's factories
(``tests/cell/factories.py``). ``HTML`` and ``csrf_in`` stay importable from here for the
modules that still import them from this place."""

from __future__ import annotations

from tests.helpers.pages import HTML as HTML
from tests.helpers.pages import csrf_in as csrf_in

"""Helpers the whole suite shares, one module per concern: ``pages`` (a browser without script:
CSRF fields, logging in), ``problems`` (problem+json answers), ``tables`` (row counts, and that a
refused action wrote nothing), ``verifying`` (``fusioncell verify`` over a test's database).
Fixtures built on them live in ``tests/conftest.py``; each track's own factories live in
``tests/<track>/factories.py``."""

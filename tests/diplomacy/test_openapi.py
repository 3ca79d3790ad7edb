"""The diplomacy operations against their OpenAPI description (``tests/helpers/openapi.py``),
as a party's liaison officer, who may propose, sign, request meetings and comment."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from tests.helpers.openapi import check_operations_under

pytestmark = pytest.mark.long


# Each prefix is one share: make test fuzzes it on one database (tests/conftest.py).
@pytest.mark.share
@pytest.mark.parametrize("prefix", ["/api/v1/agreements", "/api/v1/milestones", "/api/v1/meetings"])
def test_every_diplomacy_operation_answers_as_documented(
    app: FastAPI, token_for: Callable[[str], dict[str, str]], prefix: str
) -> None:
    check_operations_under(app, token_for("alpha.liaison"), prefix, examples=5, at_least=2)

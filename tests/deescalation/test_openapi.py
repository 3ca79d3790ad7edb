"""The de-escalation operations against their OpenAPI description
(``tests/helpers/openapi.py``), as a party's liaison (who may post and sign) and as the
verifier."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from tests.helpers.openapi import check_operations_under

pytestmark = pytest.mark.long


# Each role is one share: make test fuzzes it on one database (tests/conftest.py).
@pytest.mark.share
@pytest.mark.parametrize("username", ["alpha.liaison", "verifier.lead"])
def test_every_deescalation_operation_answers_as_documented(
    app: FastAPI, token_for: Callable[[str], dict[str, str]], username: str
) -> None:
    check_operations_under(
        app, token_for(username), "/api/v1/deescalation/", examples=30, at_least=12
    )

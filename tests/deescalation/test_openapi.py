"""The de-escalation operations against their OpenAPI description, as
``tests/web/test_schemathesis.py`` checks every operation: Schemathesis generates valid and
invalid requests, as a party's liaison (who may post and sign) and as the verifier, and every
answer must be documented, never a 500, every body matching its schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.web.test_routes import registered_routes

pytestmark = pytest.mark.long


EXAMPLES = 30
ACCEPTED = [positive_data_acceptance]


@pytest.mark.parametrize("username", ["alpha.liaison", "verifier.lead"])
def test_every_deescalation_operation_answers_as_documented(
    app: FastAPI, token_for: Callable[[str], dict[str, str]], username: str
) -> None:
    headers = token_for(username)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app).include(
        path_regex="^/api/v1/deescalation/"
    )
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    # Every route the track serves is documented, and run here.
    served = {
        (method, path)
        for method, path in registered_routes(app)
        if path.startswith("/api/v1/deescalation/") and method != "HEAD"
    }
    assert {(o.method.upper(), o.path) for o in operations} == served
    assert len(operations) >= 12
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=headers, excluded_checks=ACCEPTED)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{operation.label} ({mode}): {failure}")
    assert not failures, "\n\n".join(failures)

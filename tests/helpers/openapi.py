"""One track's operations against their OpenAPI description, as
``tests/web/test_schemathesis.py`` checks every operation: Schemathesis generates valid and
invalid requests for each operation under a path prefix, and every answer must be documented,
never a 500, every body matching its schema."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.web.test_routes import registered_routes

# Off, as in tests/web/test_schemathesis.py: the server's rules are richer than the schema.
ACCEPTED = [positive_data_acceptance]


def check_operations_under(
    app: FastAPI, headers: dict[str, str], prefix: str, *, examples: int, at_least: int
) -> None:
    """Every route the app serves under ``prefix`` is documented, and each documented
    operation answers generated requests (valid and invalid) as the document says."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app).include(
        path_regex=f"^{prefix}"
    )
    # An invalid body can also be too large (a list over its item limit): refused with 413,
    # as tests/web/test_schemathesis.py counts it.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    served = {
        (method, path)
        for method, path in registered_routes(app)
        if path.startswith(prefix) and method != "HEAD"
    }
    assert {(o.method.upper(), o.path) for o in operations} == served
    assert len(operations) >= at_least
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=headers, excluded_checks=ACCEPTED)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # it takes no input that can be wrong
            except (Exception, BaseExceptionGroup) as failure:
                failures.append(f"{operation.label} ({mode}): {failure}")
    assert not failures, "\n\n".join(failures)

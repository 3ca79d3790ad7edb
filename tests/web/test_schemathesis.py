"""The OpenAPI document against the running app: Schemathesis generates requests from
``/api/v1/openapi.json`` for every operation (valid and invalid ones) as the supervisor's
chair, and checks every answer: never a 500, every status and content type documented,
every body matching its schema, a 405 with ``Allow`` for an undocumented method.

A second test runs the stateful phase: call sequences chained by the links Schemathesis infers
from the document (70 of them: a message's id into GET, ack and relay; a member's id into the member
routes; an entry's index into its receipt), every answer checked the same way.

Left out, because a generated request would end the run itself: ``DELETE /auth/token``
(revokes the run's token) and ``GET /stream`` (an endless response).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from fusioncell.web.problems import DOCUMENTED_ERRORS, PROBLEM_JSON

pytestmark = pytest.mark.long

# Per operation and per kind (valid, invalid): about 35 operations, within a minute.
EXAMPLES = 25
# Deliberately off, as the README says: the server's rules (a precedence the hotline policy
# names, a template's fields, password strength, username characters, no NUL) are richer than
# the JSON Schema can state, so a schema-valid request is rightly refused with a 422.
ACCEPTED = [positive_data_acceptance]


# The operations are cut into shares (by their labels, in turn), so that the two workers take
# them in parallel and ``make test`` deals them out between the databases (marker ``share``).
SHARES = 4


@pytest.mark.share
@pytest.mark.parametrize("share", range(SHARES))
def test_every_operation_answers_as_its_openapi_document_says(
    app: FastAPI, token_for: Callable[[str], dict[str, str]], share: int
) -> None:
    headers = token_for("supervisor.chair")
    schema = (
        schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        .exclude(method="DELETE", path="/api/v1/auth/token")
        .exclude(path="/api/v1/stream")
    )
    # An invalid body can also be too large (a batch over its item limit): refused with 413.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    failures: list[str] = []
    every = sorted((result.ok() for result in schema.get_all_operations()), key=lambda o: o.label)
    assert len(every) > 30
    for operation in every[share::SHARES]:
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
                assert mode is GenerationMode.NEGATIVE  # it takes no input that can be wrong
            except (Exception, BaseExceptionGroup) as failure:  # every operation is tried
                failures.append(f"{operation.label} ({mode}): {failure}")
    assert not failures, "\n\n".join(failures)


def test_every_operation_documents_its_problems_as_problem_json(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()

    assert document["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
    ]
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) > 30
    for path, method, operation in operations:
        for status in DOCUMENTED_ERRORS:
            response = operation["responses"][str(status)]
            assert response["content"] == {
                PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (method, path, status)
        assert all(
            "application/json" not in response.get("content", {})
            for status, response in operation["responses"].items()
            if status.startswith("4")
        ), (method, path)


# The stateful phase: sequences of calls chained by the links Schemathesis infers from the
# document (a message's id from its POST into GET, ack and relay; a member's id into the
# member routes), every answer checked as above.
STATEFUL_STEPS = 10
STATEFUL_EXAMPLES = 15


def test_chained_calls_answer_as_the_openapi_document_says(
    app: FastAPI, token_for: Callable[[str], dict[str, str]]
) -> None:
    headers = token_for("supervisor.chair")
    schema = (
        schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        .exclude(method="DELETE", path="/api/v1/auth/token")
        .exclude(path="/api/v1/stream")
    )
    machine = schema.as_state_machine()

    class Chained(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=ACCEPTED)

    Chained.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )

"""The OpenAPI spec fuzzed with schemathesis once per role: no input makes the server answer 5xx.

Every operation of ``/openapi.json`` is called with a few generated inputs (valid and invalid
ones, as schemathesis draws them) under each role's token, on a workspace with real people, a
consent and an open unmask request. The Segment collector routes take a write key instead of a
token and are fuzzed once with the workspace's key. Inputs are few per operation (the suite has
two cores) and the examples database is off, so a run does not depend on the last one.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.python import asgi

from custodia.api.app import create_app
from custodia.privacy.roles import Role

SecuredWorkspace = Any  # tests/security/conftest.py
COLLECTOR_KINDS = ("track", "identify", "page", "screen", "group", "alias", "batch", "import")
COLLECTOR_PATHS = frozenset(f"/v1/{kind}" for kind in COLLECTOR_KINDS)
EXAMPLES_PER_OPERATION = int(os.environ.get("CUSTODIA_FUZZ_EXAMPLES", "6"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def schema(secured: SecuredWorkspace) -> Iterator[Any]:
    """The app's schema, served by the app itself (its lifespan started once, stopped after)."""
    loaded = schemathesis.openapi.from_asgi("/openapi.json", create_app(secured.settings))
    yield loaded
    asgi.shutdown_lifespans()


def _server_errors(operation: Any, headers: dict[str, str]) -> list[str]:
    """Up to EXAMPLES_PER_OPERATION calls; each 5xx as 'METHOD path -> status (input shape)'."""
    found: list[str] = []

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        try:
            status: int | str = case.call(headers=headers).status_code
        except Exception as exc:  # the in-process client re-raises what the app did not handle
            status = type(exc).__name__
        if not isinstance(status, int) or status >= 500:
            shape = {"path": case.path_parameters, "query": case.query, "body": case.body}
            found.append(f"{operation.method.upper()} {operation.path} -> {status} {shape!r:.200}")

    call()
    return found


def _operations(schema: Any, *, collector: bool) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if (op.path in COLLECTOR_PATHS) is collector]


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_no_server_error_for_any_input_under_any_role(
    schema: Any, secured: SecuredWorkspace, role: str
) -> None:
    errors = [
        error
        for operation in _operations(schema, collector=False)
        for error in _server_errors(operation, secured.auth(role))
    ]
    assert errors == []


def test_no_server_error_on_the_collector_routes(schema: Any, secured: SecuredWorkspace) -> None:
    basic = base64.b64encode(f"{secured.write_key}:".encode()).decode()
    headers = {"Authorization": f"Basic {basic}"}
    errors = [
        error
        for operation in _operations(schema, collector=True)
        for error in _server_errors(operation, headers)
    ]
    assert errors == []

"""Authorization per role, at the three levels the issue names.

- Function level: every route guarded by ``require_role`` is found from ``app.routes`` (the roles
  are read from the dependency itself, so a new route is covered without editing this file) and
  called with a marketer's token: 403 wherever the marketer is not listed (401 on the customer
  portal, which takes customers' portal tokens only); without a token: 401 (``POST
  /v1/auth/login`` and ``/health`` are the only public routes). A console login session of each
  role is refused exactly where that role is.
- Property level: every GET route, under every role, answers without ciphertext (``enc:v1:``) or
  key fields (``wrapped_key``, ``secret``, ``token_hash``).
- Object level: there is one workspace per tenant (no tenant column or tenant id in a token); a
  token or login session is valid only in the workspace that issued it, so another tenant's
  customers are out of reach. Within a workspace, an unmask request belongs to its requester:
  others who may not approve neither see it nor use it, and it opens only the customer it names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.settings import load_settings
from custodia.workspace import Workspace

SecuredWorkspace = Any  # tests/security/conftest.py
SECRET_MARKERS = ("enc:v1:", "wrapped_key", '"secret"', "token_hash")
ALL_ROLES = frozenset(role.value for role in Role)
PORTAL = frozenset({"customer"})  # the customer portal's own tokens, tied to one profile


def _roles_needed(dependant: Any) -> frozenset[str] | None:
    """The roles a route's ``require_role`` admits; ALL_ROLES for any token; None when public."""
    call = dependant.call
    if getattr(call, "__qualname__", "").startswith("require_role."):
        cells = (cell.cell_contents for cell in call.__closure__ or ())
        return frozenset(r.value for cell in cells if isinstance(cell, tuple) for r in cell)
    found = [_roles_needed(sub) for sub in dependant.dependencies]
    narrowed = [roles for roles in found if roles is not None]
    if narrowed:
        return frozenset.intersection(*narrowed)
    name = getattr(call, "__name__", "")
    if name == "current_portal_caller":
        return PORTAL
    return ALL_ROLES if name == "current_token" else None


def _routes(app: Any) -> Iterator[tuple[str, str, frozenset[str] | None]]:
    """(method, path, roles) for every API route, the collector's excepted (it uses write keys)."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                yield method, context.path, _roles_needed(route.dependant)


def _filled(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "unknown"), path)


@pytest.fixture(scope="module")
def routes(secured: SecuredWorkspace) -> list[tuple[str, str, frozenset[str] | None]]:
    return list(_routes(create_app(secured.settings)))


@pytest.fixture(scope="module")
def path_values(api: TestClient, secured: SecuredWorkspace) -> dict[str, str]:
    """Real ids for path parameters, so reads reach real objects rather than 404s."""
    admin = secured.auth("admin")
    runs = api.get("/v1/runs", headers=admin).json()
    tasks = api.get("/v1/review/tasks", headers=admin).json()
    task_items = tasks.get("items", tasks) if isinstance(tasks, dict) else tasks
    return {
        "ref": "member_id:M1", "name": "profiles", "table": "profiles", "target": "profiles",
        "run_id": runs[0]["run_id"] if runs else "unknown",
        "task_id": str(task_items[0]["task_id"]) if task_items else "unknown",
        "request_id": secured.unmask_request_id, "metric": "completeness",
        "profile_id": api.get("/v1/profiles/member_id:M1", headers=admin).json().get(
            "profile_id", "unknown"),
    }  # fmt: skip


def test_the_route_table_is_read(routes: list[tuple[str, str, frozenset[str] | None]]) -> None:
    by_path = {(method, path): roles for method, path, roles in routes}
    assert by_path[("GET", "/health")] is None
    assert by_path[("POST", "/v1/sources")] == {"admin"}
    assert by_path[("GET", "/v1/audit/log")] == {"admin", "privacy_officer", "auditor"}
    assert len([r for r in routes if r[2] is not None and "marketer" not in r[2]]) >= 25


def test_marketer_gets_403_on_every_route_it_is_not_given(
    api: TestClient, secured: SecuredWorkspace, routes: list[tuple[str, str, Any]]
) -> None:
    marketer = secured.auth("marketer")
    denied = [(m, p) for m, p, roles in routes if roles is not None and "marketer" not in roles]
    answers = {f"{m} {p}": api.request(m, _filled(p, {}), headers=marketer, json={}).status_code
               for m, p in denied}  # fmt: skip
    assert {route: code for route, code in answers.items() if code not in (401, 403)} == {}
    assert sum(code == 403 for code in answers.values()) >= 25


def test_every_route_but_health_needs_a_token(
    api: TestClient, routes: list[tuple[str, str, Any]]
) -> None:
    answers = {f"{m} {p}": api.request(m, _filled(p, {}), json={}).status_code
               for m, p, roles in routes if roles is not None}  # fmt: skip
    assert {route: code for route, code in answers.items() if code != 401} == {}
    assert [p for _m, p, roles in routes if roles is None] == ["/health", "/v1/auth/login"]


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_a_login_session_has_exactly_its_users_role(
    api: TestClient, secured: SecuredWorkspace, routes: list[tuple[str, str, Any]], role: str
) -> None:
    """A session is checked like an API token: 403 on every route its role is not given, and
    ``/v1/auth/me`` names the role and the user."""
    session = secured.session_auth(role)
    denied = [(m, p) for m, p, roles in routes if roles is not None and role not in roles]
    answers = {f"{m} {p}": api.request(m, _filled(p, {}), headers=session, json={}).status_code
               for m, p in denied}  # fmt: skip
    assert {route: code for route, code in answers.items() if code not in (401, 403)} == {}
    assert sum(code == 403 for code in answers.values()) >= (0 if role == "admin" else 5)
    me = api.get("/v1/auth/me", headers=session).json()
    assert (me["kind"], me["role"], me["user"]["username"]) == ("session", role, f"{role}-用户")


def test_a_session_opens_only_the_workspace_that_issued_it(
    secured: SecuredWorkspace, tmp_path: Any
) -> None:
    other = load_settings(home=tmp_path / "other")
    Workspace.create(other)[0].close()
    with TestClient(create_app(other)) as client:
        answer = client.get("/v1/auth/me", headers=secured.session_auth("admin"))
    assert answer.status_code == 401


@pytest.mark.parametrize("role", sorted(ALL_ROLES))
def test_no_ciphertext_or_key_field_in_any_get_answer(
    api: TestClient,
    secured: SecuredWorkspace,
    routes: list[tuple[str, str, Any]],
    path_values: dict[str, str],
    role: str,
) -> None:
    answered = 0
    for method, path, _roles in routes:
        if method != "GET":
            continue
        response = api.get(_filled(path, path_values), headers=secured.auth(role))
        assert response.status_code < 500, (path, response.text[:200])
        answered += response.is_success
        leaked = [marker for marker in SECRET_MARKERS if marker in response.text]
        assert leaked == [], (path, leaked)
    assert answered >= 3


def test_a_token_opens_only_the_workspace_that_issued_it(api: TestClient, tmp_path: Any) -> None:
    other, other_admin = Workspace.create(load_settings(home=tmp_path / "other"))
    other.close()
    refused = api.get("/v1/profiles/member_id:M1", headers={
        "Authorization": f"Bearer {other_admin.token}"})  # fmt: skip
    assert refused.status_code == 401


def test_an_unmask_request_belongs_to_its_requester(
    api: TestClient, secured: SecuredWorkspace
) -> None:
    rid = secured.unmask_request_id
    for role in ("marketer", "analyst", "service_agent"):
        assert api.get(f"/v1/unmask-requests/{rid}", headers=secured.auth(role)).status_code in (
            403, 404)  # fmt: skip
        listed = api.get("/v1/unmask-requests", headers=secured.auth(role))
        assert listed.status_code == 200
        assert rid not in listed.text
        read = api.get(f"/v1/profiles/member_id:M1?unmask={rid}", headers=secured.auth(role))
        assert read.status_code in (400, 403, 404), (role, read.status_code)
    own = api.get(f"/v1/unmask-requests/{rid}", headers=secured.auth("risk_officer"))
    assert own.status_code == 200


def test_an_unmask_request_opens_only_the_customer_it_names(
    api: TestClient, secured: SecuredWorkspace
) -> None:
    rid = secured.unmask_request_id
    other = api.get(f"/v1/profiles/member_id:M3?unmask={rid}", headers=secured.auth(
        "risk_officer"))  # fmt: skip
    assert other.status_code in (400, 403, 404)

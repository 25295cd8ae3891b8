"""``/v1/dp`` and ``custodia dp``: roles, budgets per token name, refusals, JSON shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.core.tables import ORDERS
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import load_settings
from custodia.workspace import Workspace


def _orders() -> pa.Table:
    """60 orders of 30 customers, online and POS."""
    channel = ["online" if i % 3 else "pos" for i in range(60)]
    ids = {
        "order_id": [f"o{i}" for i in range(60)],
        "customer_ref": [f"c{i % 30}" for i in range(60)],
    }
    data = {**ids, "channel": channel, "item_count": [i % 4 for i in range(60)]}
    columns = {
        c.name: data.get(c.name, ["api"] * 60 if c.name == "source" else [None] * 60)
        for c in ORDERS.columns
    }
    return pa.Table.from_pydict(columns, schema=ORDERS.arrow_schema())


COUNT = {"table": "orders", "aggregate": "count", "group_by": ["channel"], "epsilon": 0.4}


@pytest.fixture
def tokens(workspace_home: Path) -> dict[str, str]:
    with Workspace.open(load_settings(home=workspace_home)) as ws:
        ws.lake.append("staged", "orders", _orders())
        return {
            role.value: issue_token(ws.store, role.value, role, created_by="test").token
            for role in (Role.ANALYST, Role.ADMIN, Role.MARKETER)
        }


@pytest.fixture
def api(workspace_home: Path, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(load_settings(home=workspace_home))) as client:
        yield client


def _as(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_analyst_releases_until_the_budget_refuses(api: TestClient, tokens: dict[str, str]) -> None:
    first = api.post("/v1/dp/query", json=COUNT, headers=_as(tokens, "analyst"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert [g["key"] for g in body["groups"]] == [{"channel": "online"}, {"channel": "pos"}]
    assert body["epsilon"] == 0.4 and body["groups"][0]["half_width"] > 0
    assert body["budget"]["remaining"] == pytest.approx(0.6)
    api.post("/v1/dp/query", json=COUNT, headers=_as(tokens, "analyst"))
    refused = api.post("/v1/dp/query", json=COUNT, headers=_as(tokens, "analyst"))
    assert refused.status_code == 403 and refused.json()["code"] == "DpBudgetExceededError"
    budget = api.get("/v1/dp/budget", headers=_as(tokens, "analyst")).json()
    assert budget["releases"] == 2 and budget["analyst"] == "analyst"
    # each token name has its own budget
    admin = api.get("/v1/dp/budget", headers=_as(tokens, "admin")).json()
    assert admin["spent"] == 0


def test_sensitive_column_is_a_400_naming_it(api: TestClient, tokens: dict[str, str]) -> None:
    query = {**COUNT, "group_by": ["ship_to_phone"]}
    refused = api.post("/v1/dp/query", json=query, headers=_as(tokens, "analyst"))
    assert refused.status_code == 400
    assert "ship_to_phone" in refused.json()["message"]


def test_other_roles_and_other_budgets_are_forbidden(
    api: TestClient, tokens: dict[str, str]
) -> None:
    assert api.post("/v1/dp/query", json=COUNT, headers=_as(tokens, "marketer")).status_code == 403
    other = api.get("/v1/dp/budget?analyst=admin", headers=_as(tokens, "analyst"))
    assert other.status_code == 403
    assert api.get("/v1/dp/budget?analyst=analyst", headers=_as(tokens, "admin")).status_code == 200


def test_cli_query_and_budget(cli: Any, workspace_home: Path, tokens: dict[str, str]) -> None:
    granted = cli("--home", workspace_home, "dp", "budget", "ana", "--set", "2", "--json")
    assert granted.code == 0, granted
    released = cli(
        "--home",
        workspace_home,
        "dp",
        "query",
        "orders",
        "sum",
        "item_count",
        "--by",
        "channel",
        "--epsilon",
        "0.5",
        "--analyst",
        "ana",
        "--json",
    )
    assert released.code == 0, released
    assert released.json()["budget"]["remaining"] == pytest.approx(1.5)  # type: ignore[index]
    table = cli("--home", workspace_home, "dp", "budget", "ana")
    assert "1.5" in table.stdout
    refused = cli(
        "--home",
        workspace_home,
        "dp",
        "query",
        "orders",
        "count",
        "--by",
        "customer_ref",
        "--analyst",
        "ana",
    )
    assert refused.code != 0 and "customer_ref" in refused.stderr

"""Differentially private queries over a workspace: releases, accuracy, budgets and refusals.

OpenDP draws noise from the operating system and cannot be seeded, so the statistical checks
use tolerances far wider than the stated half-widths' failure rate could trip (see each test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from custodia.core.tables import ORDERS
from custodia.pipeline.dp_workspace import dp_budget, dp_grant, dp_query
from custodia.privacy.dp_policy import shipped_dp_policy_text
from custodia.privacy.dp_query import DpBudgetExceededError, DpQuery, DpQueryRefusedError
from custodia.settings import load_settings
from custodia.storage.store import AuditLog
from custodia.workspace import Workspace

ONLINE, POS = 300, 100


def _orders() -> pa.Table:
    """400 orders by 200 customers: 300 online with 2 items each, 100 POS with 5 items each."""
    rows = [
        {
            "order_id": f"o{i}",
            "channel": "online" if i < ONLINE else "pos",
            "customer_ref": f"c{i % 200}",
            "status": "completed",
            "item_count": 2 if i < ONLINE else 5,
            "source": "test",
        }
        for i in range(ONLINE + POS)
    ]
    columns = {c.name: [r.get(c.name) for r in rows] for c in ORDERS.columns}
    return pa.Table.from_pydict(columns, schema=ORDERS.arrow_schema())


@pytest.fixture
def ws(workspace_home: Path) -> Iterator[Workspace]:
    workspace = Workspace.open(load_settings(home=workspace_home))
    workspace.lake.append("staged", "orders", _orders())
    # the shipped policy with a per-query maximum high enough for the statistical tests
    policy = shipped_dp_policy_text().replace(
        "max_epsilon_per_query: 1.0", "max_epsilon_per_query: 50"
    )
    (workspace_home / "dp_policy.yaml").write_text(policy, encoding="utf-8")
    yield workspace
    workspace.close()


def _count(epsilon: float = 0.5, group_by: list[str] | None = None) -> DpQuery:
    return DpQuery(
        table="orders", aggregate="count", group_by=group_by or ["channel"], epsilon=epsilon
    )


def test_count_release_covers_the_declared_domain_within_its_stated_accuracy(ws: Workspace) -> None:
    dp_grant(ws, "ana", 10.0, actor="admin")
    release = dp_query(ws, _count(1.0, ["channel", "status"]), analyst="ana")
    # every declared (channel, status) pair is released, also those with no rows
    assert len(release.groups) == 2 * 4  # channel x status, the declared domains
    by_key = {(g.key["channel"], g.key["status"]): g for g in release.groups}
    # with 20 rows per person bound, scale is 20 and the 95% half-width about 60
    online = by_key[("online", "completed")]
    assert online.half_width == pytest.approx(release.groups[0].half_width)
    assert 40 < online.half_width < 80
    # 6 * 5 half-widths: failing needs noise beyond 5 half-widths (p < 1e-9 per group)
    assert abs(online.value - ONLINE) < 5 * online.half_width
    assert abs(by_key[("pos", "cancelled")].value) < 5 * online.half_width
    assert release.epsilon == 1.0 and release.confidence == 0.95


def test_half_widths_hold_at_their_confidence_over_many_releases(ws: Workspace) -> None:
    dp_grant(ws, "ana", 1000.0, actor="admin")
    query = DpQuery(table="orders", aggregate="sum", measure="item_count", epsilon=2.0)
    truth = ONLINE * 2 + POS * 5
    misses = 0
    for _ in range(60):
        [group] = dp_query(ws, query, analyst="ana").groups
        misses += abs(group.value - truth) > group.half_width
    # expected 3 misses of 60 at 95%; P(more than 12) < 1e-4 (binomial)
    assert misses <= 12


def test_mean_is_within_the_bounds_and_near_the_truth(ws: Workspace) -> None:
    dp_grant(ws, "ana", 100.0, actor="admin")
    query = DpQuery(
        table="orders", aggregate="mean", measure="item_count", group_by=["channel"], epsilon=20.0
    )
    groups = {g.key["channel"]: g for g in dp_query(ws, query, analyst="ana").groups}
    assert abs(groups["online"].value - 2) < 5 * groups["online"].half_width
    assert 0 <= groups["pos"].value <= 20


def test_budget_is_debited_refuses_the_overdraft_and_survives_reopen(
    ws: Workspace, workspace_home: Path
) -> None:
    dp_grant(ws, "ana", 1.0, actor="admin")
    dp_query(ws, _count(0.6), analyst="ana")
    with pytest.raises(DpBudgetExceededError, match="nothing was released"):
        dp_query(ws, _count(0.6), analyst="ana")
    ws.close()
    with Workspace.open(load_settings(home=workspace_home)) as again:
        status = dp_budget(again, "ana")
        assert (status.spent, status.releases) == (pytest.approx(0.6), 1)
        with pytest.raises(DpBudgetExceededError):
            dp_query(again, _count(0.5), analyst="ana")
        actions = [e.action for e in AuditLog(again.store).tail(4)]
    assert actions == ["dp.budget.set", "dp.release", "dp.refuse", "dp.refuse"]


def test_new_analyst_gets_the_policy_default(ws: Workspace) -> None:
    assert dp_budget(ws, "bob").total == 1.0
    dp_query(ws, _count(1.0), analyst="bob")
    with pytest.raises(DpBudgetExceededError):
        dp_query(ws, _count(0.1), analyst="bob")


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        ({"aggregate": "count", "group_by": ["customer_ref"]}, "customer_ref", "sensitive"),
        ({"aggregate": "sum", "measure": "ship_to_phone"}, "ship_to_phone", "sensitive"),
        ({"aggregate": "count", "group_by": ["order_id"]}, "order_id", "near_unique"),
        ({"aggregate": "count", "group_by": ["nope"]}, "nope", "unknown_column"),
        ({"aggregate": "count", "group_by": ["payment_method"]}, "payment_method", "not_declared"),
        ({"aggregate": "count", "table": "secrets"}, "table", "unknown_table"),
        ({"aggregate": "count", "table": "events"}, "table", "dp_not_declared"),
        ({"aggregate": "count", "epsilon": 60.0}, "epsilon", "max_epsilon_per_query"),
    ],
)
def test_refusals_name_field_and_rule_are_audited_and_spend_nothing(
    ws: Workspace, query: dict[str, object], field: str, rule: str
) -> None:
    request = DpQuery.model_validate({"table": "orders", "epsilon": 0.5, **query})
    with pytest.raises(DpQueryRefusedError) as refused:
        dp_query(ws, request, analyst="ana")
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert dp_budget(ws, "ana").spent == 0
    [entry] = AuditLog(ws.store).tail(1)
    assert entry.action == "dp.refuse" and entry.details["rule"] == rule


def test_a_declared_key_that_is_near_unique_in_the_data_is_refused(
    ws: Workspace, workspace_home: Path
) -> None:
    (workspace_home / "dp_policy.yaml").write_text(
        "tables:\n  orders:\n    public_keys:\n      source_key: [a, b]\n", encoding="utf-8"
    )
    ws.lake.append(
        "staged",
        "orders",
        _orders().set_column(1, "source_key", pa.array([f"k{i}" for i in range(ONLINE + POS)])),
    )
    with pytest.raises(DpQueryRefusedError, match="source_key"):
        dp_query(ws, _count(group_by=["source_key"]), analyst="ana")

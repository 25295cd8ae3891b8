"""Differential privacy over a workspace: its policy file, engine, store and budgets.

The policy is ``HOME/dp_policy.yaml`` when the workspace has one, else the shipped policy
(:mod:`custodia.privacy.dp_policy`). The analyst is the name of the caller's API token (or the
CLI's ``--analyst``); budgets live in the operational store, so they survive restarts.

Example::

    release = dp_query(ws, DpQuery(table="orders", aggregate="count", group_by=["channel"],
                                   epsilon=0.5), analyst="ana")
    dp_budget(ws, "ana").remaining
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from custodia.privacy.dp_policy import DpPolicy, load_dp_policy, shipped_dp_policy_text
from custodia.privacy.dp_query import DpQuery, DpRelease, run_dp_query
from custodia.storage.store_dp import BudgetStatus, DpBudgetLedger
from custodia.workspace import Workspace

__all__ = [
    "POLICY_FILE",
    "budget_json",
    "dp_budget",
    "dp_grant",
    "dp_policy",
    "dp_query",
    "release_json",
]

POLICY_FILE = "dp_policy.yaml"


def dp_policy(ws: Workspace) -> DpPolicy:
    """The workspace's own policy file, or the shipped one."""
    path = ws.home / POLICY_FILE
    if path.is_file():
        return load_dp_policy(path.read_text("utf-8"), origin=str(path))
    return load_dp_policy(shipped_dp_policy_text(), origin="shipped dp_policy.yaml")


def dp_query(ws: Workspace, query: DpQuery, *, analyst: str) -> DpRelease:
    """Run one differentially private query for ``analyst`` on the workspace engine."""
    return run_dp_query(
        query,
        analyst=analyst,
        policy=dp_policy(ws),
        engine=ws.query_engine(),
        store=ws.store,
        clock=ws.clock,
    )


def dp_budget(ws: Workspace, analyst: str) -> BudgetStatus:
    """The analyst's budget: granted (or the policy's default), spent and remaining."""
    ledger = DpBudgetLedger(ws.store, ws.clock)
    return ledger.status(analyst, default_total=dp_policy(ws).default_budget)


def dp_grant(ws: Workspace, analyst: str, epsilon_total: float, *, actor: str) -> BudgetStatus:
    """Set the analyst's total budget (audited)."""
    return DpBudgetLedger(ws.store, ws.clock).grant(analyst, epsilon_total, actor=actor)


def budget_json(status: BudgetStatus) -> dict[str, Any]:
    """A budget as JSON (the CLI and the API share the shape)."""
    return {**asdict(status), "remaining": status.remaining}


def release_json(release: DpRelease) -> dict[str, Any]:
    """A release as JSON (the CLI and the API share the shape): only noisy values leave."""
    return {
        "release_id": release.release_id,
        "query": release.query.model_dump(),
        "epsilon": release.epsilon,
        "confidence": release.confidence,
        "mechanism": release.mechanism,
        "groups": [asdict(g) for g in release.groups],
        "budget": budget_json(release.budget),
    }

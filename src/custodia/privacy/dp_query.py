"""Differentially private counts, sums and means grouped by public keys, under a per-analyst budget.

:func:`run_dp_query` checks the request against the policy, checks that no group key is
near-unique in the data, debits the analyst's epsilon (refusing when it would overdraw), computes
the true aggregates on the workspace engine and releases only the noisy ones, each with the
epsilon spent and its accuracy. Every refusal is one ``dp.refuse`` audit entry naming the field
and rule; every release is one ``dp.release`` entry. Neither carries a value of the data.

The epsilon is debited *before* the aggregates are computed and is not refunded when the query
then fails: a refund that depends on what the data made the engine do would itself be a channel.

Example::

    release = run_dp_query(
        DpQuery(table="orders", aggregate="count", group_by=["channel"], epsilon=0.5),
        analyst="ana", policy=policy, engine=ws.query_engine(), store=ws.store,
    )
    release.groups[0].key, release.groups[0].value, release.groups[0].half_width
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import PermissionDeniedError, TableNotFoundError, ValidationError
from custodia.core.tables import table_spec
from custodia.privacy.dp_noise import laplace_release
from custodia.privacy.dp_policy import DpPolicy, DpTablePolicy, column_refusal
from custodia.privacy.dp_sql import true_aggregates_sql
from custodia.privacy.errors import PrivacyError
from custodia.storage.engine import QueryEngine
from custodia.storage.sql_guard import quote_identifier as q
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_dp import BudgetStatus, DpBudgetLedger, DpDebit

__all__ = [
    "NEAR_UNIQUE_SHARE",
    "DpBudgetExceededError",
    "DpGroup",
    "DpQuery",
    "DpQueryRefusedError",
    "DpRelease",
    "run_dp_query",
]

NEAR_UNIQUE_SHARE = 0.5
"""A group key with more distinct values than this share of its rows is refused as near-unique."""
_NEAR_UNIQUE_MIN_ROWS = 20


class DpQueryRefusedError(PrivacyError, ValidationError):
    """The query names an unknown, undeclared, sensitive or near-unique table or column."""


class DpBudgetExceededError(PrivacyError, PermissionDeniedError):
    """The release would take the analyst past their epsilon budget; nothing was released."""


class DpQuery(BaseModel):
    """One aggregate over one table: ``count`` needs no measure, ``sum`` and ``mean`` need one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    table: str
    aggregate: Literal["count", "sum", "mean"]
    measure: str | None = None
    group_by: list[str] = Field(default_factory=list, max_length=3)
    epsilon: float = Field(gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _measure_matches(self) -> Self:
        if (self.aggregate == "count") != (self.measure is None):
            raise ValueError("count takes no measure; sum and mean need one")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by names a column twice")
        return self


@dataclass(frozen=True, slots=True)
class DpGroup:
    """One released group: its public key values, the noisy value and its half-width."""

    key: dict[str, str]
    value: float
    half_width: float


@dataclass(frozen=True, slots=True)
class DpRelease:
    """What leaves: noisy groups, the epsilon spent, the confidence of the half-widths, budget."""

    release_id: str
    query: DpQuery
    epsilon: float
    confidence: float
    groups: list[DpGroup]
    budget: BudgetStatus
    mechanism: str


def run_dp_query(
    query: DpQuery,
    *,
    analyst: str,
    policy: DpPolicy,
    engine: QueryEngine,
    store: OperationalStore,
    clock: Clock | None = None,
) -> DpRelease:
    """Check, debit, compute and noise one query (see the module docstring)."""
    clock = clock or SystemClock()
    audit = AuditLog(store, clock)
    try:
        declared = _checked(query, policy)
        _refuse_near_unique_keys(query, engine)
    except DpQueryRefusedError as refusal:
        _audit_refusal(audit, analyst, query, refusal.field, refusal.rule)
        raise
    ledger = DpBudgetLedger(store, clock)
    outcome = ledger.debit(_debit(query, analyst), default_total=policy.default_budget)
    if not outcome.accepted or outcome.release_id is None:
        _audit_refusal(audit, analyst, query, "epsilon", "budget_exceeded")
        raise DpBudgetExceededError(
            f"epsilon {query.epsilon:g} exceeds the {outcome.status.remaining:g} left of "
            f"analyst '{analyst}' (budget {outcome.status.total:g}); nothing was released"
        )
    groups = _noisy_groups(query, declared, engine, policy.confidence)
    mechanism = "discrete Laplace (OpenDP)" if query.aggregate == "count" else "Laplace (OpenDP)"
    return DpRelease(
        outcome.release_id,
        query,
        query.epsilon,
        policy.confidence,
        groups,
        outcome.status,
        mechanism,
    )


def _checked(query: DpQuery, policy: DpPolicy) -> DpTablePolicy:
    """The table's declaration, once every name in the query is known, safe and declared."""
    try:
        spec = table_spec(query.table)
    except TableNotFoundError:
        raise _refused("table", "unknown_table", f"unknown table '{query.table}'") from None
    if query.epsilon > policy.max_epsilon_per_query:
        raise _refused("epsilon", "max_epsilon_per_query", "epsilon above the per-query maximum")
    try:
        declared = policy.table(query.table)
    except ValidationError as exc:
        raise _refused("table", "dp_not_declared", str(exc)) from None
    for column, role, allowed in _named_columns(query, declared):
        refusal = column_refusal(spec, column, measure=role == "measure")
        rule = refusal or (None if column in allowed else "not_declared")
        if rule is not None:
            raise _refused(column, rule, f"{query.table}.{column} refused as {role} ({rule})")
    if _group_count(query, declared) > policy.max_groups:
        raise _refused("group_by", "max_groups", f"more than {policy.max_groups} groups")
    return declared


def _named_columns(query: DpQuery, declared: DpTablePolicy) -> list[tuple[str, str, set[str]]]:
    named = [(key, "group key", set(declared.public_keys)) for key in query.group_by]
    if query.measure is not None:
        named.append((query.measure, "measure", set(declared.measures)))
    return named


def _group_count(query: DpQuery, declared: DpTablePolicy) -> int:
    count = 1
    for key in query.group_by:
        count *= len(declared.public_keys[key])
    return count


def _refuse_near_unique_keys(query: DpQuery, engine: QueryEngine) -> None:
    """Refuse a group key holding (almost) one value per row that has one, whatever the policy
    declared (a declared domain cannot make a per-person column safe)."""
    if not query.group_by:
        return
    shares = ", ".join(f"count({q(k)}), count(distinct {q(k)})" for k in query.group_by)
    row = list(engine.run_trusted(f"select {shares} from {q(query.table)}").to_pylist()[0].values())
    for i, key in enumerate(query.group_by):
        rows, distinct = row[2 * i], row[2 * i + 1]
        if rows >= _NEAR_UNIQUE_MIN_ROWS and distinct > NEAR_UNIQUE_SHARE * rows:
            raise _refused(key, "near_unique", f"{query.table}.{key} refused as group key")


def _noisy_groups(
    query: DpQuery, declared: DpTablePolicy, engine: QueryEngine, confidence: float
) -> list[DpGroup]:
    spec = table_spec(query.table)
    sql, params = true_aggregates_sql(
        query.table, declared, query.group_by, query.measure, spec.key
    )
    truth = {tuple(str(v) for v in list(r.values())[:-2]): r for r in _rows(engine, sql, params)}
    keys = list(itertools.product(*(declared.public_keys[k] for k in query.group_by)))
    counts = [int(truth[k]["n"]) if k in truth else 0 for k in keys]
    sums = [float(truth[k]["s"]) if k in truth else 0.0 for k in keys]
    values, widths = _release(query, declared, counts, sums, confidence)
    return [
        DpGroup(dict(zip(query.group_by, k, strict=True)), v, w)
        for k, v, w in zip(keys, values, widths, strict=True)
    ]


def _rows(engine: QueryEngine, sql: str, params: list[object]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = engine.run_trusted(sql, params).to_pylist()
    return rows


def _release(
    query: DpQuery,
    declared: DpTablePolicy,
    counts: list[int],
    sums: list[float],
    confidence: float,
) -> tuple[list[float], list[float]]:
    """Noisy values and half-widths per group; a mean spends half its epsilon on each part."""
    per_person = declared.max_rows_per_person
    if query.aggregate == "count":
        noisy = laplace_release(
            counts, sensitivity=per_person, epsilon=query.epsilon, confidence=confidence
        )
        return [float(v) for v in noisy.values], [noisy.half_width] * len(counts)
    assert query.measure is not None
    bounds = declared.measures[query.measure]
    share = query.epsilon if query.aggregate == "sum" else query.epsilon / 2
    noisy_sum = laplace_release(
        sums, sensitivity=per_person * bounds.magnitude, epsilon=share, confidence=confidence
    )
    if query.aggregate == "sum":
        return list(noisy_sum.values), [noisy_sum.half_width] * len(sums)
    noisy_n = laplace_release(counts, sensitivity=per_person, epsilon=share, confidence=confidence)
    return _means(
        noisy_sum.values,
        noisy_n.values,
        noisy_sum.half_width,
        noisy_n.half_width,
        bounds.lower,
        bounds.upper,
    )


def _means(
    sums: list[float],
    counts: list[int],
    sum_width: float,
    count_width: float,
    lower: float,
    upper: float,
) -> tuple[list[float], list[float]]:
    """Mean = noisy sum / noisy count, clamped to the bounds (post-processing, no extra epsilon).

    The half-width is an approximation from the two parts' half-widths, capped at the bounds'
    span: (sum width + |mean| x count width) / (count - count width).
    """
    values: list[float] = []
    widths: list[float] = []
    for total, n in zip(sums, counts, strict=True):
        mean = min(max(total / max(n, 1), lower), upper)
        usable = n - count_width
        width = (sum_width + abs(mean) * count_width) / usable if usable > 0 else upper - lower
        values.append(mean)
        widths.append(min(width, upper - lower))
    return values, widths


def _debit(query: DpQuery, analyst: str) -> DpDebit:
    return DpDebit(
        analyst, query.table, query.aggregate, query.measure, list(query.group_by), query.epsilon
    )


def _refused(field: str, rule: str, message: str) -> DpQueryRefusedError:
    return DpQueryRefusedError(field, rule, f"differential privacy query refused: {message}")


def _audit_refusal(audit: AuditLog, analyst: str, query: DpQuery, field: str, rule: str) -> None:
    resource = query.table if len(query.table) <= 64 else "dp_query"
    details = {"field": field[:64], "rule": rule, "epsilon": query.epsilon}
    audit.append(analyst, "dp.refuse", resource, details=details)

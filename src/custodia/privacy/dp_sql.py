"""The SQL that computes a DP query's true aggregates on the workspace engine (DuckDB).

Only rows whose public keys hold a declared value are read; each measure value is clamped into
its declared bounds; each person keeps at most ``max_rows_per_person`` rows (the rest are dropped
in a fixed order) so one person's influence is bounded. The result is one row per group that
has data, with ``n`` (rows) and ``s`` (clamped sum); the caller fills in the declared groups
with no rows and adds the noise. Values are bound parameters; identifiers go through the one
quoting helper.

Example::

    sql, params = true_aggregates_sql("orders", declared, ["channel"], "item_count")
    engine.run_trusted(sql, params)       # channel | n | s
"""

from __future__ import annotations

from custodia.privacy.dp_policy import DpTablePolicy
from custodia.storage.sql_guard import quote_identifier as q

__all__ = ["true_aggregates_sql"]


def true_aggregates_sql(
    table: str,
    declared: DpTablePolicy,
    group_by: list[str],
    measure: str | None,
    order_key: tuple[str, ...],
) -> tuple[str, list[object]]:
    """The statement and its parameters (see the module docstring)."""
    keys = [q(k) for k in group_by]
    where, params = _domain_filter(declared, group_by)
    if measure is not None:
        where.append(f"{q(measure)} is not null")
    value = _clamped(declared, measure)
    rank = _person_rank(declared, order_key)
    select_keys = "".join(f"{k}, " for k in keys)
    group = f" group by {', '.join(keys)}" if keys else ""
    sql = (
        f"with bounded as (select {select_keys}{value} as m, {rank} as rn "
        f"from {q(table)} where {' and '.join(where) or 'true'}) "
        f"select {select_keys}count(*) as n, coalesce(sum(m), 0) as s "
        f"from bounded where rn <= {declared.max_rows_per_person}{group}"
    )
    return sql, params


def _domain_filter(declared: DpTablePolicy, group_by: list[str]) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    for key in group_by:
        domain = declared.public_keys[key]
        where.append(f"{q(key)} in ({', '.join('?' for _ in domain)})")
        params.extend(domain)
    return where, params


def _clamped(declared: DpTablePolicy, measure: str | None) -> str:
    if measure is None:
        return "0.0"
    bounds = declared.measures[measure]
    return f"least(greatest(cast({q(measure)} as double), {bounds.lower!r}), {bounds.upper!r})"


def _person_rank(declared: DpTablePolicy, order_key: tuple[str, ...]) -> str:
    """Row number within the person (1 for every row when the unit is the row itself)."""
    if declared.person_column is None:
        return "1"
    order = ", ".join(q(k) for k in order_key)
    return f"row_number() over (partition by {q(declared.person_column)} order by {order})"

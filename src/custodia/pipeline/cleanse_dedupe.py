"""Cleansing step: find rows that repeat another row under a declared key, and delete them.

A rule (:class:`~custodia.pipeline.cleansing_spec.DedupeRule`) names the key columns: rows of the
table (within ``where``) whose key values are all equal and not null are one group, the first
row in the ``keep`` order (then the table key, so the choice is stable) survives, and the others
are deleted from the staged table by surrogate key, in one Delta commit (``job: cleanse``). The
raw zone keeps every row as delivered, so a deletion can always be traced and replayed; a later
load that merges a deleted row back is cleaned again by the next ``custodia cleanse``.
``action: count`` only measures. On ``customer_records`` the key may include ``profile_id``:
the record's profile, from identity resolution (``profile_identifiers``).

Example::

    result = deduplicate(ws, rule, run_id)
    result.rows_before, result.duplicates, result.rows_after
"""

from __future__ import annotations

from pydantic import BaseModel

from custodia.core.sql_text import quote_ident
from custodia.core.tables import PROFILE_IDENTIFIERS, TableSpec, table_spec
from custodia.pipeline.cleansing_spec import PROFILE_KEY, DedupeRule
from custodia.workspace import Workspace

__all__ = ["DedupeResult", "deduplicate", "duplicates_sql"]

JOB = "cleanse"
SAMPLE_KEYS = 20


class DedupeResult(BaseModel):
    """What one dedupe rule found and did."""

    rule: str
    table: str
    action: str
    rows_before: int
    """Rows of the table before the step."""
    rows_in_scope: int
    """Rows the rule looked at (``where``, key not null)."""
    groups: int
    """Keys held by more than one row."""
    duplicates: int
    """Rows beyond the survivor of each group."""
    deleted: int
    rows_after: int
    table_version: int | None = None
    sample_keys: list[str] = []
    """Surrogate keys (never personal values) of up to 20 duplicates, to look them up."""


def duplicates_sql(rule: DedupeRule, spec: TableSpec) -> str:
    """Rows of the rule's scope, numbered within their key group (``_n`` = 1 survives)."""
    key = quote_ident(spec.key[0])
    cols = ", ".join(_ref(c) for c in rule.key)
    order = ", ".join([*(_order(k) for k in rule.keep), f"t.{key}"])
    conditions = " AND ".join(f"{_ref(c)} IS NOT NULL" for c in rule.key)
    scope = f"(SELECT * FROM {quote_ident(spec.name)} WHERE {rule.where or 'TRUE'})"
    return (
        f"SELECT t.{key} AS row_key, count(*) OVER (PARTITION BY {cols}) AS _size, "
        f"row_number() OVER (PARTITION BY {cols} ORDER BY {order}) AS _n "
        f"FROM {scope} AS t{_profile_join(rule)} WHERE {conditions}"
    )


def _ref(column: str) -> str:
    return f"p.{quote_ident(column)}" if column == PROFILE_KEY else f"t.{quote_ident(column)}"


def _order(item: str) -> str:
    parts = item.split()
    direction = parts[1].upper() if len(parts) == 2 else "ASC"
    return f"{_ref(parts[0])} {direction} NULLS LAST"


def _profile_join(rule: DedupeRule) -> str:
    if PROFILE_KEY not in rule.key and not any(k.split()[0] == PROFILE_KEY for k in rule.keep):
        return ""
    return (
        f" LEFT JOIN (SELECT record_id, min(profile_id) AS profile_id "
        f"FROM {quote_ident(PROFILE_IDENTIFIERS.name)} GROUP BY record_id) AS p "
        f"ON p.record_id = t.record_id"
    )


def deduplicate(ws: Workspace, rule: DedupeRule, run_id: str) -> DedupeResult:
    """Apply one rule (see the module docstring); counts only when the table is missing."""
    spec = table_spec(rule.table)
    if not ws.lake.exists(spec.zone.value, spec.name) or (
        PROFILE_KEY in rule.key and not ws.lake.exists("curated", PROFILE_IDENTIFIERS.name)
    ):
        return _result(rule, 0, 0, 0, [])
    before = ws.lake.row_count(spec.zone.value, spec.name)
    rows = ws.query(duplicates_sql(rule, spec)).to_pylist()
    extra = [r["row_key"] for r in rows if r["_n"] > 1]
    groups = sum(1 for r in rows if r["_n"] == 1 and r["_size"] > 1)
    result = _result(rule, before, len(rows), groups, extra)
    if rule.action != "delete" or not extra:
        return result
    commit = ws.lake.delete_by_keys(
        spec.zone.value, spec.name, spec.key[0], extra,
        commit_info={"run_id": run_id, "job": JOB, "rule": rule.name},
    )  # fmt: skip
    after = ws.lake.row_count(spec.zone.value, spec.name)
    return result.model_copy(
        update={"deleted": before - after, "rows_after": after, "table_version": commit.version}
    )


def _result(
    rule: DedupeRule, before: int, scope: int, groups: int, extra: list[str]
) -> DedupeResult:
    return DedupeResult(
        rule=rule.name, table=rule.table, action=rule.action, rows_before=before,
        rows_in_scope=scope, groups=groups, duplicates=len(extra), deleted=0, rows_after=before,
        sample_keys=sorted(extra)[:SAMPLE_KEYS],
    )  # fmt: skip

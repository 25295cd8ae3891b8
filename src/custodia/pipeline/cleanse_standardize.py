"""Cleansing step: rewrite a staged table's text columns in their canonical form.

For one :class:`~custodia.pipeline.cleansing_spec.StandardizeRule` it reads the table's key and the
named columns, runs each value through its standardizer
(:mod:`custodia.pipeline.cleansing_standardizers`) and merges back only the rows where a value
changed, in one Delta commit (``job: cleanse``). Only those columns are written: ``loaded_at``
and every other column keep their values, and the raw zone keeps the value as delivered. A value
the standardizer cannot read (a 10-digit mobile) stays as it is. Per column it counts the values
that were not in canonical form before and after: ``customer_records.phone: 76 -> 46`` means 30
were rewritten and 46 could not be.

Example::

    result = standardize_table(ws, rule, run_id)
    [(c.column, c.nonstandard_before, c.nonstandard_after) for c in result.columns]
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from custodia.core.sql_text import quote_ident
from custodia.core.tables import TableSpec, table_spec
from custodia.pipeline.cleansing_spec import StandardizeRule
from custodia.pipeline.cleansing_standardizers import Standardizer, standardizer
from custodia.workspace import Workspace

__all__ = ["ColumnStandardized", "StandardizeResult", "standardize_table"]

JOB = "cleanse"


class ColumnStandardized(BaseModel):
    column: str
    standardizer: str
    values: int
    """Non-null values looked at."""
    nonstandard_before: int
    changed: int
    nonstandard_after: int
    """Values still not in canonical form: the standardizer could not read them."""


class StandardizeResult(BaseModel):
    table: str
    rows_read: int
    rows_changed: int
    columns: list[ColumnStandardized]
    table_version: int | None = None


def standardize_table(ws: Workspace, rule: StandardizeRule, run_id: str) -> StandardizeResult:
    """Standardize the rule's columns of its table (nothing to do when the table is missing)."""
    spec = table_spec(rule.table)
    if not ws.lake.exists(spec.zone.value, spec.name):
        return StandardizeResult(table=spec.name, rows_read=0, rows_changed=0, columns=[])
    data = ws.query(_read_sql(spec, rule))
    key = spec.key[0]
    changed_rows: dict[int, None] = {}
    new_columns: dict[str, list[Any]] = {}
    counts = []
    for column, name in rule.columns.items():
        values = data.column(column).to_pylist()
        fixed, count = _standardize(values, standardizer(name), column, name)
        changed_rows.update(dict.fromkeys(_differing(values, fixed)))
        new_columns[column] = fixed
        counts.append(count)
    rows = sorted(changed_rows)
    version = _merge(ws, spec, data, key, new_columns, rows, run_id)
    return StandardizeResult(
        table=spec.name, rows_read=data.num_rows, rows_changed=len(rows), columns=counts,
        table_version=version,
    )  # fmt: skip


def _differing(old: list[Any], new: list[Any]) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


def _read_sql(spec: TableSpec, rule: StandardizeRule) -> str:
    names = dict.fromkeys([spec.key[0], *spec.partition_by, *rule.columns])
    where = f" WHERE {rule.where}" if rule.where else ""
    return f"SELECT {', '.join(quote_ident(n) for n in names)} FROM {quote_ident(spec.name)}{where}"


def _standardize(
    values: list[str | None], fn: Standardizer, column: str, name: str
) -> tuple[list[str | None], ColumnStandardized]:
    out: list[str | None] = []
    before = after = present = 0
    for value in values:
        if value is None:
            out.append(None)
            continue
        present += 1
        canonical = fn(value)
        before += canonical != value
        after += canonical is None or fn(canonical) != canonical
        out.append(value if canonical is None else canonical)
    changed = len(_differing(values, out))
    return out, ColumnStandardized(
        column=column, standardizer=name, values=present, nonstandard_before=before,
        changed=changed, nonstandard_after=after,
    )  # fmt: skip


def _merge(
    ws: Workspace,
    spec: TableSpec,
    data: pa.Table,
    key: str,
    new_columns: dict[str, list[Any]],
    rows: list[int],
    run_id: str,
) -> int | None:
    if not rows:
        return None
    schema = spec.arrow_schema()
    kept = [key, *(p for p in spec.partition_by if p != key)]
    arrays = {n: data.column(n).take(rows).cast(schema.field(n).type) for n in kept}
    for column, values in new_columns.items():
        arrays[column] = pa.array([values[i] for i in rows], schema.field(column).type)
    table = pa.Table.from_pydict(arrays, schema=pa.schema([schema.field(n) for n in arrays]))
    commit = ws.lake.merge(
        spec.zone.value, spec.name, table, spec.key, commit_info={"run_id": run_id, "job": JOB}
    )
    return commit.version

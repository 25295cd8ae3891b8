"""Cleansing step: fill the gaps of customer records from the golden profile of the same person.

Identity resolution pools what every source knows of a person into a golden profile
(survivorship); this step gives that knowledge back to each source record: a CRM member without
an e-mail gets the e-mail the shop account of the same person holds. The result is the curated
table ``customer_records_filled`` (rebuilt in one commit): every customer record, its profile, and
``filled_columns`` naming each filled column and where its value came from (``{"email":
"profiles"}``). ``customer_records`` itself keeps what the sources delivered, because identity
resolution reads it: a value copied from the profile back into its inputs would become evidence
for the very merge that produced it. A filled value is written in the form the ``standardize``
section declares for that column (a golden phone is E.164; the records' convention may differ).

Example::

    result = fill_gaps(ws, spec.fill, standardize={"phone": "cn_mobile"}, run_id=run_id)
    [(c.column, c.missing_before, c.filled) for c in result.columns]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from custodia.core.sql_text import quote_ident, quote_literal
from custodia.core.tables import (
    CUSTOMER_RECORDS,
    CUSTOMER_RECORDS_FILLED,
    PROFILE_IDENTIFIERS,
    PROFILES,
)
from custodia.pipeline.cleanse_standardize import standardize_array
from custodia.pipeline.cleansing_spec import FillRule
from custodia.workspace import Workspace

__all__ = ["ColumnFilled", "FillResult", "fill_gaps", "fill_sql"]

JOB = "cleanse"
ORIGIN = PROFILES.name


class ColumnFilled(BaseModel):
    column: str
    missing_before: int
    filled: int
    missing_after: int


class FillResult(BaseModel):
    table: str
    records: int
    records_with_profile: int
    records_filled: int
    columns: list[ColumnFilled]
    table_version: int | None = None


def fill_sql(rule: FillRule) -> str:
    """Every customer record with its profile id, its fill columns filled, a ``_filled_<column>``
    flag per fill column, and ``filled_columns`` (the JSON object of the filled ones)."""
    scope = f"({rule.where})" if rule.where else "TRUE"
    select = []
    for name in CUSTOMER_RECORDS.column_names:
        col = quote_ident(name)
        if name in rule.columns:
            gap = f"t.{col} IS NULL AND t._in_scope AND g.{col} IS NOT NULL"
            select += [f"CASE WHEN {gap} THEN g.{col} ELSE t.{col} END AS {col}",
                       f"coalesce({gap}, FALSE) AS {_flag(name)}"]  # fmt: skip
        else:
            select.append(f"t.{col}")
    records = (
        f"SELECT {', '.join(select)}, m.profile_id AS profile_id "
        f"FROM (SELECT *, coalesce({scope}, FALSE) AS _in_scope "
        f"FROM {quote_ident(CUSTOMER_RECORDS.name)}) AS t "
        f"LEFT JOIN (SELECT record_id, min(profile_id) AS profile_id "
        f"FROM {quote_ident(PROFILE_IDENTIFIERS.name)} GROUP BY record_id) AS m "
        f"ON m.record_id = t.record_id "
        f"LEFT JOIN {quote_ident(PROFILES.name)} AS g ON g.profile_id = m.profile_id"
    )
    return f"SELECT f.*, {_provenance_sql(rule)} AS filled_columns FROM ({records}) AS f"


def _flag(column: str) -> str:
    return quote_ident(f"_filled_{column}")


def _provenance_sql(rule: FillRule) -> str:
    """``{"city": "profiles", "email": "profiles"}`` (keys sorted, as json.dumps writes them),
    NULL when nothing was filled; concat_ws skips the NULLs of the columns not filled."""
    entries = ", ".join(
        f"CASE WHEN f.{_flag(c)} THEN {quote_literal(json.dumps({c: ORIGIN})[1:-1])} END"
        for c in sorted(rule.columns)
    )
    return f"nullif('{{' || concat_ws(', ', {entries}) || '}}', '{{}}')"


def fill_gaps(
    ws: Workspace, rule: FillRule, *, standardize: Mapping[str, str], run_id: str
) -> FillResult | None:
    """Rebuild ``customer_records_filled``; None while records or profiles do not exist yet."""
    needed = (CUSTOMER_RECORDS, PROFILES, PROFILE_IDENTIFIERS)
    if not all(ws.lake.exists(s.zone.value, s.name) for s in needed):
        return None
    data = ws.query(fill_sql(rule))
    columns = {name: data.column(name) for name in CUSTOMER_RECORDS.column_names}
    for name, standard in standardize.items():
        if name in rule.columns:
            columns[name] = _standardized(columns[name], data.column(f"_filled_{name}"), standard)
    out = _table(ws, columns, data, run_id)
    spec = CUSTOMER_RECORDS_FILLED
    ws.ensure_lake_table(spec)
    commit = ws.lake.overwrite(
        spec.zone.value, spec.name, out, commit_info={"run_id": run_id, "job": JOB}
    )
    return FillResult(
        table=spec.name, records=data.num_rows,
        records_with_profile=data.num_rows - data.column("profile_id").null_count,
        records_filled=data.num_rows - data.column("filled_columns").null_count,
        columns=[_counts(c, data) for c in rule.columns], table_version=commit.version,
    )  # fmt: skip


def _standardized(values: pa.ChunkedArray, flags: pa.ChunkedArray, name: str) -> pa.Array:
    """Filled cells in the column's declared form; the others as they are."""
    filled = pc.if_else(flags, values, pa.scalar(None, values.type))
    return pc.if_else(flags, standardize_array(filled, name).values, values)


def _counts(column: str, data: pa.Table) -> ColumnFilled:
    after = data.column(column).null_count
    filled = pc.sum(data.column(f"_filled_{column}")).as_py() or 0
    return ColumnFilled(
        column=column, missing_before=after + filled, filled=filled, missing_after=after
    )


def _table(ws: Workspace, columns: Mapping[str, Any], data: pa.Table, run_id: str) -> pa.Table:
    schema = CUSTOMER_RECORDS_FILLED.arrow_schema()
    rows = data.num_rows
    arrays = dict(columns)
    arrays["run_id"] = pa.array([run_id] * rows, pa.string())
    arrays["loaded_at"] = pa.array([ws.clock.now()] * rows, schema.field("loaded_at").type)
    arrays["profile_id"] = data.column("profile_id")
    arrays["filled_columns"] = data.column("filled_columns")
    return pa.table([arrays[f.name].cast(f.type) for f in schema], schema=schema)

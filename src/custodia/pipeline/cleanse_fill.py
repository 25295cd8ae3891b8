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
from pydantic import BaseModel

from custodia.core.sql_text import quote_ident
from custodia.core.tables import (
    CUSTOMER_RECORDS,
    CUSTOMER_RECORDS_FILLED,
    PROFILE_IDENTIFIERS,
    PROFILES,
)
from custodia.pipeline.cleansing_spec import FillRule
from custodia.pipeline.cleansing_standardizers import standardizer
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
    """Every customer record with its profile id, each fill column and whether it was filled."""
    scope = f"({rule.where})" if rule.where else "TRUE"
    select = []
    for name in CUSTOMER_RECORDS.column_names:
        col = quote_ident(name)
        if name in rule.columns:
            gap = f"t.{col} IS NULL AND t._in_scope AND g.{col} IS NOT NULL"
            select += [f"CASE WHEN {gap} THEN g.{col} ELSE t.{col} END AS {col}",
                       f"coalesce({gap}, FALSE) AS {quote_ident('_filled_' + name)}"]  # fmt: skip
        else:
            select.append(f"t.{col}")
    return (
        f"SELECT {', '.join(select)}, m.profile_id AS profile_id "
        f"FROM (SELECT *, coalesce({scope}, FALSE) AS _in_scope "
        f"FROM {quote_ident(CUSTOMER_RECORDS.name)}) AS t "
        f"LEFT JOIN (SELECT record_id, min(profile_id) AS profile_id "
        f"FROM {quote_ident(PROFILE_IDENTIFIERS.name)} GROUP BY record_id) AS m "
        f"ON m.record_id = t.record_id "
        f"LEFT JOIN {quote_ident(PROFILES.name)} AS g ON g.profile_id = m.profile_id"
    )


def fill_gaps(
    ws: Workspace, rule: FillRule, *, standardize: Mapping[str, str], run_id: str
) -> FillResult | None:
    """Rebuild ``customer_records_filled``; None while records or profiles do not exist yet."""
    needed = (CUSTOMER_RECORDS, PROFILES, PROFILE_IDENTIFIERS)
    if not all(ws.lake.exists(s.zone.value, s.name) for s in needed):
        return None
    data = ws.query(fill_sql(rule))
    flags = {c: data.column(f"_filled_{c}").to_pylist() for c in rule.columns}
    columns = {name: data.column(name) for name in CUSTOMER_RECORDS.column_names}
    for name, standard in standardize.items():
        if name in flags:
            columns[name] = _standardized(columns[name], flags[name], standard)
    filled = _provenance(flags, data.num_rows)
    out = _table(ws, columns, data.column("profile_id"), filled, run_id)
    spec = CUSTOMER_RECORDS_FILLED
    ws.lake.ensure_table(
        spec.zone.value, spec.name, spec.arrow_schema(), partition_by=spec.partition_by,
        stats_columns=spec.stats_columns(), description=spec.description,
    )  # fmt: skip
    commit = ws.lake.overwrite(
        spec.zone.value, spec.name, out, commit_info={"run_id": run_id, "job": JOB}
    )
    return FillResult(
        table=spec.name, records=data.num_rows,
        records_with_profile=data.num_rows - data.column("profile_id").null_count,
        records_filled=sum(1 for f in filled if f is not None),
        columns=[_counts(c, data.column(c), flags[c]) for c in rule.columns],
        table_version=commit.version,
    )  # fmt: skip


def _standardized(values: pa.ChunkedArray, flags: list[bool], name: str) -> pa.Array:
    fn = standardizer(name)
    out = [
        (fn(v) or v) if flag and v is not None else v
        for v, flag in zip(values.to_pylist(), flags, strict=True)
    ]
    return pa.array(out, values.type)


def _provenance(flags: Mapping[str, list[bool]], rows: int) -> list[str | None]:
    out: list[str | None] = []
    for i in range(rows):
        filled = {c: ORIGIN for c, column in flags.items() if column[i]}
        out.append(json.dumps(filled, sort_keys=True) if filled else None)
    return out


def _counts(column: str, values: pa.ChunkedArray, flags: list[bool]) -> ColumnFilled:
    after = values.null_count
    filled = sum(flags)
    return ColumnFilled(
        column=column, missing_before=after + filled, filled=filled, missing_after=after
    )


def _table(
    ws: Workspace,
    columns: Mapping[str, Any],
    profile_ids: pa.ChunkedArray,
    filled: list[str | None],
    run_id: str,
) -> pa.Table:
    schema = CUSTOMER_RECORDS_FILLED.arrow_schema()
    rows = len(filled)
    arrays = dict(columns)
    arrays["run_id"] = pa.array([run_id] * rows, pa.string())
    arrays["loaded_at"] = pa.array([ws.clock.now()] * rows, schema.field("loaded_at").type)
    arrays["profile_id"] = profile_ids
    arrays["filled_columns"] = pa.array(filled, schema.field("filled_columns").type)
    return pa.table([arrays[f.name].cast(f.type) for f in schema], schema=schema)

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

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from custodia.core.sql_text import quote_ident
from custodia.core.tables import TableSpec, table_spec
from custodia.pipeline.cleansing_spec import StandardizeRule
from custodia.pipeline.cleansing_standardizers import standardizer
from custodia.workspace import Workspace

__all__ = [
    "ColumnStandardized",
    "StandardizeResult",
    "StandardizedArray",
    "standardize_array",
    "standardize_table",
]

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


@dataclass(frozen=True)
class StandardizedArray:
    """One column standardized: the new values and, per row, whether the value changed."""

    values: pa.Array
    changed: npt.NDArray[np.bool_]
    present: int
    nonstandard_before: int
    nonstandard_after: int


def standardize_array(values: pa.Array | pa.ChunkedArray, name: str) -> StandardizedArray:
    """Run standardizer ``name`` over a text column, once per distinct value.

    A column repeats its values (cities, genders, names) and the standardizers are Python: the
    column is dictionary-encoded, each distinct value standardized once, and the per-row answers
    taken back by index, so the cost follows the distinct values, not the rows.
    """
    fn = standardizer(name)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    assert isinstance(encoded, pa.DictionaryArray)
    uniques = encoded.dictionary.to_pylist()
    canonical = [fn(v) for v in uniques]
    fixed = [v if c is None else c for v, c in zip(uniques, canonical, strict=True)]
    # one flag per distinct value, and a last one (False) for the rows holding NULL
    not_canonical = _flags(c != v for v, c in zip(uniques, canonical, strict=True))
    unreadable = _flags(
        c is None or (c != v and fn(c) != c) for v, c in zip(uniques, canonical, strict=True)
    )
    rewritten = _flags(f != v for v, f in zip(uniques, fixed, strict=True))
    index = encoded.indices.fill_null(len(uniques)).to_numpy(zero_copy_only=False)
    new_values = pa.array([*fixed, None], encoded.dictionary.type).take(pa.array(index))
    return StandardizedArray(
        values=new_values, changed=rewritten[index], present=len(values) - values.null_count,
        nonstandard_before=int(not_canonical[index].sum()),
        nonstandard_after=int(unreadable[index].sum()),
    )  # fmt: skip


def _flags(values: Iterable[bool]) -> npt.NDArray[np.bool_]:
    return np.fromiter([*values, False], dtype=bool)


def standardize_table(ws: Workspace, rule: StandardizeRule, run_id: str) -> StandardizeResult:
    """Standardize the rule's columns of its table (nothing to do when the table is missing)."""
    spec = table_spec(rule.table)
    if not ws.lake.exists(spec.zone.value, spec.name):
        return StandardizeResult(table=spec.name, rows_read=0, rows_changed=0, columns=[])
    data = ws.query(_read_sql(spec, rule))
    changed = np.zeros(data.num_rows, dtype=bool)
    new_columns: dict[str, pa.Array] = {}
    counts = []
    for column, name in rule.columns.items():
        done = standardize_array(data.column(column), name)
        changed |= done.changed
        new_columns[column] = done.values
        counts.append(_counts(column, name, done))
    rows = pa.array(np.flatnonzero(changed))
    version = _merge(ws, spec, data, new_columns, rows, run_id)
    return StandardizeResult(
        table=spec.name, rows_read=data.num_rows, rows_changed=len(rows), columns=counts,
        table_version=version,
    )  # fmt: skip


def _counts(column: str, name: str, done: StandardizedArray) -> ColumnStandardized:
    return ColumnStandardized(
        column=column, standardizer=name, values=done.present,
        nonstandard_before=done.nonstandard_before, changed=int(done.changed.sum()),
        nonstandard_after=done.nonstandard_after,
    )  # fmt: skip


def _read_sql(spec: TableSpec, rule: StandardizeRule) -> str:
    names = dict.fromkeys([spec.key[0], *spec.partition_by, *rule.columns])
    where = f" WHERE {rule.where}" if rule.where else ""
    return f"SELECT {', '.join(quote_ident(n) for n in names)} FROM {quote_ident(spec.name)}{where}"


def _merge(
    ws: Workspace,
    spec: TableSpec,
    data: pa.Table,
    new_columns: dict[str, pa.Array],
    rows: pa.Array,
    run_id: str,
) -> int | None:
    if not len(rows):
        return None
    schema = spec.arrow_schema()
    kept = dict.fromkeys([spec.key[0], *spec.partition_by])
    arrays = {n: data.column(n).take(rows).cast(schema.field(n).type) for n in kept}
    for column, values in new_columns.items():
        arrays[column] = values.take(rows).cast(schema.field(column).type)
    table = pa.Table.from_pydict(arrays, schema=pa.schema([schema.field(n) for n in arrays]))
    commit = ws.lake.merge(
        spec.zone.value, spec.name, table, spec.key, commit_info={"run_id": run_id, "job": JOB}
    )
    return commit.version

"""The parts of a mapping that run in Arrow: renaming fields, Unicode normalisation, and sorting
mapped rows into those that pass their required checks and those that go to the quarantine.

Everything here is vectorised (``pyarrow.compute``); only rows that fail a check are looked at
one by one, to say why.

Example::

    records = prepare_records(relation, source, mapping_arrow_steps(source, lookups))
    mapped = split_failures(rows, compiled)       # mapped.passed, mapped.failures
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from custodia.collect.mapping_spec import SourceMapping
from custodia.collect.mapping_sql import FILE_COLUMN, POSITION_COLUMN, CompiledTarget
from custodia.collect.mapping_transforms import ArrowStep
from custodia.core.errors import ValidationError

__all__ = ["MappedRows", "MappingFailure", "prepare_records", "split_failures"]


def prepare_records(
    table: pa.Table, source: SourceMapping, steps: tuple[ArrowStep, ...]
) -> pa.Table:
    """The records as the mapping sees them: fields renamed, Arrow steps applied."""
    table = _renamed(table, source)
    for step in steps:
        table = table.append_column(step.output, _normalized(table, step))
    return table


def _renamed(table: pa.Table, source: SourceMapping) -> pa.Table:
    if not source.rename:
        return table
    names = [source.rename.get(name, name) for name in table.column_names]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationError(
            f"{source.name}.rename", "unique", f"source {source.name}: rename repeats {repeated}"
        )
    return table.rename_columns(names)


def _normalized(table: pa.Table, step: ArrowStep) -> pa.ChunkedArray:
    if step.field not in table.column_names:
        return pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
    column = table.column(step.field)
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    return pc.utf8_normalize(column, form=step.form)


@dataclass(frozen=True)
class MappingFailure:
    """A mapped row that broke a required check: the first check it broke, and where the
    record came from (when each mapped row is one record), else the mapped row itself."""

    rule: str
    field: str
    reason: str
    source_file: str | None
    position: int | None
    row: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class MappedRows:
    """Rows that passed (only the table's columns) and the failures; ``flagged``: rows stored
    that break a quality rule marked ``at_entry`` with action ``flag``."""

    passed: pa.Table
    failures: list[MappingFailure]
    flagged: list[MappingFailure] = dataclasses.field(default_factory=list)


def split_failures(rows: pa.Table, compiled: CompiledTarget) -> MappedRows:
    """Separate rows failing a required check from the rest, saying why each failed."""
    failed = _failed_mask(rows, compiled)
    table_columns = [c for c in rows.column_names if c not in set(compiled.extra_columns)]
    passed = rows.filter(pc.invert(failed)).select(table_columns)
    if not pc.any(failed).as_py():
        return MappedRows(passed, [])
    bad = rows.filter(failed).to_pylist()
    return MappedRows(passed, [_failure(row, compiled, table_columns) for row in bad])


def _failed_mask(rows: pa.Table, compiled: CompiledTarget) -> pa.ChunkedArray:
    mask = None
    for check in compiled.checks:
        missing = pc.is_null(rows.column(check.column))
        mask = missing if mask is None else pc.or_(mask, missing)
    if mask is None:
        return pa.chunked_array([pa.array([False] * rows.num_rows, pa.bool_())])
    return mask


def _failure(row: dict[str, Any], compiled: CompiledTarget, columns: list[str]) -> MappingFailure:
    check = next(c for c in compiled.checks if row[c.column] is None)
    present = bool(row[check.input_column]) if check.input_column else False
    rule = check.failure_rule if present else "required"
    if compiled.located:
        return MappingFailure(
            rule,
            check.field,
            check.reason(present),
            row[FILE_COLUMN],
            row[POSITION_COLUMN],
        )
    mapped = {name: row[name] for name in columns}
    return MappingFailure(rule, check.field, check.reason(present), None, None, mapped)

"""Compile a :class:`TargetMapping` into one SQL SELECT that yields rows of its canonical table.

The SELECT reads a relation named ``records`` (the source's records of one load, after
``rename`` and ``derive``) and returns every column of the target table in declared order, each
wrapped in ``TRY_CAST`` to the declared type: a malformed value becomes NULL (and shows up in
quality checks) instead of failing the whole batch. Lineage columns (``source``, ``run_id``,
``loaded_at``) are filled from the load.

Required columns (the table's key and non-nullable columns, the target's ``required`` list and
transforms marked ``required: true``) are checked on the result: :func:`compile_target` adds, per
check, whether the input was present (so "missing" and "not a date" get different rules) and,
when each output row is one record, where the record came from, so the rows that fail can be
quarantined with their original payload.

Macros the SQL uses (see :func:`mapping_macros_sql`): ``custodia_key(k)`` (the surrogate key of
source key ``k``), ``local_ts(x)`` (a naive timestamp in the source's time zone, as an aware UTC
timestamp) and the date parsers of :mod:`custodia.collect.mapping_dialect`.

Example::

    compiled = compile_target(source, target, lookups={}, run_id="run_1", loaded_at=now)
    compiled.staging_sql()      # SELECT ... QUALIFY ... (checked and de-duplicated by key)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from custodia.collect.mapping_dialect import DUCKDB, DuckDBDialect
from custodia.collect.mapping_spec import SourceMapping, TargetMapping
from custodia.collect.mapping_transforms import (
    ArrowStep,
    ColumnTransform,
    CompiledColumn,
    LookupTable,
    TemporalKind,
    compile_column,
)
from custodia.core.errors import ValidationError
from custodia.core.ids import record_key_sql
from custodia.core.sql_text import quote_ident, quote_literal, sql_type
from custodia.core.tables import TableSpec, table_spec

__all__ = [
    "FILE_COLUMN",
    "LINEAGE_COLUMNS",
    "POSITION_COLUMN",
    "CompiledTarget",
    "RequiredCheck",
    "compile_derive_sql",
    "compile_target",
    "compile_target_sql",
    "mapping_arrow_steps",
    "mapping_macros_sql",
]

LINEAGE_COLUMNS = ("source", "run_id", "loaded_at")
FILE_COLUMN = "__custodia_file"
POSITION_COLUMN = "__custodia_pos"
_INPUT_PREFIX = "__custodia_in_"


def mapping_macros_sql(source: SourceMapping, dialect: DuckDBDialect = DUCKDB) -> list[str]:
    """Statements that define the per-source macros used by mapping expressions."""
    name = quote_literal(source.name)
    zone = quote_literal(source.timezone)
    return [
        f"CREATE OR REPLACE MACRO custodia_key(k) AS {record_key_sql(name, 'CAST(k AS VARCHAR)')}",
        "CREATE OR REPLACE MACRO local_ts(x) AS "
        f"timezone({zone}, TRY_CAST(CAST(x AS VARCHAR) AS TIMESTAMP))",
        *dialect.macros(source.timezone),
    ]


@dataclass(frozen=True)
class RequiredCheck:
    """One column that must not be NULL in a mapped row."""

    column: str
    field: str
    failure_rule: str
    input_column: str | None = None
    is_key: bool = False

    def reason(self, input_present: bool) -> str:
        """One line saying what is wrong, never the value."""
        if self.is_key:
            return f"{self.field}: the source key is empty"
        if not input_present:
            return f"required column {self.field} is empty"
        return {
            "date_format": f"{self.field}: the value is not a date in any accepted format",
            "lookup": f"{self.field}: the value is not in the lookup table",
            "cast": f"{self.field}: the value cannot be converted to the column's type",
        }.get(self.failure_rule, f"required column {self.field} is empty")


@dataclass(frozen=True)
class CompiledTarget:
    """A target's SELECT, its required checks, and whether rows carry their origin."""

    table: str
    select_sql: str
    key_columns: tuple[str, ...]
    checks: tuple[RequiredCheck, ...]
    located: bool
    arrow_steps: tuple[ArrowStep, ...] = ()

    @property
    def extra_columns(self) -> list[str]:
        """Columns of the result that are not the table's (checks and origin)."""
        extra = [c.input_column for c in self.checks if c.input_column]
        return extra + ([FILE_COLUMN, POSITION_COLUMN] if self.located else [])

    def staging_sql(self) -> str:
        """The SELECT with every failing row kept and the passing rows de-duplicated by key
        (one row per key, the first record by position when rows carry their origin)."""
        failed = self.failed_sql()
        keys = ", ".join(quote_ident(k) for k in self.key_columns)
        order = f" ORDER BY {quote_ident(POSITION_COLUMN)}" if self.located else ""
        return (
            f"SELECT * FROM ({self.select_sql}) AS mapped\n"
            f"QUALIFY {failed} OR row_number() OVER (PARTITION BY {keys}, {failed}{order}) = 1"
        )

    def failed_sql(self) -> str:
        return "(" + " OR ".join(f"{quote_ident(c.column)} IS NULL" for c in self.checks) + ")"


def compile_target_sql(
    source: SourceMapping,
    target: TargetMapping,
    *,
    run_id: str,
    loaded_at: datetime,
    lookups: dict[str, LookupTable] | None = None,
) -> str:
    """The SELECT producing ``target.table`` rows from ``records`` (without the checks)."""
    return _compile(source, target, lookups or {}, run_id, loaded_at, checked=False).select_sql


def compile_target(
    source: SourceMapping,
    target: TargetMapping,
    *,
    lookups: dict[str, LookupTable],
    run_id: str,
    loaded_at: datetime,
) -> CompiledTarget:
    """The SELECT with its required checks (see the module docstring)."""
    return _compile(source, target, lookups, run_id, loaded_at, checked=True)


def compile_derive_sql(
    source: SourceMapping, lookups: dict[str, LookupTable], relation: str = "source_records"
) -> str | None:
    """SQL adding the source's derived fields to ``relation``, each able to use the ones before
    it; ``None`` when the source derives nothing."""
    if not source.derive:
        return None
    sql = f"SELECT * FROM {relation}"
    for index, (name, spec) in enumerate(source.derive.items()):
        column = compile_column(spec, lookups=lookups)
        sql = f"SELECT *, {column.sql} AS {quote_ident(name)} FROM ({sql}) AS step_{index}"
    return sql


def mapping_arrow_steps(
    source: SourceMapping, lookups: dict[str, LookupTable]
) -> tuple[ArrowStep, ...]:
    """Every Arrow step the source's derived fields and targets need, once each."""
    specs = list(source.derive.values())
    for target in source.targets:
        specs.extend(target.columns.values())
    steps: dict[str, ArrowStep] = {}
    for spec in specs:
        if isinstance(spec, ColumnTransform):
            for step in compile_column(spec, lookups=lookups).arrow_steps:
                steps.setdefault(step.output, step)
    return tuple(steps.values())


def _compile(
    source: SourceMapping,
    target: TargetMapping,
    lookups: dict[str, LookupTable],
    run_id: str,
    loaded_at: datetime,
    *,
    checked: bool,
) -> CompiledTarget:
    spec = table_spec(target.table)
    _check_known_columns(source, target, spec)
    lineage = {
        "source": quote_literal(source.name),
        "run_id": quote_literal(run_id),
        "loaded_at": f"TIMESTAMPTZ {quote_literal(loaded_at.isoformat())}",
    }
    compiled = {
        name: compile_column(col, lookups=lookups, temporal=_temporal(spec, name))
        for name, col in target.columns.items()
    }
    key_column = spec.key[0]
    selects = []
    for col in spec.columns:
        if col.name == key_column:
            expr = f"custodia_key({target.key})"
        elif col.name in compiled:
            expr = compiled[col.name].sql
        elif col.name in lineage:
            expr = lineage[col.name]
        elif col.name == "source_key":
            expr = target.key
        else:
            expr = "NULL"
        selects.append(f"TRY_CAST({expr} AS {sql_type(col.type)}) AS {quote_ident(col.name)}")
    checks = _checks(spec, target, compiled) if checked else ()
    grouped = target.group_by is not None
    checks = tuple(_with_input(c, compiled, grouped) for c in checks)
    located = checked and not grouped and target.from_.strip() == "records"
    selects += [
        f"({compiled[c.column].input_sql}) IS NOT NULL AS {quote_ident(c.input_column)}"
        for c in checks
        if c.input_column
    ]
    if located:
        selects += [
            f"_source_file AS {quote_ident(FILE_COLUMN)}",
            f"_position AS {quote_ident(POSITION_COLUMN)}",
        ]
    sql = "SELECT\n  " + ",\n  ".join(selects) + f"\nFROM {target.from_}"
    if target.where:
        sql += f"\nWHERE {target.where}"
    if target.group_by:
        sql += f"\nGROUP BY {target.group_by}"
    steps = tuple(s for c in compiled.values() for s in c.arrow_steps)
    return CompiledTarget(spec.name, sql, spec.key, checks, located, steps)


def _check_known_columns(source: SourceMapping, target: TargetMapping, spec: TableSpec) -> None:
    where = f"{source.name}.{target.table}.columns"
    unknown = sorted((set(target.columns) | set(target.required)) - set(spec.column_names))
    if unknown:
        raise ValidationError(
            where,
            "known_column",
            f"mapping {source.name} -> {target.table}: unknown target column(s) {unknown}",
        )
    key = spec.key[0]
    unmapped = [
        c.name
        for c in spec.columns
        if not c.nullable and c.name not in {key, *LINEAGE_COLUMNS} and c.name not in target.columns
    ]
    if unmapped:
        raise ValidationError(
            where,
            "required_column",
            f"mapping {source.name} -> {target.table}: table requires column(s) {unmapped}",
        )


def _checks(
    spec: TableSpec, target: TargetMapping, compiled: dict[str, CompiledColumn]
) -> tuple[RequiredCheck, ...]:
    names = [spec.key[0]]
    names += [c.name for c in spec.columns if not c.nullable and c.name not in LINEAGE_COLUMNS]
    names += target.required
    names += [
        name
        for name, col in target.columns.items()
        if isinstance(col, ColumnTransform) and col.required
    ]
    unique = list(dict.fromkeys(names))
    return tuple(
        RequiredCheck(
            column=name,
            field=f"{spec.name}.{name}",
            failure_rule=compiled[name].failure_rule if name in compiled else "required",
            is_key=name == spec.key[0],
        )
        for name in unique
    )


def _with_input(
    check: RequiredCheck, compiled: dict[str, CompiledColumn], grouped: bool
) -> RequiredCheck:
    column = compiled.get(check.column)
    if grouped or column is None or column.input_sql is None:
        return check
    index = list(compiled).index(check.column)
    return RequiredCheck(
        check.column, check.field, check.failure_rule, f"{_INPUT_PREFIX}{index}", check.is_key
    )


def _temporal(spec: TableSpec, column: str) -> TemporalKind | None:
    if column not in spec.column_names:
        return None
    arrow_type = spec.column(column).type
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    return None

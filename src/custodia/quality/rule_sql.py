"""Quality rules compiled to SQL: one scan per table for every row rule, one query per set rule.

Row rules (not_null, regex, format, accepted_values, range, references, match) judge each row on
its own, so all the row rules of a table fuse into one ``GROUP BY source, day`` query with two
``count(*) FILTER (WHERE ...)`` columns per rule (rows checked, rows failed): the table is read
once however many rules it has. ``references`` and ``match`` add a left join to a de-duplicated
side of the other table, so no row is counted twice.

Set rules need more than one row at a time: ``unique`` (a window count per key), ``max_per_key``
(distinct values per key), ``freshness`` (the newest row per source) and ``volume`` (rows per day,
source and ``by`` columns). Their SQL returns what :mod:`custodia.quality.evaluate` turns into
checked/failed counts. ``custom_sql`` runs as written (through the read-only guard).

SQL is written in DuckDB's dialect and transpiled by sqlglot for Spark (:func:`in_dialect`), so
the same rule runs on the embedded engine and on a cluster. Generated SQL is snapshot-tested.

Example::

    for query in compile_rules(ruleset.rules):
        print(query.table, query.kind, query.sql)
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pyarrow as pa
import sqlglot

from custodia.core.sql_text import quote_ident, quote_literal
from custodia.core.tables import TableSpec, table_spec
from custodia.quality.formats import FORMATS
from custodia.quality.periods import period_start, shift
from custodia.quality.rule_columns import column_sql, split_column

__all__ = [
    "ROW_CHECKS",
    "CompiledQuery",
    "compile_rules",
    "failing_rows_sql",
    "in_dialect",
    "volume_since",
]

ROW_CHECKS = frozenset(
    {"not_null", "regex", "format", "accepted_values", "range", "references", "match"}
)
QueryKind = Literal["rows", "unique", "max_per_key", "freshness", "volume", "custom_sql"]


@dataclass(frozen=True)
class CompiledQuery:
    """One query and the rules it measures.

    ``rows`` queries return ``source, day`` and ``<i>_checked, <i>_failed`` per rule (``i`` the
    rule's position in ``rules``); the other kinds return the columns their evaluator reads.
    """

    table: str
    kind: QueryKind
    rules: tuple[Any, ...]
    sql: str


def compile_rules(
    rules: Iterable[Any], *, latest_days: Mapping[str, date] | None = None
) -> list[CompiledQuery]:
    """Compile rules into as few queries as possible, table by table in rule order.

    ``latest_days`` gives each table's latest day of data, so volume queries read only the days
    they judge; without it they count every day.
    """
    by_table: dict[str, list[Any]] = defaultdict(list)
    queries: list[CompiledQuery] = []
    for rule in rules:
        if rule.check in ROW_CHECKS:
            by_table[rule.table].append(rule)
        else:
            latest = (latest_days or {}).get(rule.table) if rule.check == "volume" else None
            queries.append(_set_query(rule, volume_since(latest, rule) if latest else None))
    fused = [_rows_query(table, group) for table, group in by_table.items()]
    return fused + queries


def in_dialect(sql: str, dialect: str) -> str:
    """The same query in another engine's SQL (``spark``, ``postgres``, ...)."""
    if dialect == "duckdb":
        return sql
    return sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=True)[0]


def volume_since(latest: date, rule: Any) -> date:
    """First day a volume rule needs: its lookback before the judged window."""
    return shift(period_start(latest, rule.period), rule.period, -(rule.lookback + rule.window - 1))


# -- row rules -----------------------------------------------------------------------------------


def _rows_query(table: str, rules: Sequence[Any]) -> CompiledQuery:
    spec = table_spec(table)
    joins: list[str] = []
    measures: list[str] = []
    for i, rule in enumerate(rules):
        applies, fails, join = _row_predicates(spec, rule, i)
        if join:
            joins.append(join)
        scope = f"({rule.where}) AND " if rule.where else ""
        measures.append(f"count(*) FILTER (WHERE {scope}{applies}) AS r{i}_checked")
        measures.append(f"count(*) FILTER (WHERE {scope}{applies} AND {fails}) AS r{i}_failed")
    sql = (
        f"SELECT {_source(spec, 't')} AS source, {_day(spec, 't')} AS day,\n  "
        + ",\n  ".join(measures)
        + f"\nFROM {quote_ident(table)} AS t"
        + "".join(f"\n{join}" for join in joins)
        + "\nGROUP BY 1, 2"
    )
    return CompiledQuery(table, "rows", tuple(rules), sql)


def _row_predicates(spec: TableSpec, rule: Any, i: int) -> tuple[str, str, str | None]:
    """(applies, fails, join) for one row rule; ``applies`` limits which rows are counted."""
    col = column_sql(rule.column, spec, "t")
    if rule.check == "not_null":
        blank = _is_text(spec, rule.column) and rule.blank_is_null
        return "TRUE", (f"({col} IS NULL OR trim({col}) = '')" if blank else f"{col} IS NULL"), None
    present = f"{col} IS NOT NULL"
    if rule.check in ("regex", "format"):
        pattern = rule.pattern if rule.check == "regex" else FORMATS[rule.format].pattern
        text = col if _is_text(spec, rule.column) else f"CAST({col} AS VARCHAR)"
        return present, f"NOT regexp_matches({text}, {quote_literal(_anchored(pattern))})", None
    if rule.check == "accepted_values":
        listed = ", ".join(_literal(spec, rule.column, v) for v in rule.values)
        return present, f"{col} NOT IN ({listed})", None
    if rule.check == "range":
        return present, _out_of_range(spec, rule, col), None
    if rule.check == "references":
        return _references(rule, col, i)
    return _match(spec, rule, col, i)


def _references(rule: Any, col: str, i: int) -> tuple[str, str, str]:
    table, column = rule.references.split(".", 1)
    alias = f"ref{i}"
    join = (
        f"LEFT JOIN (SELECT DISTINCT {quote_ident(column)} AS v FROM {quote_ident(table)}) "
        f"AS {alias} ON {col} = {alias}.v"
    )
    return f"{col} IS NOT NULL", f"{alias}.v IS NULL", join


def _match(spec: TableSpec, rule: Any, col: str, i: int) -> tuple[str, str, str]:
    table, column = rule.other.split(".", 1)
    alias = f"oth{i}"
    keys = list(rule.join.items())
    inner_keys = ", ".join(f"{quote_ident(r)} AS k{n}" for n, (_, r) in enumerate(keys))
    group = ", ".join(str(n + 1) for n in range(len(keys)))
    join = (
        f"LEFT JOIN (SELECT {inner_keys}, min({quote_ident(column)}) AS v "
        f"FROM {quote_ident(table)} WHERE {quote_ident(column)} IS NOT NULL GROUP BY {group}) "
        f"AS {alias} ON "
        + " AND ".join(f"t.{quote_ident(left)} = {alias}.k{n}" for n, (left, _) in enumerate(keys))
    )
    applies = f"{col} IS NOT NULL AND {alias}.v IS NOT NULL"
    fails = f"{_normalized(col, rule.normalize)} <> {_normalized(f'{alias}.v', rule.normalize)}"
    return applies, fails, join


def _normalized(expr: str, steps: Sequence[str]) -> str:
    out = f"CAST({expr} AS VARCHAR)"
    for step in steps:
        if step == "trim":
            out = f"trim({out})"
        elif step == "lower":
            out = f"lower({out})"
        elif step == "nfc":
            out = f"nfc_normalize({out})"
        elif step == "no_spaces":
            out = f"regexp_replace({out}, '\\s+', '', 'g')"
        elif step == "digits":
            out = f"regexp_replace({out}, '[^0-9]', '', 'g')"
    return out


def _out_of_range(spec: TableSpec, rule: Any, col: str) -> str:
    def bound(value: object) -> str:
        return repr(value) if numeric else _literal(spec, rule.column, value)

    numeric = bool(split_column(rule.column)[1]) and not isinstance(rule.min or rule.max, str)
    if numeric:  # a number inside JSON is compared as a number (text that is not one: unchecked)
        col = f"TRY_CAST({col} AS DOUBLE)"
    parts = []
    if rule.min is not None:
        parts.append(f"{col} < {bound(rule.min)}")
    if rule.max is not None:
        parts.append(f"{col} > {bound(rule.max)}")
    return "(" + " OR ".join(parts) + ")"


# -- set rules -----------------------------------------------------------------------------------


def _set_query(rule: Any, volume_start: date | None) -> CompiledQuery:
    spec = table_spec(rule.table)
    where = f"\nWHERE {rule.where}" if rule.where else ""
    if rule.check == "custom_sql":
        return CompiledQuery(rule.table, "custom_sql", (rule,), rule.sql.strip().rstrip(";"))
    if rule.check == "unique":
        keys = ", ".join(quote_ident(c) for c in rule.columns)
        present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in rule.columns)
        scope = f"({rule.where}) AND {present}" if rule.where else present
        sql = (
            "SELECT source, day, count(*) AS checked, count(*) FILTER (WHERE n > 1) AS failed\n"
            f"FROM (SELECT {_source(spec)} AS source, {_day(spec)} AS day, "
            f"count(*) OVER (PARTITION BY {keys}) AS n\n"
            f"  FROM {quote_ident(rule.table)} WHERE {scope}) AS keyed\nGROUP BY 1, 2"
        )
        return CompiledQuery(rule.table, "unique", (rule,), sql)
    if rule.check == "max_per_key":
        keys = ", ".join(quote_ident(c) for c in rule.key)
        sql = (
            "SELECT '' AS source, CAST(NULL AS DATE) AS day, count(*) AS checked, "
            f"count(*) FILTER (WHERE n > {int(rule.max)}) AS failed\n"
            f"FROM (SELECT {keys}, count(DISTINCT {quote_ident(rule.column)}) AS n "
            f"FROM {quote_ident(rule.table)}{where} GROUP BY {keys}) AS per_key"
        )
        return CompiledQuery(rule.table, "max_per_key", (rule,), sql)
    column = quote_ident(rule.column or _time_column(spec))
    if rule.check == "freshness":
        sql = (
            f"SELECT {_source(spec)} AS source, max({column}) AS newest "
            f"FROM {quote_ident(rule.table)}{where} GROUP BY 1"
        )
        return CompiledQuery(rule.table, "freshness", (rule,), sql)
    return _volume_query(spec, rule, column, volume_start)


def _volume_query(
    spec: TableSpec, rule: Any, column: str, volume_start: date | None
) -> CompiledQuery:
    by = "".join(
        f", CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident('by_' + c)}" for c in rule.by
    )
    conditions = [f"{column} IS NOT NULL"]
    if rule.where:
        conditions.append(f"({rule.where})")
    if volume_start is not None:
        conditions.append(f"{column} >= DATE '{volume_start.isoformat()}'")
    groups = ", ".join(str(n) for n in range(1, 3 + len(rule.by)))
    bucket = (
        f"CAST({column} AS DATE)" if rule.period == "day"
        else f"CAST(date_trunc('{rule.period}', {column}) AS DATE)"
    )  # fmt: skip
    sql = (
        f"SELECT {_source(spec)} AS source, {bucket} AS day{by}, count(*) AS n\n"
        f"FROM {quote_ident(rule.table)}\nWHERE {' AND '.join(conditions)}\nGROUP BY {groups}"
    )
    return CompiledQuery(rule.table, "volume", (rule,), sql)


def failing_rows_sql(rule: Any, *, limit: int = 20) -> str | None:
    """The keys of rows a row rule fails on (for review tasks and explanations), or None."""
    if rule.check not in ROW_CHECKS:
        return None
    spec = table_spec(rule.table)
    applies, fails, join = _row_predicates(spec, rule, 0)
    keys = ", ".join(f"t.{quote_ident(k)}" for k in spec.key)
    scope = f"({rule.where}) AND " if rule.where else ""
    joined = f"\n{join}" if join else ""
    return (
        f"SELECT {keys}, {_source(spec, 't')} AS source, {_day(spec, 't')} AS day\n"
        f"FROM {quote_ident(rule.table)} AS t{joined}\n"
        f"WHERE {scope}{applies} AND {fails}\nORDER BY {keys}\nLIMIT {int(limit)}"
    )


# -- small pieces --------------------------------------------------------------------------------


def _source(spec: TableSpec, alias: str | None = None) -> str:
    if "source" not in spec.column_names:
        return "''"
    return f"{alias}.source" if alias else "source"


def _day(spec: TableSpec, alias: str | None = None) -> str:
    if spec.time_column is None:
        return "CAST(NULL AS DATE)"
    column = quote_ident(spec.time_column)
    return f"CAST({alias + '.' if alias else ''}{column} AS DATE)"


def _time_column(spec: TableSpec) -> str:
    if spec.time_column is None:
        raise ValueError(f"table {spec.name} has no time column; give the rule a column")
    return spec.time_column


def _is_text(spec: TableSpec, column: str) -> bool:
    if split_column(column)[1]:
        return True  # a value inside a JSON column is read as text
    kind = spec.column(column).type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _literal(spec: TableSpec, column: str, value: object) -> str:
    """A constant of the column's type; a constant of another kind is a ValueError."""
    if split_column(column)[1]:  # inside JSON: compared as the text the engine extracts
        return quote_literal(value if isinstance(value, str) else json.dumps(value))
    kind = spec.column(column).type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        if not isinstance(value, str):
            raise ValueError(f"column {column} needs a date or time, not a number")
        prefix = "TIMESTAMPTZ" if pa.types.is_timestamp(kind) else "DATE"
        return f"{prefix} {quote_literal(value)}"
    if text:
        if not isinstance(value, str):
            raise ValueError(f"column {column} holds text: give text, not a number")
        return quote_literal(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"column {column} needs a number, not text")
    return repr(value)

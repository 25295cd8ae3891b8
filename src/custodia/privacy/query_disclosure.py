"""Masking the results of ad-hoc SQL (``POST /v1/query``) by the table columns they come from.

Each result column is traced back through aliases, CTEs, subqueries and joins to the canonical
table columns it reads (sqlglot's column lineage over the schemas in :mod:`custodia.core.tables`):

- a column that *is* a table column (``phone``, ``p.phone AS tel``, ``x.phone`` from a CTE) gets
  that column's treatment for the role: clear, masked in its kind's format, or left out;
- a ``COUNT(...)``, or an expression over general (L1) columns only, is clear;
- any other expression over personal columns (``upper(name)``, ``substr(resident_id, 7, 8)``,
  ``min(phone)``) cannot be masked reliably. Unless the role's policy gives every column it reads
  in clear, it is refused, naming the result column and what it reads, except for roles whose
  policy sets ``derived_query_columns: clear`` (admins, shipped), whose such reads are returned
  and written to the audit log (one ``data.query_unmasked`` entry naming columns, never values).

A statement whose columns cannot be traced at all (a set operation, a table function) counts as
reading highly sensitive data.

Example::

    plan = plan_disclosure("select phone, count(*) n from orders group by 1", masker)
    plan.apply(rows)        # [{'phone': '138****5678', 'n': 3}, ...]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify

from custodia.core.clock import Clock
from custodia.core.errors import PermissionDeniedError
from custodia.core.tables import TABLES
from custodia.privacy.masking_policy import Action, Masker
from custodia.storage.sql_guard import DIALECT, parse_read_only
from custodia.storage.store import AuditLog, OperationalStore

__all__ = ["DisclosurePlan", "ResultColumn", "plan_disclosure", "trace_columns"]

_SCHEMA: Final[dict[str, object]] = {
    spec.name: {c.name: "VARCHAR" for c in spec.columns} for spec in TABLES
}


@dataclass(frozen=True, slots=True)
class ResultColumn:
    """Where one result column comes from: ``sources`` is None when it could not be traced."""

    name: str
    sources: tuple[tuple[str, str], ...] | None
    direct: bool = False
    counted: bool = False


def trace_columns(sql: str, names: Sequence[str]) -> list[ResultColumn]:
    """The lineage of each result column ``names`` (as the engine returned them) of ``sql``."""
    try:
        tree = qualify(parse_read_only(sql).copy(), schema=_SCHEMA, dialect=DIALECT)
        selects = list(tree.named_selects) if isinstance(tree, exp.Select) else []
    except SqlglotError:
        selects = []
    if len(selects) != len(names):
        return [ResultColumn(name, None) for name in names]
    return [_trace(tree, select, name) for select, name in zip(selects, names, strict=True)]


def _trace(tree: exp.Expr, select: str, name: str) -> ResultColumn:
    try:
        root = lineage(select, tree, schema=_SCHEMA, dialect=DIALECT)
    except (SqlglotError, ValueError, KeyError):
        return ResultColumn(name, None)
    nodes = list(root.walk())
    leaves = [n for n in nodes if isinstance(n.expression, exp.Table)]
    sources = tuple(sorted({_source(n) for n in leaves}))
    inner = [n.expression for n in nodes if not isinstance(n.expression, exp.Table)]
    direct = len(sources) == 1 and all(_is_plain_column(e) for e in inner)
    counted = bool(inner) and isinstance(_unaliased(inner[0]), exp.Count)
    return ResultColumn(name, sources, direct, counted)


def _source(node: Node) -> tuple[str, str]:
    table = node.expression
    assert isinstance(table, exp.Table)
    return table.name, node.name.rsplit(".", 1)[-1].strip('"')


def _unaliased(expression: exp.Expr) -> exp.Expr:
    return expression.this if isinstance(expression, exp.Alias) else expression


def _is_plain_column(expression: exp.Expr) -> bool:
    return isinstance(_unaliased(expression), exp.Column)


@dataclass(frozen=True)
class DisclosurePlan:
    """What to do with each result column for one role; ``in_clear`` lists derived personal
    columns returned in clear (to be audited)."""

    columns: Mapping[str, ResultColumn]
    masker: Masker
    in_clear: tuple[str, ...]

    def record_in_clear(self, store: OperationalStore, actor: str, clock: Clock) -> None:
        """The one audit entry of a query that returned derived personal columns in clear."""
        if not self.in_clear:
            return
        reads = sorted(
            {f"{t}.{c}" for n in self.in_clear for t, c in self.columns[n].sources or ()}
        )
        details = {"columns": list(self.in_clear), "reads": reads}
        AuditLog(store, clock).append(actor, "data.query_unmasked", "query", details=details)

    def apply(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The rows as the role may see them."""
        return [self._row(row) for row in rows]

    def _row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in row.items():
            column = self.columns[name]
            if not column.direct or column.sources is None:
                out[name] = value
                continue
            table, source = column.sources[0]
            keep, shown = self.masker.shown(table, source, value)
            if keep:
                out[name] = shown
        return out

    @property
    def visible(self) -> list[str]:
        """Result columns the role gets at all (absent ones are left out)."""
        return [name for name in self.columns if self._kept(self.columns[name])]

    def _kept(self, column: ResultColumn) -> bool:
        if not column.direct or column.sources is None:
            return True
        table, source = column.sources[0]
        return (
            self.masker.action(table, source) is not Action.ABSENT or source in self.masker.reveal
        )


def plan_disclosure(sql: str, names: Sequence[str], masker: Masker) -> DisclosurePlan:
    """Trace ``sql``'s result columns and decide each one for ``masker``'s role; refuses
    (PermissionDeniedError naming the column) what cannot be masked for this role."""
    columns = {c.name: c for c in trace_columns(sql, names)}
    in_clear: list[str] = []
    for column in columns.values():
        if column.direct or column.counted or _general(column, masker):
            continue
        if not masker.rules.derived_query_columns_in_clear:
            raise PermissionDeniedError(_refusal(column))
        in_clear.append(column.name)
    return DisclosurePlan(columns, masker, tuple(in_clear))


def _general(column: ResultColumn, masker: Masker) -> bool:
    """True when every column it reads is clear for the role."""
    if column.sources is None:
        return False
    return all(masker.in_clear(table, source) for table, source in column.sources)


def _refusal(column: ResultColumn) -> str:
    if column.sources is None:
        return f"result column '{column.name}' cannot be traced to table columns; not allowed"
    reads = ", ".join(f"{t}.{c}" for t, c in column.sources)
    return (
        f"result column '{column.name}' is computed from personal columns ({reads}) and cannot "
        "be masked; select the columns themselves"
    )

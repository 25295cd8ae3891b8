"""A rule's ``where`` condition as a Python test on one record, for entry validation.

The quality run hands ``where`` to the SQL engine; at entry there is no engine, so the usual
shapes of a scope condition are compiled into a small function: comparisons of a column with a
constant (``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``), ``IN`` lists, ``IS [NOT] NULL``, ``TRUE``
/ ``FALSE``, combined with ``AND``, ``OR``, ``NOT`` and parentheses. Anything else (functions,
``LIKE``, sub-queries, arithmetic) is refused when the rule file is read, naming the rule.

Like SQL, the test has three values: a comparison with a null is unknown (``None``), and a rule
applies only where its condition is true. Constants are converted to the column's type once
(``registered_at >= '2024-01-01'`` compares instants).

Example::

    applies, columns = compile_where("source <> 'enrichment' AND gender IS NOT NULL", spec)
    applies({"source": "crm", "gender": "F"})     # True
    columns                                      # frozenset({'source', 'gender'})
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

import pyarrow as pa
import sqlglot
from sqlglot import exp

from custodia.core.tables import TableSpec

__all__ = ["Condition", "compile_where"]

Condition = Callable[[Mapping[str, Any]], bool | None]
"""True, False or None (unknown, as SQL's NULL) for one record."""

_COMPARISONS: Final[dict[type[exp.Expr], Callable[[Any, Any], bool]]] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
}
_MIRRORED: Final[dict[type[exp.Expr], type[exp.Expr]]] = {
    exp.EQ: exp.EQ, exp.NEQ: exp.NEQ, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.GT: exp.LT,
    exp.GTE: exp.LTE,
}  # fmt: skip


def compile_where(condition: str, spec: TableSpec) -> tuple[Condition, frozenset[str]]:
    """The condition as a function of a record, and the columns it reads.

    Raises ValueError naming what cannot run at entry.
    """
    try:
        tree = sqlglot.parse_one(condition, read="duckdb")
    except sqlglot.errors.ParseError:
        raise ValueError("where is not a SQL condition") from None
    columns = frozenset(column.name for column in tree.find_all(exp.Column))
    return _compile(tree, spec), columns


def _compile(node: exp.Expr, spec: TableSpec) -> Condition:
    if isinstance(node, exp.Paren):
        return _compile(node.this, spec)
    if isinstance(node, exp.And | exp.Or):
        return _logical(node, spec)
    if isinstance(node, exp.Not):
        inner = _compile(node.this, spec)
        return lambda record: _negated(inner(record))
    if isinstance(node, exp.Boolean):
        value = bool(node.this)
        return lambda record: value
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        column = _column(node.this)
        return lambda record: record.get(column) is None
    if isinstance(node, exp.In) and not node.args.get("query"):
        return _in(node, spec)
    if type(node) in _COMPARISONS and exp.Column in (type(node.this), type(node.expression)):
        return _comparison(node, spec)
    raise _unsupported(node)


def _unsupported(node: exp.Expr) -> ValueError:
    return ValueError(
        f"where: {node.sql(dialect='duckdb')!r} cannot run at entry (use =, <>, <, >, IN, "
        "IS NULL, AND, OR, NOT on columns and constants)"
    )


def _logical(node: exp.And | exp.Or, spec: TableSpec) -> Condition:
    left, right = _compile(node.this, spec), _compile(node.expression, spec)
    if isinstance(node, exp.And):
        return lambda record: _and(left(record), right(record))
    return lambda record: _negated(_and(_negated(left(record)), _negated(right(record))))


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _negated(value: bool | None) -> bool | None:
    return None if value is None else not value


def _in(node: exp.In, spec: TableSpec) -> Condition:
    column = _column(node.this)
    values = frozenset(_constant(item, spec, column) for item in node.expressions)

    def test(record: Mapping[str, Any]) -> bool | None:
        value = record.get(column)
        return None if value is None else value in values

    return test


def _comparison(node: exp.Expr, spec: TableSpec) -> Condition:
    kind: type[exp.Expr] = type(node)
    left, right = node.this, node.expression
    if not isinstance(left, exp.Column):  # 'x' = column: the same test, mirrored
        left, right, kind = right, left, _MIRRORED[kind]
    column = _column(left)
    constant = _constant(right, spec, column)
    compare = _COMPARISONS[kind]

    def test(record: Mapping[str, Any]) -> bool | None:
        value = record.get(column)
        if value is None or constant is None:
            return None
        try:
            return compare(value, constant)
        except TypeError:  # a value of another type than the column's: not comparable
            return None

    return test


def _column(node: exp.Expr) -> str:
    if not isinstance(node, exp.Column):
        raise _unsupported(node)
    return str(node.name)


def _constant(node: exp.Expr, spec: TableSpec, column: str) -> Any:
    """A literal as a value of ``column``'s type (None for NULL)."""
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return -_constant(node.this, spec, column)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if not isinstance(node, exp.Literal):
        raise _unsupported(node)
    text = str(node.this)
    kind = spec.column(column).type if column in spec.column_names else pa.string()
    try:
        return _typed(text, kind)
    except ValueError:
        raise ValueError(f"where: {text!r} is not a value of column {column}") from None


def _typed(text: str, kind: pa.DataType) -> Any:
    if pa.types.is_timestamp(kind):
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    if pa.types.is_date(kind):
        return date.fromisoformat(text)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return text
    if pa.types.is_boolean(kind):
        return text.lower() == "true"
    return float(text)

"""The small SQL-ish language of trait filters and tag rules.

A trait's ``where`` (over its source's columns) and a tag's ``when`` (over trait names) are
boolean expressions in DuckDB syntax, restricted to what every engine runs the same way:
comparisons, ``AND``/``OR``/``NOT``, ``IN``, ``LIKE``/``ILIKE``, ``IS [NOT] NULL``, ``BETWEEN``,
arithmetic, string/number literals and a few functions. Names must be known columns (events may
name a property as ``properties.category``: the text of that JSON field). Anything else is an
error naming the rule, never a query that runs something unexpected.

Example::

    check_condition("status = 'completed' AND total_amount > 100", {"status", "total_amount"})
    render_condition("properties.limited_edition = 'true'", {"event"}, json_columns={"properties"})
    # "json_extract_string(\"properties\", '$.limited_edition') = 'true'"
"""

from __future__ import annotations

from collections.abc import Collection

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from custodia.core.errors import ValidationError

__all__ = ["check_condition", "columns_named", "quote", "render_condition", "render_expression"]

_NODES: tuple[type[exp.Expr], ...] = (
    exp.And, exp.Or, exp.Not, exp.Paren, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.In, exp.Like, exp.ILike, exp.Is, exp.Between, exp.Add, exp.Sub, exp.Mul, exp.Div,
    exp.Mod, exp.Neg, exp.Literal, exp.Boolean, exp.Null, exp.Column, exp.Identifier, exp.Tuple,
    exp.Lower, exp.Upper, exp.Coalesce, exp.Abs, exp.Length, exp.ArrayContains, exp.ArraySize,
    exp.Cast, exp.DataType, exp.Star,
)  # fmt: skip
"""Expression nodes allowed (functions: lower, upper, coalesce, abs, length, list_contains and
len; casts to a type)."""


def quote(name: str) -> str:
    """A double-quoted SQL identifier (names are checked identifiers; quotes are doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _parse(text: str, field: str) -> exp.Expr:
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(field, "expression", f"{field}: an expression is required")
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except SqlglotError as err:
        problem = str(err).splitlines()[0][:160]
        raise ValidationError(field, "expression", f"{field}: does not parse ({problem})") from None
    if tree is None:
        raise ValidationError(field, "expression", f"{field}: an expression is required")
    return tree


def check_condition(
    text: str,
    names: Collection[str],
    *,
    field: str = "condition",
    json_columns: Collection[str] = (),
) -> exp.Expr:
    """Parse ``text`` and check every node and name; returns the tree (names unchanged)."""
    tree = _checked(text, names, field, json_columns)
    if isinstance(tree, exp.Column | exp.Literal):
        raise ValidationError(field, "boolean", f"{field}: must be a condition (true or false)")
    return tree


def _checked(
    text: str, names: Collection[str], field: str, json_columns: Collection[str]
) -> exp.Expr:
    tree = _parse(text, field)
    for node in tree.walk():
        if not isinstance(node, _NODES):
            kind = node.key.upper() if isinstance(node, exp.Func) else type(node).__name__
            raise ValidationError(field, "expression", f"{field}: {kind} is not allowed here")
        if isinstance(node, exp.Column):
            _check_column(node, names, json_columns, field)
    return tree


def columns_named(text: str) -> set[str]:
    """The table columns a checked expression reads (``properties.x`` reads ``properties``)."""
    columns = _parse(text, "expression").find_all(exp.Column)
    return {node.parts[0].name for node in columns}


def _check_column(
    node: exp.Column, names: Collection[str], json_columns: Collection[str], field: str
) -> None:
    if isinstance(node.this, exp.Star):
        raise ValidationError(field, "expression", f"{field}: * is not allowed here")
    parts = [p.name for p in node.parts]
    if len(parts) == 2 and parts[0] in json_columns:
        _json_key(parts[1], field)
        return
    if len(parts) != 1 or parts[0] not in names:
        shown = ".".join(parts)
        known = ", ".join(sorted(names)) or "(none)"
        raise ValidationError(
            field, "known_name", f"{field}: unknown name '{shown}'; known: {known}"
        )


def render_condition(
    text: str,
    names: Collection[str],
    *,
    field: str = "condition",
    json_columns: Collection[str] = (),
    qualifier: str | None = None,
) -> str:
    """The checked condition as DuckDB SQL with every name quoted (and qualified), JSON
    properties read as text; wrapped in parentheses."""
    check_condition(text, names, field=field, json_columns=json_columns)
    return render_expression(
        text, names, field=field, json_columns=json_columns, qualifier=qualifier
    )


def render_expression(
    text: str,
    names: Collection[str],
    *,
    field: str = "expression",
    json_columns: Collection[str] = (),
    qualifier: str | None = None,
) -> str:
    """A checked value expression (a column, ``properties.key``, arithmetic) as DuckDB SQL."""
    tree = _checked(text, names, field, json_columns).copy()

    def rewrite(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Column):
            return node
        parts = [p.name for p in node.parts]
        if len(parts) == 2:
            return sqlglot.parse_one(
                f"json_extract_string({_ref(parts[0], qualifier)}, "
                f"'$.{_json_key(parts[1], field)}')",
                read="duckdb",
            )
        return sqlglot.parse_one(_ref(parts[0], qualifier), read="duckdb")

    return "(" + tree.transform(rewrite).sql(dialect="duckdb") + ")"


def _ref(name: str, qualifier: str | None) -> str:
    return f"{qualifier}.{quote(name)}" if qualifier else quote(name)


def _json_key(key: str, field: str) -> str:
    if not key.replace("_", "").isalnum() or not key.isascii():
        raise ValidationError(
            field, "property_name", f"{field}: property names are ASCII letters, digits and '_'"
        )
    return key

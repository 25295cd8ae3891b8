"""A rule's column: a column of its table, or a path inside one of the table's JSON columns.

Events keep what a sender knows about a person in JSON documents (``traits``, ``properties``,
``context``), so a rule on ``events`` may name ``traits.phone`` or ``context.page.url``: the
first part is the column (it must hold JSON text), the rest are keys inside the document. Keys
are plain names (letters, digits, ``_``) so the path is the same in DuckDB's
``json_extract_string`` and Spark's ``get_json_object`` and never needs escaping.

Example::

    split_column("traits.phone")           # ('traits', ('phone',))
    json_path(("page", "url"))             # '$.page.url'
    column_sql("traits.phone", spec, "t")  # json_extract_string(t."traits", '$.phone')
"""

from __future__ import annotations

import re
from typing import Final

import pyarrow as pa

from custodia.core.sql_text import quote_ident, quote_literal
from custodia.core.tables import TableSpec

__all__ = ["column_sql", "is_json_column", "json_path", "split_column"]

_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def split_column(column: str) -> tuple[str, tuple[str, ...]]:
    """``traits.phone`` -> (``traits``, (``phone``,)); a plain column has an empty path.

    Raises ValueError when a key of the path is not a plain name.
    """
    head, *path = column.split(".")
    for key in path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"'{column}': JSON path keys are letters, digits and _ only")
    return head, tuple(path)


def json_path(path: tuple[str, ...]) -> str:
    """The JSONPath both engines read (``$.a.b``)."""
    return "$." + ".".join(path)


def is_json_column(spec: TableSpec, column: str) -> bool:
    """Whether ``column`` holds JSON documents as text (large strings in the canonical model)."""
    return column in spec.column_names and pa.types.is_large_string(spec.column(column).type)


def column_sql(column: str, spec: TableSpec, alias: str) -> str:
    """The SQL expression of a rule's column: the column itself, or the text at its JSON path."""
    head, path = split_column(column)
    quoted = f"{alias}.{quote_ident(head)}"
    if not path:
        return quoted
    if not is_json_column(spec, head):
        raise ValueError(f"'{column}': {head} is not a JSON column of {spec.name}")
    return f"json_extract_string({quoted}, {quote_literal(json_path(path))})"

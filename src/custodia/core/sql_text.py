"""The one place where SQL identifiers and literals are quoted, and Arrow types named in SQL.

Values from users are bound parameters wherever the engine allows it; these helpers serve the
places that must put a name or a constant into SQL text (generated views, mapping compilers).

Example: ``quote_ident('a"b')`` gives ``"a""b"`` and ``quote_literal("O'Brien")`` gives
``'O''Brien'``.
"""

from __future__ import annotations

import pyarrow as pa


def quote_ident(name: str) -> str:
    """Quote an identifier for DuckDB, PostgreSQL and Spark's ANSI mode."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote a string constant."""
    return "'" + value.replace("'", "''") + "'"


def sql_type(arrow_type: pa.DataType) -> str:
    """The SQL type name for an Arrow type used in the canonical model."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "VARCHAR"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision}, {arrow_type.scale})"
    simple = {
        pa.date32(): "DATE",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
    }
    if arrow_type in simple:
        return simple[arrow_type]
    raise TypeError(f"no SQL type for Arrow type {arrow_type}")

"""The records a review task points at: which tables can be reviewed and reading rows by key.

A review task names its record by the table's surrogate key (``record_id``, ``order_id``, ...),
never by a personal value, so only tables with a single key column that holds no personal data
can be reviewed (every staged and curated table but ``profile_identifiers``). The steward's
screen shows a personal value masked (``138****5678``) unless the caller may see it.

Example::

    spec = reviewable_table("customer_records")
    rows = rows_by_key(ws, spec, ["crm:9a1f..."], ["phone"])
    shown_value(spec, "phone", rows["crm:9a1f..."]["phone"], reveal=False)   # '138****5678'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import pyarrow as pa

from custodia.core.errors import ValidationError
from custodia.core.masking import mask_identifier
from custodia.core.sql_text import quote_ident, quote_literal
from custodia.core.tables import TableSpec, table_spec
from custodia.workspace import Workspace

__all__ = [
    "cell_value",
    "correctable_column",
    "jsonable",
    "key_column",
    "reviewable_table",
    "rows_by_key",
    "shown_value",
]

_CHUNK: Final = 1000
_MASK_KIND: Final = {
    "phone": "phone", "ship_to_phone": "phone", "recipient_phone": "phone", "email": "email",
    "resident_id": "resident_id", "name": "name", "ship_to_name": "name",
}  # fmt: skip
"""Columns whose display mask is the one of an identifier type (others keep 3 + 2 chars)."""
_LINEAGE_COLUMNS: Final = frozenset({"source", "run_id", "loaded_at"})


def reviewable_table(table: str) -> TableSpec:
    """The table's spec, or ValidationError when its rows cannot be named by a safe key."""
    spec = table_spec(table)
    if spec.home.value != "lake" or len(spec.key) != 1 or spec.column(spec.key[0]).personal:
        raise ValidationError(
            "table", "reviewable", f"table: rows of {table} have no single non-personal key"
        )
    return spec


def key_column(spec: TableSpec) -> str:
    return spec.key[0]


def rows_by_key(
    ws: Workspace, spec: TableSpec, keys: Sequence[str], columns: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The current rows (key + ``columns``) of the keys that exist, by key."""
    key = key_column(spec)
    wanted = [quote_ident(c) for c in dict.fromkeys([key, *columns])]
    out: dict[str, dict[str, Any]] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), _CHUNK):
        listed = ", ".join(quote_literal(k) for k in unique[start : start + _CHUNK])
        sql = (
            f"SELECT {', '.join(wanted)} FROM {quote_ident(spec.name)} "
            f"WHERE {quote_ident(key)} IN ({listed})"
        )
        for row in ws.query(sql).to_pylist():
            out[str(row[key])] = row
    return out


def correctable_column(spec: TableSpec, column: str) -> str:
    """``column`` if a steward may set its value; keys, partitions and lineage columns are not,
    nor any column of a curated table (identity resolution rebuilds ``profiles`` from the
    records: correct the customer record instead)."""
    if spec.zone.value == "curated":
        raise ValidationError(
            "table", "correctable", f"table: {spec.name} is rebuilt from the source records; "
            "correct the record there (customer_records) instead",
        )  # fmt: skip
    if column not in spec.column_names:
        raise ValidationError("column", "known", f"column: {spec.name} has no column {column}")
    if column in (*spec.key, *spec.partition_by) or column in _LINEAGE_COLUMNS:
        raise ValidationError(
            "column", "correctable", f"column: {spec.name}.{column} says where a row is, "
            "it cannot be corrected by hand",
        )  # fmt: skip
    return column


def cell_value(spec: TableSpec, column: str, value: Any) -> Any:
    """``value`` as the column's type (text ``"1990-01-02"`` for a date column gives a date).

    A value that does not fit is a ValidationError naming the column and its type, not the value.
    """
    field = spec.arrow_schema().field(column)
    if value is None:
        if not field.nullable:
            raise ValidationError(column, "required", f"{column}: may not be empty")
        return None
    try:
        return pa.array([value]).cast(field.type).to_pylist()[0]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        raise ValidationError(
            column, "type", f"{column}: the value is not a valid {field.type}"
        ) from None


def shown_value(spec: TableSpec, column: str, value: Any, *, reveal: bool) -> Any:
    """``value`` as a steward's screen shows it: masked when personal, unless ``reveal``."""
    if value is None or reveal or not spec.column(column).personal:
        return jsonable(value)
    return mask_identifier(_MASK_KIND.get(column, column), str(jsonable(value)))


def jsonable(value: Any) -> Any:
    """A cell value as JSON can hold it: dates and times ISO 8601, decimals as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value

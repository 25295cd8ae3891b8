"""Make incoming Arrow data fit a Delta table's declared schema before it is written.

Writers hand us tables built from JSON, CSV or SQL results, so column order and types drift
(``int32`` for ``int64``, ISO strings for timestamps, a missing optional column). Casting here, in
one place, keeps every table's files uniform. Errors name the table and the column and never
quote a value: pyarrow's own cast messages include the offending value, so they are replaced.

Example::

    fitted = conform_to_schema(batch, table_schema, table="raw.events")
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from custodia.core.errors import SchemaMismatchError

__all__ = ["conform_to_schema", "delta_compatible_schema"]


def conform_to_schema(data: pa.Table, schema: pa.Schema, *, table: str) -> pa.Table:
    """Return ``data`` reordered and cast to ``schema``; missing nullable columns become nulls.

    Raises :class:`SchemaMismatchError` naming the column when a column is unknown, a required
    column is missing, a cast is impossible, or a NOT NULL column holds nulls.
    """
    _reject_unexpected_columns(data, schema, table)
    columns = [_conform_column(data, field, table) for field in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def delta_compatible_schema(schema: pa.Schema, *, table: str) -> pa.Schema:
    """Return the Arrow schema Delta will actually store for ``schema`` (e.g. ms -> us).

    Used to compare a caller's declared schema with an existing table without false alarms.
    """
    from deltalake import Schema as DeltaSchema

    try:
        return pa.schema(DeltaSchema.from_arrow(schema).to_arrow())
    except Exception as err:  # delta-rs raises a bare Exception subclass for schema errors
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SchemaMismatchError(
            f"{table}: schema is not valid for Delta Lake: {detail}"
        ) from None


def _reject_unexpected_columns(data: pa.Table, schema: pa.Schema, table: str) -> None:
    seen: set[str] = set()
    for name in data.column_names:
        if name in seen:
            raise SchemaMismatchError(
                f"{table}: column '{name}' appears more than once in the data"
            )
        seen.add(name)
        if schema.get_field_index(name) < 0:
            raise SchemaMismatchError(
                f"{table}: column '{name}' is not in the table schema "
                f"(declared columns: {', '.join(schema.names)})"
            )


def _conform_column(data: pa.Table, field: pa.Field, table: str) -> pa.ChunkedArray:
    if field.name not in data.column_names:
        if not field.nullable:
            raise SchemaMismatchError(f"{table}: required column '{field.name}' is missing")
        return pa.chunked_array([pa.nulls(data.num_rows, field.type)], type=field.type)
    column = data.column(field.name)
    if not column.type.equals(field.type):
        column = _cast_column(column, field, table)
    if not field.nullable and column.null_count:
        raise SchemaMismatchError(
            f"{table}: column '{field.name}' is NOT NULL but {column.null_count} row(s) are null"
        )
    return column


def _cast_column(column: pa.ChunkedArray, field: pa.Field, table: str) -> pa.ChunkedArray:
    try:
        return _cast(column, field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        # The pyarrow message quotes the failing value: never pass it on.
        raise SchemaMismatchError(
            f"{table}: column '{field.name}' has type {column.type} and at least one value "
            f"cannot be cast to {field.type}"
        ) from None


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Cast safely; ISO strings without an offset count as UTC for a zoned timestamp column."""
    try:
        cast: pa.ChunkedArray = pc.cast(column, target, safe=True)
    except pa.ArrowInvalid:
        if not (_is_text(column.type) and pa.types.is_timestamp(target) and target.tz):
            raise
        naive = pc.cast(column, pa.timestamp(target.unit), safe=True)
        cast = pc.cast(naive, target, safe=True)
    return cast


def _is_text(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    )

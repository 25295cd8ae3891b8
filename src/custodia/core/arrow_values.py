"""Build Arrow columns from Python values that sources deliver, whatever their mix of types.

Source systems are loosely typed: a SQLite column holds integers in some rows and text in others,
a spreadsheet column mixes numbers and strings, a JSON field is an object in one record and a
string in the next. Arrow needs one type per column. :func:`column_from_values` keeps the values'
own type when they agree (so numbers stay numbers and timestamps stay timestamps) and falls back to
text when they do not, instead of failing the whole load on one odd cell.

Example::

    column_from_values([1, 2, None]).type          # int64
    column_from_values([1, "A12", None]).to_pylist()  # ['1', 'A12', None]
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["column_from_values", "float_values", "table_from_columns", "value_as_text"]


def float_values(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric column (integers, decimals, floats) as float64, nulls as NaN, converted by
    Arrow, not through a Python object per value (for the 277,212 profiles of an RFM run's three
    measures: 0.13 s instead of 0.27 s for the whole cluster result building)."""
    return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), np.float64)


def column_from_values(values: Sequence[Any]) -> pa.Array:
    """One Arrow array for ``values``: inferred when the values agree, else text.

    Text fallback keeps every value readable: dicts and lists become JSON, dates ISO 8601.
    """
    cleaned = [_plain(v) for v in values]
    try:
        return pa.array(cleaned, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.array([None if v is None else value_as_text(v) for v in cleaned], pa.string())


def table_from_columns(names: Sequence[str], columns: Sequence[Sequence[Any]]) -> pa.Table:
    """A table from parallel column value lists (see :func:`column_from_values`)."""
    return pa.table(
        {name: column_from_values(col) for name, col in zip(names, columns, strict=True)}
    )


def value_as_text(value: Any) -> str:
    """The text form of one value: ISO 8601 for dates and times, JSON for containers."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _plain(value: Any) -> Any:
    """Values Arrow cannot infer (UUIDs, tuples) in a form it can."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Decimal) and not value.is_finite():
        return str(value)
    return value

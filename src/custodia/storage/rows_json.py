"""Turn query results into JSON-safe rows for the CLI and the API.

``json.dumps`` cannot handle datetimes, decimals, bytes or NaN, and would escape Chinese text
unless told not to. Every value is mapped to a JSON type once here so that callers only choose
``ensure_ascii=False``:

* dates, times, timestamps -> ISO 8601 strings (aware timestamps keep their offset);
* decimals -> strings (exact; a float would round money);
* durations -> seconds as a number; DuckDB intervals -> ``{"months", "days", "nanoseconds"}``;
* bytes -> base64 strings; NaN and infinities -> the strings "NaN", "Infinity", "-Infinity";
* maps -> objects when keys are strings, else lists of ``[key, value]`` pairs.

Example::

    rows = rows_as_json(engine.query("select * from events limit 5"))
    print(json.dumps(rows, ensure_ascii=False))
"""

from __future__ import annotations

import base64
import math
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

__all__ = ["JsonValue", "rows_as_json"]

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def rows_as_json(table: pa.Table) -> list[dict[str, JsonValue]]:
    """Rows of ``table`` as dicts of JSON-safe values (see the module docstring for mapping)."""
    return [{name: _json_value(value) for name, value in row.items()} for row in table.to_pylist()]


def _json_value(value: Any) -> JsonValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return _json_composite(value)


def _json_composite(value: Any) -> JsonValue:
    if isinstance(value, pa.MonthDayNano):
        return {"months": value.months, "days": value.days, "nanoseconds": value.nanoseconds}
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # pyarrow renders a map as a list of (key, value) tuples; nothing else yields tuples.
        return _map_value(value) if _is_pair_list(value) else [_json_value(v) for v in value]
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _is_pair_list(value: list[Any] | tuple[Any, ...]) -> bool:
    return bool(value) and all(isinstance(v, tuple) and len(v) == 2 for v in value)


def _map_value(pairs: list[Any] | tuple[Any, ...]) -> JsonValue:
    if all(isinstance(k, str) for k, _ in pairs):
        return {k: _json_value(v) for k, v in pairs}
    return [[_json_value(k), _json_value(v)] for k, v in pairs]


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"

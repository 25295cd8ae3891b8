"""Hand-made ``events`` tables for the event analyses' unit tests, run on plain DuckDB.

``events_table(rows)`` takes ``(person, minute, label)`` or ``(person, minute, label, props)``
tuples: person ``u1`` becomes user_id ``u1`` (so the person key is ``user:u1``), minute is
minutes after 2026-03-02 00:00 UTC (a Monday), track calls carry the label as event name.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from custodia.storage.engine import add_shared_functions

T0 = datetime(2026, 3, 2, tzinfo=UTC)
_PAGES = {"Home", "Product", "Landing"}


def events_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    out: dict[str, list[Any]] = {k: [] for k in (
        "message_id", "type", "event", "name", "user_id", "anonymous_id", "properties",
        "context", "timestamp", "event_date")}  # fmt: skip
    for i, row in enumerate(rows):
        person, minute, label = row[:3]
        props = row[3] if len(row) > 3 else {}
        ts = T0 + timedelta(minutes=minute)
        page = label in _PAGES
        out["message_id"].append(f"m{i:05d}")
        out["type"].append("page" if page else "track")
        out["event"].append(None if page else label)
        out["name"].append(label if page else None)
        out["user_id"].append(person)
        out["anonymous_id"].append(f"a-{person}")
        out["properties"].append(json.dumps(props, ensure_ascii=False))
        out["context"].append(json.dumps({"timezone": "Asia/Shanghai"}))
        out["timestamp"].append(ts)
        out["event_date"].append(ts.date())
    schema = pa.schema([
        *(pa.field(k, pa.string()) for k in list(out)[:8]),
        pa.field("timestamp", pa.timestamp("us", tz="UTC")),
        pa.field("event_date", pa.date32()),
    ])  # fmt: skip
    return pa.Table.from_pydict(out, schema=schema)


def run_sql(sql: str, **tables: pa.Table) -> list[dict[str, Any]]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        add_shared_functions(con)
        for name, table in tables.items():
            con.register(name, table)
        return con.sql(sql).to_arrow_table().to_pylist()
    finally:
        con.close()

"""rows_as_json: every Arrow value becomes a JSON-safe value, Chinese text intact."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pyarrow as pa

from custodia.storage.engine import QueryEngine, rows_as_json


def test_scalars_map_to_json_types() -> None:
    table = pa.table(
        {
            "at": pa.array([datetime(2026, 11, 24, 10, 0, tzinfo=UTC)], pa.timestamp("us", "UTC")),
            "local": pa.array([datetime(2026, 11, 24, 18, 0)], pa.timestamp("us")),
            "day": pa.array([date(2026, 11, 24)]),
            "clock": pa.array([time(9, 30)]),
            "price": pa.array([Decimal("12.30")], pa.decimal128(10, 2)),
            "took": pa.array([timedelta(seconds=90)], pa.duration("us")),
            "blob": pa.array([b"\x00\xff"]),
            "name": pa.array(["张三"]),
            "ok": pa.array([True]),
            "n": pa.array([7]),
            "missing": pa.array([None], pa.string()),
        }
    )
    assert rows_as_json(table) == [
        {
            "at": "2026-11-24T10:00:00+00:00",
            "local": "2026-11-24T18:00:00",
            "day": "2026-11-24",
            "clock": "09:30:00",
            "price": "12.30",
            "took": 90.0,
            "blob": "AP8=",
            "name": "张三",
            "ok": True,
            "n": 7,
            "missing": None,
        }
    ]


def test_non_finite_floats_become_strings() -> None:
    table = pa.table({"x": [float("nan"), float("inf"), -float("inf"), 1.5]})
    assert [r["x"] for r in rows_as_json(table)] == ["NaN", "Infinity", "-Infinity", 1.5]


def test_nested_values() -> None:
    table = pa.table(
        {
            "tags": pa.array([["会员", "vip"]]),
            "props": pa.array([{"price": Decimal("1.50"), "city": "上海"}]),
            "attrs": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())),
            "by_id": pa.array([[(1, "a")]], pa.map_(pa.int64(), pa.string())),
        }
    )
    assert rows_as_json(table) == [
        {
            "tags": ["会员", "vip"],
            "props": {"price": "1.50", "city": "上海"},
            "attrs": {"k": 1},
            "by_id": [[1, "a"]],
        }
    ]


def test_duckdb_results_serialise_with_chinese_intact() -> None:
    engine = QueryEngine({})
    result = engine.query(
        "select '你好' as greeting, interval 1 day as span, "
        "timestamptz '2026-11-24 10:00:00+00' as at, 1.25::decimal(5, 2) as amount"
    )
    [row] = rows_as_json(result)
    text = json.dumps(row, ensure_ascii=False)
    assert '"greeting": "你好"' in text
    assert row["span"] == {"months": 0, "days": 1, "nanoseconds": 0}
    assert row["amount"] == "1.25"
    assert isinstance(row["at"], str)
    assert datetime.fromisoformat(row["at"]) == datetime(2026, 11, 24, 10, tzinfo=UTC)

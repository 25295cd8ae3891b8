"""QueryEngine reads every file layout a Delta table can have: partitions, evolution, merges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from custodia.storage.engine import QueryEngine
from custodia.storage.engine_views import lock_down, register_snapshot
from custodia.storage.lake import Lakehouse


def _engine(lake: Lakehouse) -> QueryEngine:
    return QueryEngine(lake.catalog())


def test_filters_on_rows_rewritten_by_a_merge(tmp_path: Path) -> None:
    # delta-rs merges write string_view parquet columns; filtering them must still work.
    schema = pa.schema([pa.field("id", pa.string(), nullable=False), ("name", pa.string())])
    lake = Lakehouse(tmp_path)
    lake.ensure_table("staged", "people", schema, stats_columns=("id",))
    lake.append("staged", "people", pa.table({"id": ["a"], "name": ["Ann"]}))
    lake.merge("staged", "people", pa.table({"id": ["a", "b"], "name": ["张伟", "Bob"]}), ["id"])
    result = _engine(lake).query("select id from people where name = '张伟'")
    assert result.to_pylist() == [{"id": "a"}]


def test_partition_values_with_special_characters_and_nulls(tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.string()), ("city", pa.string()), ("level", pa.int32())])
    lake = Lakehouse(tmp_path)
    lake.ensure_table("raw", "visits", schema, partition_by=("city", "level"))
    data = pa.table(
        {
            "id": ["v1", "v2", "v3", "v4"],
            "city": ["上海 浦东/新区", "a%b=c", None, "北京"],
            "level": pa.array([1, 2, 3, None], pa.int32()),
        }
    )
    lake.append("raw", "visits", data)
    engine = _engine(lake)
    assert engine.query("select * from visits order by id").to_pylist() == data.to_pylist()
    filtered = engine.query("select id from visits where city = '上海 浦东/新区' and level = 1")
    assert filtered.to_pylist() == [{"id": "v1"}]
    assert engine.query("select id from visits where city is null").to_pylist() == [{"id": "v3"}]


def test_partition_types_without_a_plain_directory_form(tmp_path: Path) -> None:
    # Timestamps are partition values DuckDB cannot read back from directory names as they
    # are: each partition becomes its own branch with typed constants.
    kind = pa.timestamp("us", "UTC")
    schema = pa.schema([("id", pa.string()), ("seen_at", kind), ("seen_on", pa.date32())])
    lake = Lakehouse(tmp_path)
    lake.ensure_table("raw", "logins", schema, partition_by=("seen_at", "seen_on"))
    seen = [datetime(2026, 11, 24, 10, 30, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)]
    data = pa.table(
        {
            "id": ["l1", "l2"],
            "seen_at": pa.array(seen, kind),
            "seen_on": [date(2026, 11, 24), date(2026, 11, 25)],
        }
    )
    lake.append("raw", "logins", data)
    engine = _engine(lake)
    assert engine.query("select * from logins order by id").to_pylist() == data.to_pylist()
    sql = "select id from logins where seen_at > timestamptz '2026-11-24 12:00:00+00'"
    assert engine.query(sql).to_pylist() == [{"id": "l2"}]


def test_columns_added_later_are_null_in_older_files(tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.string()), ("day", pa.string())])
    lake = Lakehouse(tmp_path)
    lake.ensure_table("raw", "events", schema, partition_by=("day",))
    lake.append("raw", "events", pa.table({"id": ["e1"], "day": ["d1"]}))
    lake.ensure_table("raw", "events", schema.append(pa.field("channel", pa.string())), ("day",))
    lake.append("raw", "events", pa.table({"id": ["e2"], "day": ["d1"], "channel": ["web"]}))
    engine = _engine(lake)
    rows = engine.query("select id, channel from events order by id").to_pylist()
    assert rows == [{"id": "e1", "channel": None}, {"id": "e2", "channel": "web"}]
    old = engine.query("select * from events version as of 1")
    assert old.column_names == ["id", "day"]


def test_an_empty_table_has_its_columns(tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.string()), ("amount", pa.decimal128(12, 2))])
    lake = Lakehouse(tmp_path)
    lake.ensure_table("curated", "orders", schema)
    result = _engine(lake).query("select * from orders")
    assert result.num_rows == 0
    assert result.schema.field("amount").type == pa.decimal128(12, 2)


def test_declared_types_survive_the_round_trip(tmp_path: Path) -> None:
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("amount", pa.decimal128(12, 2)),
            ("tags", pa.list_(pa.string())),
            ("attrs", pa.map_(pa.string(), pa.string())),
            ("at", pa.timestamp("us", "UTC")),
        ]
    )
    lake = Lakehouse(tmp_path)
    lake.ensure_table("curated", "orders", schema)
    rows = [
        {"id": "o1", "amount": "12.30", "tags": ["会员"], "attrs": [("渠道", "门店")], "at": None}
    ]
    lake.append("curated", "orders", pa.Table.from_pylist(rows, pa.schema([
        ("id", pa.string()),
        ("amount", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("attrs", pa.map_(pa.string(), pa.string())),
        ("at", pa.timestamp("us", "UTC")),
    ])))  # fmt: skip
    result = _engine(lake).query("select * from orders")
    assert result.schema.field("amount").type == pa.decimal128(12, 2)
    assert result.schema.field("at").type == pa.timestamp("us", "UTC")
    assert result.to_pylist()[0]["attrs"] == [("渠道", "门店")]


def test_locked_connection_reads_the_snapshot_and_nothing_else(tmp_path: Path) -> None:
    # The second fence behind the SQL guard: DuckDB itself may open only the snapshot's files.
    schema = pa.schema([("id", pa.string())])
    lake = Lakehouse(tmp_path)
    lake.ensure_table("raw", "t", schema)
    lake.append("raw", "t", pa.table({"id": ["old"]}))
    lake.overwrite("raw", "t", pa.table({"id": ["new"]}))
    old_files = lake.snapshot("raw", "t", version=1).data_files()
    con = duckdb.connect()
    try:
        readable = register_snapshot(con, '"t"', lake.snapshot("raw", "t"))
        lock_down(con, readable)
        assert con.sql("select id from t").fetchall() == [("new",)]
        for path in [
            old_files[0].path,
            str(tmp_path / "raw/t/_delta_log/00000000000000000000.json"),
        ]:
            with pytest.raises(duckdb.PermissionException):
                con.sql(f"select * from read_blob('{path}')").fetchall()
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()

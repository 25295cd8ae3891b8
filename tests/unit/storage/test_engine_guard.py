"""QueryEngine refuses anything but one read-only query, and explains time travel mistakes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from custodia.core.errors import (
    QueryError,
    ReadOnlyViolationError,
    TableNotFoundError,
    TimeTravelError,
)
from custodia.storage.engine import QueryEngine
from custodia.storage.lake import Lakehouse


@pytest.fixture
def engine(tmp_path: Path) -> QueryEngine:
    """events with versions 0..2."""
    lake = Lakehouse(tmp_path / "lake")
    lake.ensure_table("raw", "events", pa.schema([("message_id", pa.string())]))
    lake.append("raw", "events", pa.table({"message_id": ["m1"]}))
    lake.append("raw", "events", pa.table({"message_id": ["m2"]}))
    return QueryEngine(lake.catalog())


@pytest.mark.parametrize(
    "sql",
    [
        "insert into events values ('m9')",
        "update events set message_id = 'x'",
        "delete from events",
        "copy events to '/tmp/out.csv'",
        "attach '/tmp/other.db' as other",
        "detach other",
        "create table t as select * from events",
        "create view v as select 1",
        "drop table events",
        "alter table events add column x int",
        "pragma database_list",
        "set threads = 1",
        "reset threads",
        "install httpfs",
        "load httpfs",
        "export database '/tmp/dump'",
        "import database '/tmp/dump'",
        "call pragma_version()",
        "checkpoint",
        "vacuum",
        "begin transaction",
        "use main",
        "describe events",
        "show tables",
        "summarize events",
        "explain select 1",
        "select 1; select 2",
        "select 1; drop table events",
    ],
)
def test_statements_other_than_one_query_are_refused(engine: QueryEngine, sql: str) -> None:
    with pytest.raises(ReadOnlyViolationError) as caught:
        engine.query(sql)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_csv_auto('/etc/passwd')",
        "select * from read_parquet('/tmp/x.parquet')",
        "select * from read_json('/tmp/x.json')",
        "select * from read_json_auto('/tmp/x.json')",
        "select * from read_text('/etc/hostname')",
        "select * from read_blob('/etc/hostname')",
        "select * from parquet_scan('/tmp/x.parquet')",
        "select * from parquet_metadata('/tmp/x.parquet')",
        "select * from glob('/etc/*')",
        "select * from sqlite_scan('/tmp/x.db', 't')",
        "select * from query_table('events')",
        "select * from events where message_id in (select content from read_text('/etc/x'))",
        "select getenv('HOME')",
        "select * from duckdb_secrets()",
        "with x as (insert into events values ('m') returning *) select * from x",
    ],
)
def test_file_access_and_writes_hidden_inside_a_query_are_refused(
    engine: QueryEngine, sql: str
) -> None:
    with pytest.raises(ReadOnlyViolationError):
        engine.query(sql)


def test_file_path_used_as_a_table_name_is_an_unknown_table(engine: QueryEngine) -> None:
    with pytest.raises(TableNotFoundError, match="unknown table '/etc/passwd'"):
        engine.query("select * from '/etc/passwd'")


@pytest.mark.parametrize(
    "sql",
    [
        "select 1 as one",
        "with a as (select 1 as one) select * from a",
        "values (1)",
        "select 1 as one union all select 2",
        "(select 1 as one) intersect (select 1)",
        "from events",
        "select range as i from range(3)",
        "select unnest([1, 2]) as one",
    ],
)
def test_read_only_forms_are_accepted(engine: QueryEngine, sql: str) -> None:
    assert engine.query(sql).num_rows >= 1


@pytest.mark.parametrize("sql", ["selec 1", "select from from", "select (1", "select 'abc"])
def test_syntax_errors_are_one_line(engine: QueryEngine, sql: str) -> None:
    with pytest.raises(QueryError) as caught:
        engine.query(sql)
    assert not isinstance(caught.value, ReadOnlyViolationError)
    assert "\n" not in str(caught.value)
    assert "\x1b" not in str(caught.value)


def test_a_trailing_separator_is_fine(engine: QueryEngine) -> None:
    assert engine.query("select * from events; ").num_rows == 2


def test_empty_query(engine: QueryEngine) -> None:
    with pytest.raises(QueryError, match="empty"):
        engine.query("  ;  ")


@pytest.mark.parametrize(
    ("clause", "problem"),
    [
        ("version as of 3", "version 3 does not exist"),
        ("version as of -1", "non-negative integer"),
        ("version as of 1.5", "integer"),
        ("version as of 'one'", "integer"),
        ("timestamp as of '2001-01-01 00:00:00'", "no version at 2001-01-01"),
        ("timestamp as of 'yesterday'", "not an ISO date"),
        ("timestamp as of now()", "literal timestamp"),
    ],
)
def test_bad_time_travel_names_table_and_version_range(
    engine: QueryEngine, clause: str, problem: str
) -> None:
    with pytest.raises(TimeTravelError) as caught:
        engine.query(f"select * from events {clause}")
    message = str(caught.value)
    assert message.startswith("events:")
    assert problem in message
    assert "available versions are 0..2" in message

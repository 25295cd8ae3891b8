"""QueryEngine: name resolution, time travel rewriting, projections, trusted SQL."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from custodia.core.errors import QueryError, TableNotFoundError
from custodia.storage.engine import QueryEngine, TableLocation
from custodia.storage.lake import Lakehouse

EVENTS = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("event", pa.string()),
        pa.field("day", pa.string()),
    ]
)


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    """raw.events: v1 has m1,m2 (u1); v2 adds m3 (u2); curated.users has u1, u2."""
    lakehouse = Lakehouse(tmp_path / "lake")
    lakehouse.ensure_table("raw", "events", EVENTS, partition_by=("day",), stats_columns=("day",))
    first = {"message_id": ["m1", "m2"], "user_id": ["u1", "u1"], "event": ["浏览", "buy"]}
    lakehouse.append("raw", "events", pa.table({**first, "day": ["2026-11-24"] * 2}))
    second = {"message_id": ["m3"], "user_id": ["u2"], "event": ["浏览"], "day": ["2026-11-25"]}
    lakehouse.append("raw", "events", pa.table(second))
    users = pa.schema([("user_id", pa.string()), ("name", pa.string()), ("email", pa.string())])
    lakehouse.ensure_table("curated", "users", users)
    people = {"user_id": ["u1", "u2"], "name": ["张三", "Bob"], "email": ["z@x.cn", "b@x.com"]}
    lakehouse.append("curated", "users", pa.table(people))
    return lakehouse


@pytest.fixture
def engine(lake: Lakehouse) -> QueryEngine:
    return QueryEngine(lake.catalog())


def test_unqualified_and_zone_qualified_names(engine: QueryEngine) -> None:
    assert engine.query("select count(*) as n from events").to_pylist() == [{"n": 3}]
    assert engine.query("select count(*) as n from raw.events").to_pylist() == [{"n": 3}]
    rows = engine.query(
        "select u.name, count(*) as n from events e join curated.users u using (user_id) "
        "group by 1 order by 1"
    )
    assert rows.to_pylist() == [{"name": "Bob", "n": 1}, {"name": "张三", "n": 2}]


def test_table_name_stays_usable_as_a_qualifier(engine: QueryEngine) -> None:
    sql = "select events.message_id from events where events.event = '浏览' order by 1"
    assert engine.query(sql).column("message_id").to_pylist() == ["m1", "m3"]


def test_partition_columns_are_visible_and_filterable(engine: QueryEngine) -> None:
    result = engine.query("select message_id from events where day = '2026-11-25'")
    assert result.column("message_id").to_pylist() == ["m3"]


def test_version_as_of(engine: QueryEngine) -> None:
    result = engine.query("select count(*) as n from events version as of 1")
    assert result.to_pylist() == [{"n": 2}]


def test_timestamp_as_of(engine: QueryEngine, lake: Lakehouse) -> None:
    second = next(c.timestamp for c in lake.history("raw", "events") if c.version == 2)
    before = second - timedelta(microseconds=1)
    sql = f"select count(*) as n from events timestamp as of '{before.isoformat()}'"
    assert engine.query(sql).to_pylist() == [{"n": 2}]
    naive_utc = before.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # Databricks style
    sql = f"select count(*) as n from events timestamp as of '{naive_utc}'"
    assert engine.query(sql).to_pylist() == [{"n": 2}]
    at_second = second.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    sql = f"select count(*) as n from events timestamp as of timestamp '{at_second}'"
    assert engine.query(sql).to_pylist() == [{"n": 3}]


def test_same_table_at_several_versions_in_one_query(engine: QueryEngine) -> None:
    sql = """
        select now.message_id
        from events as now
        left join events version as of 1 as old using (message_id)
        where old.message_id is null
    """
    assert engine.query(sql).column("message_id").to_pylist() == ["m3"]
    counts = engine.query(
        "select (select count(*) from events version as of 1) as v1, "
        "(select count(*) from raw.events version as of 2) as v2, "
        "(select count(*) from events version as of 0) as v0"
    )
    assert counts.to_pylist() == [{"v1": 2, "v2": 3, "v0": 0}]


def test_cte_may_shadow_a_table_and_read_it(engine: QueryEngine) -> None:
    sql = "with events as (select * from events where user_id = 'u1') select count(*) n from events"
    assert engine.query(sql).to_pylist() == [{"n": 2}]


def test_bound_parameters(engine: QueryEngine) -> None:
    result = engine.query("select count(*) as n from events where event = ?", ["浏览"])
    assert result.to_pylist() == [{"n": 2}]


def test_only_referenced_tables_are_opened(lake: Lakehouse, tmp_path: Path) -> None:
    catalog = {**lake.catalog(), "broken": TableLocation("raw", tmp_path / "nowhere")}
    engine = QueryEngine(catalog)
    assert engine.query("select count(*) as n from users").to_pylist() == [{"n": 2}]
    with pytest.raises(TableNotFoundError, match="'broken'"):
        engine.query("select * from broken")


def test_location_columns_limit_what_queries_see(lake: Lakehouse) -> None:
    users = lake.catalog()["users"]
    engine = QueryEngine({"users": TableLocation(users.zone, users.path, ("user_id", "name"))})
    assert engine.query("select * from users").column_names == ["user_id", "name"]
    with pytest.raises(QueryError, match='"email"'):
        engine.query("select email from users")


def test_unknown_table_lists_known_tables(engine: QueryEngine) -> None:
    with pytest.raises(TableNotFoundError) as caught:
        engine.query("select * from evnts")
    message = str(caught.value)
    assert "'evnts'" in message
    assert "events, raw.events" in message
    assert "\n" not in message


def test_unknown_zone_qualified_table(engine: QueryEngine) -> None:
    with pytest.raises(TableNotFoundError, match=r"'staged\.events'"):
        engine.query("select * from staged.events")


def test_unknown_column_is_one_line_binder_message(engine: QueryEngine) -> None:
    with pytest.raises(QueryError) as caught:
        engine.query("select usr_id from events")
    message = str(caught.value)
    assert '"usr_id"' in message
    assert "user_id" in message  # DuckDB's candidate suggestion survives
    assert "\n" not in message
    assert "__custodia" not in message


def test_runtime_errors_do_not_echo_data_values(engine: QueryEngine) -> None:
    with pytest.raises(QueryError) as caught:
        engine.query("select cast(email as integer) from users")
    assert "z@x.cn" not in str(caught.value)
    assert "b@x.com" not in str(caught.value)


def test_run_trusted_resolves_catalog_tables_and_leaves_other_names(engine: QueryEngine) -> None:
    result = engine.run_trusted(
        "select r.range as i, (select count(*) from events version as of 1) as n "
        "from range(2) as r order by 1"
    )
    assert result.to_pylist() == [{"i": 0, "n": 2}, {"i": 1, "n": 2}]


def test_connect_registers_named_tables_for_pipeline_sql(engine: QueryEngine) -> None:
    with engine.connect(["events", "curated.users"]) as con:
        con.execute("create temp table buyers as select distinct user_id from events")
        rows = con.sql(
            "select u.name from buyers b join curated.users u using (user_id) order by 1"
        ).fetchall()
    assert rows == [("Bob",), ("张三",)]


def test_connect_with_unknown_table(engine: QueryEngine) -> None:
    with pytest.raises(TableNotFoundError, match="'orders'"), engine.connect(["orders"]):
        pass


def test_the_query_text_runs_as_typed(engine: QueryEngine) -> None:
    # Regenerating this from sqlglot's tree would turn the date back into a timestamp.
    sql = "select timestamptz '2026-11-24 20:00:00+00'::date as d from events version as of 1"
    assert {str(d) for d in engine.query(sql).column("d").to_pylist()} == {"2026-11-24"}

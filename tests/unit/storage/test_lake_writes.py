"""Lakehouse writes: create, append with casting, merge, delete by key, overwrite, metadata."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from custodia.core.errors import (
    CommitConflictError,
    SchemaMismatchError,
    StorageError,
    TableNotFoundError,
    ValidationError,
)
from custodia.storage.lake import Lakehouse, TableLocation
from custodia.storage.lake_errors import delta_errors

PROFILES = pa.schema(
    [
        pa.field("profile_id", pa.string(), nullable=False),
        pa.field("email", pa.string()),
        pa.field("name", pa.string()),
        pa.field("visits", pa.int64()),
        pa.field("updated_at", pa.timestamp("us", "UTC")),
    ]
)


def _rows(
    lake: Lakehouse, zone: str = "curated", name: str = "profiles"
) -> list[dict[str, object]]:
    table = lake.snapshot(zone, name).dataset().to_table()  # type: ignore[arg-type]
    return sorted(table.to_pylist(), key=lambda r: str(r["profile_id"]))


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    lakehouse = Lakehouse(tmp_path / "lake")
    lakehouse.ensure_table("curated", "profiles", PROFILES, stats_columns=("profile_id",))
    return lakehouse


def test_ensure_table_creates_once_and_lists_the_table(lake: Lakehouse, tmp_path: Path) -> None:
    assert lake.ensure_table("curated", "profiles", PROFILES) is False
    assert lake.exists("curated", "profiles")
    assert not lake.exists("raw", "profiles")
    assert lake.version("curated", "profiles") == 0
    path = tmp_path / "lake" / "curated" / "profiles"
    assert lake.list_tables() == [("curated", "profiles", path)]
    assert lake.catalog() == {
        "curated.profiles": TableLocation("curated", path),
        "profiles": TableLocation("curated", path),
    }


def test_catalog_bare_name_prefers_the_most_refined_zone(lake: Lakehouse) -> None:
    lake.ensure_table("raw", "profiles", PROFILES)
    catalog = lake.catalog()
    assert catalog["profiles"].zone == "curated"
    assert catalog["raw.profiles"].zone == "raw"


def test_ensure_table_adds_new_nullable_columns(lake: Lakehouse) -> None:
    wider = PROFILES.append(pa.field("city", pa.string()))
    lake.ensure_table("curated", "profiles", wider)
    assert lake.schema("curated", "profiles").names == [*PROFILES.names, "city"]


def test_ensure_table_refuses_a_retyped_column(lake: Lakehouse) -> None:
    retyped = PROFILES.set(3, pa.field("visits", pa.string()))
    with pytest.raises(SchemaMismatchError, match="'visits'"):
        lake.ensure_table("curated", "profiles", retyped)


def test_ensure_table_refuses_a_different_partitioning(lake: Lakehouse) -> None:
    with pytest.raises(SchemaMismatchError, match="partitioned"):
        lake.ensure_table("curated", "profiles", PROFILES, partition_by=("name",))


def test_stats_column_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SchemaMismatchError, match="'nope'"):
        Lakehouse(tmp_path).ensure_table("raw", "t", PROFILES, stats_columns=("nope",))


@pytest.mark.parametrize(("zone", "name"), [("gold", "t"), ("raw", "../escape"), ("raw", "Bad")])
def test_invalid_zone_or_name_is_refused(tmp_path: Path, zone: str, name: str) -> None:
    with pytest.raises(ValidationError):
        Lakehouse(tmp_path).ensure_table(zone, name, PROFILES)  # type: ignore[arg-type]


def test_missing_table_names_it_and_lists_the_zone(lake: Lakehouse) -> None:
    with pytest.raises(TableNotFoundError, match=r"'curated\.orders'.*profiles"):
        lake.append("curated", "orders", pa.table({"x": [1]}))


def test_append_casts_reorders_and_fills_missing_nullable_columns(lake: Lakehouse) -> None:
    data = pa.table(
        {
            "visits": pa.array([3], pa.int32()),
            "updated_at": ["2026-11-24 10:00:00"],
            "profile_id": ["p1"],
        }
    )
    result = lake.append("curated", "profiles", data, commit_info={"run_id": "run-7"})
    assert (result.version, result.inserted) == (1, 1)
    [row] = _rows(lake)
    assert row["visits"] == 3
    assert row["email"] is None
    assert str(row["updated_at"]) == "2026-11-24 10:00:00+00:00"
    assert lake.history("curated", "profiles")[0].info == {"run_id": "run-7"}


def test_append_of_nothing_commits_nothing(lake: Lakehouse) -> None:
    empty = pa.table({"profile_id": pa.array([], pa.string())})
    assert lake.append("curated", "profiles", empty).version is None
    assert lake.version("curated", "profiles") == 0


def test_chinese_text_round_trips(lake: Lakehouse) -> None:
    lake.append("curated", "profiles", pa.table({"profile_id": ["p1"], "name": ["张三（上海）"]}))
    assert _rows(lake)[0]["name"] == "张三（上海）"


def test_unknown_column_is_named(lake: Lakehouse) -> None:
    data = pa.table({"profile_id": ["p1"], "phone": ["13800000000"]})
    with pytest.raises(SchemaMismatchError, match="'phone'"):
        lake.append("curated", "profiles", data)


def test_missing_required_column_is_named(lake: Lakehouse) -> None:
    with pytest.raises(SchemaMismatchError, match="required column 'profile_id'"):
        lake.append("curated", "profiles", pa.table({"name": ["Ann"]}))


def test_null_in_not_null_column_is_named(lake: Lakehouse) -> None:
    data = pa.table({"profile_id": pa.array([None, "p2"], pa.string())})
    with pytest.raises(SchemaMismatchError, match="'profile_id' is NOT NULL"):
        lake.append("curated", "profiles", data)


def test_uncastable_value_names_the_column_but_never_the_value(lake: Lakehouse) -> None:
    data = pa.table({"profile_id": ["p1"], "visits": ["secret-13800000000"]})
    with pytest.raises(SchemaMismatchError, match="'visits'") as caught:
        lake.append("curated", "profiles", data)
    assert "13800000000" not in str(caught.value)
    assert lake.version("curated", "profiles") == 0


def test_merge_upserts_and_is_idempotent(lake: Lakehouse) -> None:
    lake.append("curated", "profiles", pa.table({"profile_id": ["p1", "p2"], "visits": [1, 2]}))
    change = pa.table({"profile_id": ["p2", "p3"], "visits": [20, 30]})
    first = lake.merge("curated", "profiles", change, key_columns=["profile_id"])
    assert (first.inserted, first.updated) == (1, 1)
    after_first = _rows(lake)
    lake.merge("curated", "profiles", change, key_columns=["profile_id"])
    assert _rows(lake) == after_first
    assert [(r["profile_id"], r["visits"]) for r in after_first] == [
        ("p1", 1),
        ("p2", 20),
        ("p3", 30),
    ]


def test_merge_keeps_columns_absent_from_the_change(lake: Lakehouse) -> None:
    original = pa.table({"profile_id": ["p1"], "email": ["ann@example.com"], "visits": [1]})
    lake.append("curated", "profiles", original)
    lake.merge(
        "curated", "profiles", pa.table({"profile_id": ["p1"], "visits": [9]}), ["profile_id"]
    )
    [row] = _rows(lake)
    assert (row["email"], row["visits"]) == ("ann@example.com", 9)


def test_merge_refuses_duplicate_keys(lake: Lakehouse) -> None:
    data = pa.table({"profile_id": ["p1", "p1"], "visits": [1, 2]})
    with pytest.raises(SchemaMismatchError, match="same key"):
        lake.merge("curated", "profiles", data, ["profile_id"])


def test_merge_by_unknown_key_column_is_named(lake: Lakehouse) -> None:
    with pytest.raises(SchemaMismatchError, match="'user_id'"):
        lake.merge("curated", "profiles", pa.table({"profile_id": ["p1"]}), ["user_id"])


def test_delete_by_keys_removes_rows_without_writing_keys_to_the_log(
    lake: Lakehouse, tmp_path: Path
) -> None:
    lake.append("curated", "profiles", pa.table({"profile_id": ["p-aaa", "p-bbb", "p-ccc"]}))
    result = lake.delete_by_keys("curated", "profiles", "profile_id", ["p-bbb", "p-zzz"])
    assert (result.version, result.deleted) == (2, 1)
    assert [r["profile_id"] for r in _rows(lake)] == ["p-aaa", "p-ccc"]
    commit = (tmp_path / "lake/curated/profiles/_delta_log/00000000000000000002.json").read_text()
    assert "p-bbb" not in commit
    assert "p-zzz" not in commit


def test_delete_of_unknown_keys_commits_nothing(lake: Lakehouse) -> None:
    lake.append("curated", "profiles", pa.table({"profile_id": ["p1"]}))
    result = lake.delete_by_keys("curated", "profiles", "profile_id", ["nobody"])
    assert (result.version, result.deleted) == (None, 0)
    assert lake.delete_by_keys("curated", "profiles", "profile_id", []).version is None


def test_overwrite_replaces_content_and_keeps_history(lake: Lakehouse) -> None:
    lake.append("curated", "profiles", pa.table({"profile_id": ["p1", "p2"]}))
    result = lake.overwrite("curated", "profiles", pa.table({"profile_id": ["p9"]}))
    assert result.version == 2
    assert [r["profile_id"] for r in _rows(lake)] == ["p9"]
    assert lake.snapshot("curated", "profiles", version=1).dataset().count_rows() == 2


def test_row_count_and_history(lake: Lakehouse) -> None:
    lake.append("curated", "profiles", pa.table({"profile_id": ["a", "b", "c"]}))
    lake.delete_by_keys("curated", "profiles", "profile_id", ["b"])
    assert lake.row_count("curated", "profiles") == 2
    history = lake.history("curated", "profiles")
    assert [c.version for c in history] == [2, 1, 0]
    assert history[0].operation == "MERGE"
    assert history[0].metrics["num_target_rows_deleted"] == 1
    assert history[1].metrics["num_added_rows"] == 3
    assert history[0].timestamp >= history[1].timestamp >= history[2].timestamp


def test_row_count_of_a_table_without_column_stats(tmp_path: Path) -> None:
    lake = Lakehouse(tmp_path)
    lake.ensure_table("raw", "profiles", PROFILES)  # no stats columns at all
    lake.append("raw", "profiles", pa.table({"profile_id": ["a", "b"]}))
    assert lake.row_count("raw", "profiles") == 2


def test_partitioned_table_keeps_partition_values(tmp_path: Path) -> None:
    schema = pa.schema([("event_id", pa.string()), ("day", pa.string()), ("event", pa.string())])
    lake = Lakehouse(tmp_path)
    lake.ensure_table("raw", "events", schema, partition_by=("day",), stats_columns=("day",))
    data = pa.table(
        {"event_id": ["e1", "e2"], "day": ["2026-11-24", "2026-11-25"], "event": ["浏览", "x"]}
    )
    lake.append("raw", "events", data)
    rows = lake.snapshot("raw", "events").dataset().to_table().sort_by("event_id").to_pylist()
    assert rows == data.to_pylist()


def test_concurrent_commit_surfaces_as_a_conflict(lake: Lakehouse, tmp_path: Path) -> None:
    lake.append("curated", "profiles", pa.table({"profile_id": ["p1", "p2"]}))
    path = str(tmp_path / "lake/curated/profiles")
    stale = DeltaTable(path)  # read at version 1, before the next writer commits
    lake.delete_by_keys("curated", "profiles", "profile_id", ["p1"])
    expected = r"curated\.profiles: a concurrent writer"
    with pytest.raises(CommitConflictError, match=expected), delta_errors("curated.profiles"):
        stale.delete("profile_id = 'p2'")


def test_delta_error_messages_keep_only_their_first_line(lake: Lakehouse, tmp_path: Path) -> None:
    # delta-rs prints a preview of offending rows below the first line of this error.
    rows = pa.table({"profile_id": pa.array([None], pa.string()), "email": ["leak@example.com"]})
    path = str(tmp_path / "lake/curated/profiles")
    with pytest.raises(StorageError) as caught, delta_errors("curated.profiles"):
        write_deltalake(path, rows, mode="append")
    assert "leak@example.com" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_replace_where_swaps_one_group_of_rows_in_one_commit(lake: Lakehouse) -> None:
    def rows(names: list[str], visits: int) -> pa.Table:
        return pa.table({"profile_id": [f"p{i}" for i in range(len(names))], "name": names,
                         "visits": [visits] * len(names)})  # fmt: skip

    lake.append("curated", "profiles", rows(["rfm", "rfm", "漏斗"], 1))
    before = lake.version("curated", "profiles")
    done = lake.replace_where("curated", "profiles", rows(["rfm"], 2), "name", "rfm")
    assert done.version == before + 1 and done.inserted == 1  # one commit
    assert [(r["name"], r["visits"]) for r in _rows(lake)] == [("rfm", 2), ("漏斗", 1)]
    lake.replace_where("curated", "profiles", rows([], 0), "name", "漏斗")  # empty: delete only
    assert [(r["name"], r["visits"]) for r in _rows(lake)] == [("rfm", 2)]
    assert lake.snapshot("curated", "profiles").version == before + 2
    with pytest.raises(ValidationError, match="every row must carry the name"):
        lake.replace_where("curated", "profiles", rows(["other"], 3), "name", "rfm")
    unnamed = rows(["rfm", "rfm"], 4).set_column(1, "name", pa.array(["rfm", None], pa.string()))
    with pytest.raises(ValidationError, match="every row must carry the name"):
        lake.replace_where("curated", "profiles", unnamed, "name", "rfm")
    assert [(r["name"], r["visits"]) for r in _rows(lake)] == [("rfm", 2)]

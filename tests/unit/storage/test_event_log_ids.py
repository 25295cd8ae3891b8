"""The messageId index the event loader asks: always caught up with the Delta table it caches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from custodia.storage.event_log_ids import MessageIdIndex
from custodia.storage.lake import Lakehouse

SCHEMA = pa.schema([("message_id", pa.string()), ("event", pa.string()), ("day", pa.string())])


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    lake = Lakehouse(tmp_path / "lake")
    lake.ensure_table("raw", "events", SCHEMA, partition_by=("day",))
    return lake


@pytest.fixture
def index(tmp_path: Path) -> MessageIdIndex:
    with MessageIdIndex(tmp_path / "ids.db") as index:
        yield index


def _rows(*ids: str, day: str = "2026-11-01") -> pa.Table:
    return pa.table(
        {"message_id": list(ids), "event": ["下单"] * len(ids), "day": [day] * len(ids)},
        schema=SCHEMA,
    )


def test_sync_reads_only_commits_made_since_it_last_looked(
    lake: Lakehouse, index: MessageIdIndex
) -> None:
    lake.append("raw", "events", _rows("m1", "m2"))
    first = index.sync(lake, "raw", "events")
    assert (first.rebuilt, first.ids_read, index.covered()) == (True, 2, 1)
    lake.append("raw", "events", _rows("m3", day="2026-10-02"))  # another writer, other partition
    second = index.sync(lake, "raw", "events")
    assert (second.rebuilt, second.files_read, second.ids_read) == (False, 1, 1)
    assert index.stored(["m1", "m3", "m4"]) == {"m1", "m3"}
    again = index.sync(lake, "raw", "events")
    assert (again.files_read, again.covered) == (0, 2), "nothing new: nothing read"


def test_add_moves_the_covered_version_only_without_a_gap(
    lake: Lakehouse, index: MessageIdIndex
) -> None:
    index.sync(lake, "raw", "events")
    own = lake.append("raw", "events", _rows("a1"))
    index.add(["a1"], version=own.version)
    assert index.covered() == own.version
    lake.append("raw", "events", _rows("other"))  # a commit the index was not told about
    late = lake.append("raw", "events", _rows("a2"))
    index.add(["a2"], version=late.version)
    assert index.covered() == own.version, "the commit in between is still to be read"
    assert index.stored(["other"]) == set()
    assert index.sync(lake, "raw", "events").ids_read == 2
    assert index.stored(["a1", "a2", "other"]) == {"a1", "a2", "other"}


def test_a_replaced_table_rebuilds_the_index(
    lake: Lakehouse, index: MessageIdIndex, tmp_path: Path
) -> None:
    lake.append("raw", "events", _rows("old"))
    index.sync(lake, "raw", "events")
    shutil.rmtree(lake.path("raw", "events"))
    lake.ensure_table("raw", "events", SCHEMA, partition_by=("day",))
    lake.append("raw", "events", _rows("new"))
    lake.append("raw", "events", _rows("newer"))
    synced = index.sync(lake, "raw", "events")
    assert synced.rebuilt, "same version numbers, another table: not trusted"
    assert index.stored(["old", "new", "newer"]) == {"new", "newer"}


def test_the_index_survives_reopening(lake: Lakehouse, tmp_path: Path) -> None:
    lake.append("raw", "events", _rows(*[f"m{i}" for i in range(120_000)]))
    with MessageIdIndex(tmp_path / "again.db") as index:
        index.sync(lake, "raw", "events")
    with MessageIdIndex(tmp_path / "again.db") as index:
        assert len(index) == 120_000
        assert index.sync(lake, "raw", "events").files_read == 0
        assert index.stored(["m0", "m119999", "x"]) == {"m0", "m119999"}

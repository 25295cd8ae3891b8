"""Insert-if-absent appends: a key already stored is never stored again."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from custodia.core.errors import SchemaMismatchError
from custodia.storage.lake import Lakehouse

SCHEMA = pa.schema([("message_id", pa.string()), ("event", pa.string()), ("day", pa.string())])


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    lake = Lakehouse(tmp_path / "lake")
    lake.ensure_table("raw", "events", SCHEMA, partition_by=("day",))
    return lake


def _rows(*ids: str, event: str = "Signed Up") -> pa.Table:
    return pa.table(
        {"message_id": list(ids), "event": [event] * len(ids), "day": ["2026-11-01"] * len(ids)},
        schema=SCHEMA,
    )


def test_only_new_keys_are_appended(lake: Lakehouse) -> None:
    first = lake.append_new("raw", "events", _rows("m1", "m2"), "message_id")
    assert first.inserted == 2
    second = lake.append_new("raw", "events", _rows("m2", "m3", event="下单"), "message_id")
    assert second.inserted == 1
    stored = lake.snapshot("raw", "events").dataset().to_table().to_pylist()
    assert sorted((r["message_id"], r["event"]) for r in stored) == [
        ("m1", "Signed Up"), ("m2", "Signed Up"), ("m3", "下单"),
    ]  # fmt: skip


def test_nothing_new_commits_nothing(lake: Lakehouse) -> None:
    lake.append_new("raw", "events", _rows("m1"), "message_id")
    version = lake.version("raw", "events")
    again = lake.append_new("raw", "events", _rows("m1"), "message_id")
    assert again.version is None and again.inserted == 0
    assert lake.version("raw", "events") == version


def test_repeated_keys_in_one_batch_are_refused(lake: Lakehouse) -> None:
    with pytest.raises(SchemaMismatchError, match="several rows for the same key"):
        lake.append_new("raw", "events", _rows("m1", "m1"), "message_id")

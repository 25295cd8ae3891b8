"""Lakehouse snapshots: by version, by timestamp, and the errors for what history cannot serve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from custodia.core.errors import TableNotFoundError, TimeTravelError
from custodia.storage.lake import Lakehouse

SCHEMA = pa.schema([pa.field("event_id", pa.string(), nullable=False), ("n", pa.int64())])


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    """events at version 1 has e1; version 2 adds e2; version 3 adds e3."""
    lakehouse = Lakehouse(tmp_path / "lake")
    lakehouse.ensure_table("raw", "events", SCHEMA, stats_columns=("event_id",))
    for index in (1, 2, 3):
        lakehouse.append("raw", "events", pa.table({"event_id": [f"e{index}"], "n": [index]}))
    return lakehouse


def _ids(lake: Lakehouse, **at: object) -> list[str]:
    snap = lake.snapshot("raw", "events", **at)  # type: ignore[arg-type]
    return sorted(snap.dataset().to_table().column("event_id").to_pylist())


def _commit_time(lake: Lakehouse, version: int) -> datetime:
    return next(c.timestamp for c in lake.history("raw", "events") if c.version == version)


def test_latest_snapshot(lake: Lakehouse) -> None:
    snap = lake.snapshot("raw", "events")
    assert snap.version == 3
    assert snap.label == "raw.events"
    assert _ids(lake) == ["e1", "e2", "e3"]


def test_snapshot_by_version(lake: Lakehouse) -> None:
    snap = lake.snapshot("raw", "events", version=2)
    assert snap.version == 2
    assert _ids(lake, version=2) == ["e1", "e2"]
    assert _ids(lake, version=0) == []
    assert all(Path(uri.removeprefix("file://")).is_file() for uri in snap.file_uris())
    assert len(snap.file_uris()) == 2
    assert snap.schema().names == ["event_id", "n"]


def test_snapshot_by_timestamp_picks_the_latest_commit_at_or_before(lake: Lakehouse) -> None:
    second = _commit_time(lake, 2)
    assert lake.snapshot("raw", "events", timestamp=second).version == 2
    assert _ids(lake, timestamp=second) == ["e1", "e2"]
    just_before_third = _commit_time(lake, 3) - timedelta(microseconds=1)
    assert lake.snapshot("raw", "events", timestamp=just_before_third).version == 2
    far_future = datetime(2999, 1, 1, tzinfo=UTC)
    assert lake.snapshot("raw", "events", timestamp=far_future).version == 3


def test_naive_timestamp_means_utc(lake: Lakehouse) -> None:
    second = _commit_time(lake, 2)
    naive = second.astimezone(UTC).replace(tzinfo=None)
    assert lake.snapshot("raw", "events", timestamp=naive).version == 2


def test_timestamp_before_the_first_commit_is_an_error(lake: Lakehouse) -> None:
    before = _commit_time(lake, 0) - timedelta(seconds=1)
    with pytest.raises(TimeTravelError, match=r"raw\.events.*available versions are 0\.\.3"):
        lake.snapshot("raw", "events", timestamp=before)


@pytest.mark.parametrize("version", [4, -1, 99])
def test_version_out_of_range_names_the_range(lake: Lakehouse, version: int) -> None:
    with pytest.raises(TimeTravelError, match=r"raw\.events: version .* 0\.\.3"):
        lake.snapshot("raw", "events", version=version)


def test_version_and_timestamp_together_is_an_error(lake: Lakehouse) -> None:
    with pytest.raises(TimeTravelError, match="not both"):
        lake.snapshot("raw", "events", version=1, timestamp=datetime.now(UTC))


def test_snapshot_of_missing_table(lake: Lakehouse) -> None:
    with pytest.raises(TableNotFoundError, match=r"raw\.orders"):
        lake.snapshot("raw", "orders")

"""Version, rows and newest values from the Delta log, without reading the data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from custodia.storage.lake import Lakehouse
from custodia.storage.lake_stats import lake_table_stats

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("happened_at", pa.timestamp("us", "UTC")),
        pa.field("loaded_at", pa.timestamp("us", "UTC")),
    ]
)


def _at(day: int, micro: int = 0) -> datetime:
    return datetime(2026, 11, day, 8, 0, 0, micro, tzinfo=UTC)


def _append(lake: Lakehouse, rows: list[tuple[str, datetime | None, datetime]]) -> None:
    ids, happened, loaded = zip(*rows, strict=True)
    table = pa.table([list(ids), list(happened), list(loaded)], schema=SCHEMA)
    lake.append("staged", "facts", table)


def test_the_log_gives_rows_version_and_newest_values(tmp_path: Path) -> None:
    lake = Lakehouse(tmp_path)
    lake.ensure_table("staged", "facts", SCHEMA, stats_columns=("happened_at", "loaded_at"))
    empty = lake_table_stats(lake, "staged", "facts", ["happened_at"])
    assert (empty.version, empty.rows, empty.newest) == (0, 0, {"happened_at": None})

    _append(lake, [("a", _at(1), _at(20)), ("b", _at(3, 250_999), _at(20))])
    _append(lake, [("c", None, _at(21)), ("d", None, _at(21))])  # a file without happened_at

    stats = lake_table_stats(lake, "staged", "facts", ["happened_at", "loaded_at"])
    assert (stats.version, stats.rows) == (2, 4)
    # Delta keeps timestamps to the millisecond in its statistics
    assert stats.newest == {"happened_at": _at(3, 250_000), "loaded_at": _at(21)}


def test_columns_kept_out_of_statistics_are_left_unanswered(tmp_path: Path) -> None:
    lake = Lakehouse(tmp_path)
    lake.ensure_table("staged", "facts", SCHEMA, stats_columns=("loaded_at",))
    _append(lake, [("a", _at(1), _at(20))])
    stats = lake_table_stats(lake, "staged", "facts", ["happened_at", "loaded_at"])
    assert stats.rows == 1
    assert stats.newest == {"loaded_at": _at(20)}

"""What a Delta table's log says about it without reading its data: version, row count and the
newest value of chosen columns, from the per-file statistics of its add actions.

The catalog asks every table for its size and freshness. Reading ``max(loaded_at)`` from the data
opens every Parquet file (the demo's ``events`` table has 731 of them: half a second), while the
log already holds each file's ``numRecords`` and column maxima. Statistics exist only for the
columns a table keeps in them (never personal data, see ``TableSpec.stats_columns``) and Delta
writes timestamps there to the millisecond; when a file has no statistic for a column, the answer
for that column is "unknown" and the caller reads the data instead.

Example::

    stats = lake_table_stats(lake, "raw", "events", ["timestamp", "loaded_at"])
    stats.version, stats.rows, stats.newest["loaded_at"]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from custodia.storage.lake import Lakehouse, Zone
from custodia.storage.lake_errors import delta_errors

__all__ = ["LakeTableStats", "lake_table_stats"]


@dataclass(frozen=True, slots=True)
class LakeTableStats:
    """``rows`` is None when a file lacks ``numRecords``; ``newest`` leaves out the columns whose
    maximum the statistics cannot give."""

    version: int
    rows: int | None
    newest: dict[str, Any]


def lake_table_stats(
    lake: Lakehouse, zone: Zone, name: str, columns: Sequence[str] = ()
) -> LakeTableStats:
    """Version, rows and the newest value of each of ``columns`` from the log (one read)."""
    with delta_errors(f"{zone}.{name}"):
        table = DeltaTable(str(lake.path(zone, name)))
        actions = pa.table(table.get_add_actions(flatten=True))
        version = int(table.version())
    if actions.num_rows == 0:
        return LakeTableStats(version, 0, dict.fromkeys(columns))
    counts = actions.column("num_records")
    rows = None if counts.null_count else int(pc.sum(counts).as_py())
    newest = {c: _column_max(actions, c) for c in columns}
    return LakeTableStats(version, rows, {c: v for c, v in newest.items() if v is not _UNKNOWN})


_UNKNOWN = object()


def _column_max(actions: pa.Table, column: str) -> Any:
    """The maximum over files, None when every value is null, ``_UNKNOWN`` when a file that
    holds values has no statistic for the column."""
    if f"max.{column}" not in actions.column_names:
        return _UNKNOWN
    maxima = actions.column(f"max.{column}")
    if f"null_count.{column}" in actions.column_names:
        nulls = actions.column(f"null_count.{column}")
        all_null = pc.fill_null(pc.equal(nulls, actions.column("num_records")), False)
    else:
        all_null = pa.array([False] * actions.num_rows)
    if pc.any(pc.and_(pc.is_null(maxima), pc.invert(all_null))).as_py():
        return _UNKNOWN
    return pc.max(maxima).as_py()

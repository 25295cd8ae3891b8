"""Which of a batch's keys a Delta table already holds, answered by DuckDB over the snapshot.

Used for insert-if-absent writes of immutable rows (events: a retried ``messageId`` is stored
once, with no time window). Reading one key column of the current snapshot and anti-joining is far
cheaper than a Delta MERGE, which rewrites every file a matched key lives in.

Example::

    fresh = new_rows_only(snapshot, batch, "message_id")
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from custodia.storage.engine_views import register_snapshot
from custodia.storage.lake_history import TableSnapshot
from custodia.storage.sql_guard import quote_identifier


def new_rows_only(snapshot: TableSnapshot, data: pa.Table, key_column: str) -> pa.Table:
    """The rows of ``data`` whose ``key_column`` value the snapshot does not hold yet."""
    if data.num_rows == 0:
        return data
    con = duckdb.connect(":memory:")
    try:
        register_snapshot(con, '"stored"', snapshot, [key_column])
        con.register("incoming_keys", pa.table({"k": data.column(key_column)}))
        key = quote_identifier(key_column)
        found = con.sql(
            f"SELECT DISTINCT k FROM incoming_keys JOIN stored ON stored.{key} = incoming_keys.k"
        ).to_arrow_table()
    finally:
        con.close()
    if found.num_rows == 0:
        return data
    import pyarrow.compute as pc

    keep = pc.invert(pc.is_in(data.column(key_column), value_set=found.column("k")))
    return data.filter(keep)

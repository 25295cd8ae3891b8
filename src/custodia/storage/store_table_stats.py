"""Size and newest time of a canonical table that lives in the operational store.

The catalog lists store tables (``home=store`` in :mod:`custodia.core.tables`, e.g.
``audit_log``, ``identity_edges``) beside the lakehouse ones. Their rows are counted here, in one
indexed aggregate per table, because only the storage layer speaks SQL to the store. A canonical
store table that the store does not hold yet (a later issue creates it) has no statistics.

Example::

    stats = store_table_stats(store, "audit_log", time_column="at")
    stats.rows, stats.newest          # 1204, datetime(2026, 11, 24, 19, 9, tzinfo=UTC)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, null, select

from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import METADATA

__all__ = ["StoreTableStats", "store_table_stats"]


@dataclass(frozen=True, slots=True)
class StoreTableStats:
    """Row count and the newest value of the table's time column (None when it has none)."""

    rows: int
    newest: datetime | None


def store_table_stats(
    store: OperationalStore, name: str, *, time_column: str | None = None
) -> StoreTableStats | None:
    """Count the rows of store table ``name``; None when the store has no such table."""
    table = METADATA.tables.get(name)
    if table is None:
        return None
    time = table.c.get(time_column) if time_column else None
    newest = func.max(time) if time is not None else null()
    with store.read() as conn:
        rows, last = conn.execute(select(func.count(), newest).select_from(table)).one()
    return StoreTableStats(rows=int(rows), newest=last)

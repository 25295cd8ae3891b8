"""Size and freshness of every table: rows, Delta version, the newest fact time (the table's
``time_column``) and the newest load (``loaded_at``), with their ages.

Two different questions: ``loaded_at`` says whether loads still run; the time column says whether
the facts themselves are recent (a source can keep delivering yesterday's orders). Lakehouse
tables answer from their Delta log's statistics (:mod:`custodia.storage.lake_stats`, no data
read); a table whose statistics cannot answer is measured in one query over all such tables (one
``max`` pair per table, ``UNION ALL``). Store tables are counted by the store.

Example::

    measured = measure_tables(ws, [table_spec("orders")])
    measured.sizes["orders"], measured.freshness["orders"].age_seconds
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from custodia.catalog.models import Freshness
from custodia.core.sql_text import quote_ident, quote_literal
from custodia.core.tables import TableSpec
from custodia.core.types import Home
from custodia.storage.lake_stats import LakeTableStats, lake_table_stats
from custodia.storage.store_table_stats import store_table_stats
from custodia.workspace import Workspace

__all__ = ["TableMeasures", "freshness", "lake_newest", "measure_tables"]

Newest = tuple[datetime | None, datetime | None]  # (time_column, loaded_at)
Size = tuple[int | None, int | None]  # (rows, Delta version)


@dataclass(frozen=True)
class TableMeasures:
    """Size and freshness of each measured table, by name."""

    sizes: dict[str, Size]
    freshness: dict[str, Freshness]


def measure_tables(ws: Workspace, specs: Iterable[TableSpec]) -> TableMeasures:
    """Rows, version and freshness of ``specs`` (tables that do not exist yet have Nones)."""
    specs = list(specs)
    sizes: dict[str, Size] = {}
    newest: dict[str, Newest] = {}
    for spec in specs:
        size, found = (
            _measure_store(ws, spec) if spec.home is Home.STORE else _measure_lake(ws, spec)
        )
        sizes[spec.name] = size
        if found is not None:
            newest[spec.name] = found
    unanswered = [s for s in specs if s.home is Home.LAKE and s.name not in newest]
    newest.update(lake_newest(ws, unanswered))
    now = ws.clock.now()
    return TableMeasures(
        sizes=sizes,
        freshness={s.name: freshness(s, *newest.get(s.name, (None, None)), now=now) for s in specs},
    )


def freshness(
    spec: TableSpec, newest: datetime | None, loaded: datetime | None, *, now: datetime
) -> Freshness:
    """The record for one table, ages counted from ``now``."""
    return Freshness(
        time_column=spec.time_column,
        newest=newest,
        newest_loaded_at=loaded,
        age_seconds=_age(now, newest),
        loaded_age_seconds=_age(now, loaded),
    )


def lake_newest(ws: Workspace, specs: Iterable[TableSpec]) -> dict[str, Newest]:
    """Table -> (newest time_column value, newest loaded_at) read from the data, in one query."""
    parts = [_newest_sql(spec) for spec in specs if ws.lake.exists(spec.zone.value, spec.name)]
    if not parts:
        return {}
    rows = ws.query(" UNION ALL ".join(parts)).to_pylist()
    return {row["table_name"]: (row["newest"], row["loaded"]) for row in rows}


def _measure_lake(ws: Workspace, spec: TableSpec) -> tuple[Size, Newest | None]:
    """From the Delta log; newest is None when its statistics cannot say."""
    if not ws.lake.exists(spec.zone.value, spec.name):
        return (None, None), (None, None)
    stats = lake_table_stats(ws.lake, spec.zone.value, spec.name, _time_columns(spec))
    rows = stats.rows if stats.rows is not None else ws.lake.row_count(spec.zone.value, spec.name)
    return (rows, stats.version), _newest_from(spec, stats)


def _newest_from(spec: TableSpec, stats: LakeTableStats) -> Newest | None:
    if any(column not in stats.newest for column in _time_columns(spec)):
        return None
    loaded = stats.newest.get("loaded_at") if _has_loaded_at(spec) else None
    return (stats.newest.get(spec.time_column) if spec.time_column else None), loaded


def _measure_store(ws: Workspace, spec: TableSpec) -> tuple[Size, Newest]:
    stats = store_table_stats(ws.store, spec.name, time_column=spec.time_column)
    return (stats.rows if stats else None, None), (stats.newest if stats else None, None)


def _time_columns(spec: TableSpec) -> list[str]:
    columns = [spec.time_column] if spec.time_column else []
    return columns + (["loaded_at"] if _has_loaded_at(spec) and "loaded_at" not in columns else [])


def _has_loaded_at(spec: TableSpec) -> bool:
    return "loaded_at" in spec.column_names


def _newest_sql(spec: TableSpec) -> str:
    loaded = "loaded_at" if _has_loaded_at(spec) else None
    return (
        f"SELECT {quote_literal(spec.name)} AS table_name, "
        f"CAST({_max(spec.time_column)} AS TIMESTAMPTZ) AS newest, "
        f"CAST({_max(loaded)} AS TIMESTAMPTZ) AS loaded FROM {quote_ident(spec.name)}"
    )


def _max(column: str | None) -> str:
    return f"max({quote_ident(column)})" if column else "NULL"


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 3)

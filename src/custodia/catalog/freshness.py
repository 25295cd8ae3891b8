"""Freshness of every table: the newest fact time (the table's ``time_column``) and the newest
load (``loaded_at``), with their ages.

Two different questions: ``loaded_at`` says whether loads still run; the time column says whether
the facts themselves are recent (a source can keep delivering yesterday's orders). Lakehouse tables
are measured in one query (one ``max`` pair per table, ``UNION ALL``), store tables by the store.

Example::

    measured = measure_freshness(ws, [table_spec("orders")], store_stats={})
    measured["orders"].newest, measured["orders"].age_seconds
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from custodia.catalog.models import Freshness
from custodia.core.sql_text import quote_ident, quote_literal
from custodia.core.tables import TableSpec
from custodia.core.types import Home
from custodia.storage.store_table_stats import StoreTableStats
from custodia.workspace import Workspace

__all__ = ["freshness", "lake_newest", "measure_freshness"]

Newest = tuple[datetime | None, datetime | None]


def measure_freshness(
    ws: Workspace, specs: Iterable[TableSpec], store_stats: Mapping[str, StoreTableStats | None]
) -> dict[str, Freshness]:
    """Freshness of each table in ``specs``; store tables' newest times come from
    ``store_stats`` (see :func:`~custodia.storage.store_table_stats.store_table_stats`)."""
    specs = list(specs)
    now = ws.clock.now()
    newest = lake_newest(ws, [s for s in specs if s.home is Home.LAKE])
    for name, stats in store_stats.items():
        newest[name] = (stats.newest if stats else None, None)
    return {
        spec.name: freshness(spec, *newest.get(spec.name, (None, None)), now=now) for spec in specs
    }


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
    """Table -> (newest time_column value, newest loaded_at), for the tables that exist."""
    parts = [_newest_sql(spec) for spec in specs if ws.lake.exists(spec.zone.value, spec.name)]
    if not parts:
        return {}
    rows = ws.query(" UNION ALL ".join(parts)).to_pylist()
    return {row["table_name"]: (row["newest"], row["loaded"]) for row in rows}


def _newest_sql(spec: TableSpec) -> str:
    return (
        f"SELECT {quote_literal(spec.name)} AS table_name, "
        f"CAST({_max(spec.time_column)} AS TIMESTAMPTZ) AS newest, "
        f"CAST({_max('loaded_at' if 'loaded_at' in spec.column_names else None)} AS TIMESTAMPTZ)"
        f" AS loaded FROM {quote_ident(spec.name)}"
    )


def _max(column: str | None) -> str:
    return f"max({quote_ident(column)})" if column else "NULL"


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 3)

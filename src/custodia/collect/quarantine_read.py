"""Read the quarantine: entries by source, rule and status, and counts per rule and source.

Filters are bound parameters, never spliced into SQL. Payloads hold personal data (tier L3), so
listings leave them out unless asked for; counts never include them.

Example::

    engine = ws.query_engine()
    quarantine_summary(engine, QuarantineFilter(source="web"))
    # [{'source': 'web', 'rule': 'plan_unplanned_event', 'status': 'open', 'entries': 3}, ...]
    list_quarantine(engine, QuarantineFilter(rule="invalid_json"), limit=20)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from custodia.core.errors import ValidationError
from custodia.core.tables import QUARANTINE
from custodia.storage.engine import QueryEngine, rows_as_json

__all__ = [
    "LISTED_COLUMNS",
    "STATUSES",
    "QuarantineFilter",
    "list_quarantine",
    "quarantine_rows",
    "quarantine_summary",
]

STATUSES = ("open", "flagged", "replayed", "discarded")
LISTED_COLUMNS = (
    "quarantine_id",
    "source",
    "kind",
    "entity",
    "rule",
    "field",
    "reason",
    "source_file",
    "position",
    "status",
    "received_at",
    "run_id",
    "resolved_at",
    "resolved_run_id",
)


@dataclass(frozen=True)
class QuarantineFilter:
    """Which entries: any combination of source, rule, status and kind (None = any)."""

    source: str | None = None
    rule: str | None = None
    status: str | None = None
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ValidationError("status", "one_of", f"status: must be one of {list(STATUSES)}")

    def where(self) -> tuple[str, list[str]]:
        """A WHERE clause with ``?`` placeholders, and its parameters."""
        conditions, params = [], []
        for column in ("source", "rule", "status", "kind"):
            value = getattr(self, column)
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        return (" WHERE " + " AND ".join(conditions)) if conditions else "", params


def quarantine_summary(engine: QueryEngine, flt: QuarantineFilter) -> list[dict[str, Any]]:
    """Entries per source, rule and status, most frequent first."""
    where, params = flt.where()
    sql = (
        f"SELECT source, rule, status, count(*) AS entries FROM {QUARANTINE.name}{where} "
        "GROUP BY source, rule, status ORDER BY entries DESC, source, rule, status"
    )
    return rows_as_json(engine.query(sql, params))


def list_quarantine(
    engine: QueryEngine, flt: QuarantineFilter, *, limit: int = 100, with_payload: bool = False
) -> list[dict[str, Any]]:
    """The newest entries first (without payloads unless ``with_payload``)."""
    columns = LISTED_COLUMNS + (("payload",) if with_payload else ())
    return rows_as_json(quarantine_rows(engine, flt, columns=columns, limit=limit))


def quarantine_rows(
    engine: QueryEngine,
    flt: QuarantineFilter,
    *,
    columns: tuple[str, ...] = (*LISTED_COLUMNS, "payload"),
    limit: int | None = None,
) -> pa.Table:
    """Entries as an Arrow table, newest first, in a stable order (for replays)."""
    unknown = [c for c in columns if c not in QUARANTINE.column_names]
    if unknown:
        raise ValidationError("columns", "known_column", f"unknown quarantine columns {unknown}")
    where, params = flt.where()
    selected = ", ".join(columns)
    sql = (
        f"SELECT {selected} FROM {QUARANTINE.name}{where} "
        "ORDER BY received_at DESC, source, source_file, position, quarantine_id"
    )
    if limit is not None:
        sql += f" LIMIT {max(0, int(limit))}"
    return engine.query(sql, params)

"""Tracking plans of collector sources: the ``tracking_plan`` column of ``collector_sources``.

Kept apart from :mod:`custodia.storage.store_sources` (which creates sources and keys): this
module reads and writes only the plan, and audits each change in the same transaction. What a
plan means is :mod:`custodia.collect.tracking_plan`'s business; here it is a JSON document.

Example::

    plans = TrackingPlanStore(store)
    plans.set("web", {"events": {...}, "unplanned_events": "block"}, actor="cli")
    plans.get("web")        # the document, or None when the source has no plan
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from custodia.core.clock import Clock
from custodia.core.errors import ValidationError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import JsonObject, collector_sources, to_json_value

__all__ = ["TrackingPlanStore"]


class TrackingPlanStore:
    """Get, set and clear the tracking plan of a collector source."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock

    def exists(self, source: str) -> bool:
        """Whether a collector source of this name exists."""
        query = select(collector_sources.c.name).where(collector_sources.c.name == source)
        with self._store.read() as conn:
            return conn.execute(query).first() is not None

    def get(self, source: str) -> JsonObject | None:
        """The source's plan document; None when the source has none or does not exist."""
        query = select(collector_sources.c.tracking_plan).where(collector_sources.c.name == source)
        with self._store.read() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return value if isinstance(value, dict) else None

    def all(self) -> dict[str, JsonObject]:
        """Every source that has a plan: name -> document (for the collector's loader)."""
        query = select(collector_sources.c.name, collector_sources.c.tracking_plan).where(
            collector_sources.c.tracking_plan.is_not(None)
        )
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        return {
            str(row.name): row.tracking_plan for row in rows if isinstance(row.tracking_plan, dict)
        }

    def set(self, source: str, plan: dict[str, Any] | None, *, actor: str) -> None:
        """Replace the source's plan (None clears it), with a ``source.plan`` audit entry.

        An unknown source is a :class:`ValidationError` (rule ``exists``).
        """
        document = None if plan is None else to_json_value("tracking_plan", plan)
        statement = (
            update(collector_sources)
            .where(collector_sources.c.name == source)
            .values(tracking_plan=document)
        )
        with self._store.begin() as conn:
            if conn.execute(statement).rowcount != 1:
                raise ValidationError(
                    "source",
                    "exists",
                    f"no collector source '{source}'; create it with `custodia source create`",
                )
            AuditLog(self._store, self._clock).append(
                actor,
                "source.plan_clear" if plan is None else "source.plan_set",
                "collector_sources",
                subject_ref=source,
                conn=conn,
            )

"""Persistence of quality measurements and alerts in the operational store.

``quality_results`` and ``quality_scores`` are append-only time series (one set per quality run);
``quality_alerts`` holds one row per alert, updated while it stays open and closed when it
resolves. Computing results, scores and alert transitions is :mod:`custodia.quality`'s job; this
module only writes and reads rows (plain dicts in, plain dicts out).

Example::

    ledger = QualityLedger(store)
    ledger.save_results(run_id, now, [result.model_dump()])
    ledger.latest_scores(table="orders")
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, select, update

from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import quality_alerts, quality_results, quality_scores

__all__ = ["QualityLedger"]

_RESULT_FIELDS = ("rule", "table_name", "column_name", "dimension", "source", "day",
                  "checked", "failed", "anomalies")  # fmt: skip
_SCORE_FIELDS = ("table_name", "column_name", "source", "day", "dimension", "score", "rules",
                 "checked", "failed")  # fmt: skip


class QualityLedger:
    """Quality results, scores and alerts of one workspace."""

    def __init__(self, store: OperationalStore) -> None:
        self._store = store

    # -- time series -------------------------------------------------------------------------
    def save_results(
        self, run_id: str, measured_at: datetime, rows: Iterable[Mapping[str, Any]]
    ) -> int:
        return self._insert(quality_results, run_id, measured_at, rows, _RESULT_FIELDS)

    def save_scores(
        self, run_id: str, measured_at: datetime, rows: Iterable[Mapping[str, Any]]
    ) -> int:
        return self._insert(quality_scores, run_id, measured_at, rows, _SCORE_FIELDS)

    def _insert(
        self,
        table: Any,
        run_id: str,
        measured_at: datetime,
        rows: Iterable[Mapping[str, Any]],
        fields: Sequence[str],
    ) -> int:
        values = [
            {"run_id": run_id, "measured_at": measured_at, **{f: row.get(f) for f in fields}}
            for row in rows
        ]
        if values:
            with self._store.begin() as conn:
                conn.execute(table.insert(), values)
        return len(values)

    def latest_run_id(self) -> str | None:
        query = select(quality_scores.c.run_id).order_by(quality_scores.c.score_id.desc()).limit(1)
        with self._store.read() as conn:
            return conn.execute(query).scalar_one_or_none()

    def results(self, run_id: str, *, rule: str | None = None) -> list[dict[str, Any]]:
        query = select(quality_results).where(quality_results.c.run_id == run_id)
        if rule is not None:
            query = query.where(quality_results.c.rule == rule)
        with self._store.read() as conn:
            return [
                _plain(row) for row in conn.execute(query.order_by(quality_results.c.result_id))
            ]

    def scores(
        self,
        run_id: str,
        *,
        table: str | None = None,
        per_day: bool = False,
    ) -> list[dict[str, Any]]:
        """One run's scores; without ``per_day`` only the all-days scopes."""
        query = select(quality_scores).where(quality_scores.c.run_id == run_id)
        if table is not None:
            query = query.where(quality_scores.c.table_name == table)
        if not per_day:
            query = query.where(quality_scores.c.day.is_(None))
        with self._store.read() as conn:
            return [_plain(row) for row in conn.execute(query.order_by(quality_scores.c.score_id))]

    def latest_scores(self, *, table: str | None = None) -> list[dict[str, Any]]:
        run_id = self.latest_run_id()
        return [] if run_id is None else self.scores(run_id, table=table)

    def score_history(
        self, *, table: str, dimension: str = "overall", column: str = "", source: str = "",
        limit: int = 100,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """A scope's score in each run, oldest first (the time series behind a trend line)."""
        c = quality_scores.c
        query = (
            select(c.run_id, c.measured_at, c.score, c.checked, c.failed)
            .where(and_(c.table_name == table, c.dimension == dimension, c.column_name == column,
                        c.source == source, c.day.is_(None)))
            .order_by(c.score_id.desc())
            .limit(limit)
        )  # fmt: skip
        with self._store.read() as conn:
            return [_plain(row) for row in reversed(list(conn.execute(query)))]

    # -- alerts ------------------------------------------------------------------------------
    def open_alerts(self) -> dict[str, dict[str, Any]]:
        """Open alerts by key."""
        query = select(quality_alerts).where(quality_alerts.c.status == "open")
        with self._store.read() as conn:
            return {row.alert_key: _plain(row) for row in conn.execute(query)}

    def open_alert(self, values: Mapping[str, Any]) -> None:
        with self._store.begin() as conn:
            conn.execute(quality_alerts.insert().values(**values, status="open", occurrences=1))

    def continue_alert(self, alert_id: str, values: Mapping[str, Any]) -> None:
        c = quality_alerts.c
        with self._store.begin() as conn:
            conn.execute(
                update(quality_alerts)
                .where(c.alert_id == alert_id)
                .values(**values, occurrences=c.occurrences + 1)
            )

    def resolve_alert(self, alert_id: str, *, at: datetime, run_id: str) -> None:
        with self._store.begin() as conn:
            conn.execute(
                update(quality_alerts)
                .where(quality_alerts.c.alert_id == alert_id)
                .values(status="resolved", resolved_at=at, resolved_run_id=run_id)
            )

    def add_delivery(self, alert_id: str, delivery: Mapping[str, Any]) -> None:
        """Append one notification or action outcome to the alert's ``deliveries`` list."""
        with self._store.begin() as conn:
            current = conn.execute(
                select(quality_alerts.c.deliveries).where(quality_alerts.c.alert_id == alert_id)
            ).scalar_one_or_none()
            kept = list(current or [])
            kept.append(dict(delivery))
            conn.execute(
                update(quality_alerts)
                .where(quality_alerts.c.alert_id == alert_id)
                .values(deliveries=kept)
            )

    def alerts(self, *, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = select(quality_alerts).order_by(quality_alerts.c.opened_at.desc()).limit(limit)
        if status is not None:
            query = query.where(quality_alerts.c.status == status)
        with self._store.read() as conn:
            return [_plain(row) for row in conn.execute(query)]

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        query = select(quality_alerts).where(quality_alerts.c.alert_id == alert_id)
        with self._store.read() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else _plain(row)

    def count_open(self) -> int:
        query = select(func.count()).where(quality_alerts.c.status == "open")
        with self._store.read() as conn:
            return int(conn.execute(query).scalar_one())


def _plain(row: Row[Any]) -> dict[str, Any]:
    return dict(row._mapping)

"""Quality scores as the catalog shows them: the latest quality run's score of each table and each
column, overall and per dimension, and each table's open alerts.

The quality run (:mod:`custodia.pipeline.quality_run`) stores one row per scope and dimension in
``quality_scores``; the catalog reads the all-days, all-sources scopes of the newest run and folds
each scope's rows into one :class:`~custodia.catalog.models.QualitySummary`.

Example::

    snapshot = latest_quality(ws)
    snapshot.table("orders").overall         # 0.94
    snapshot.column("orders", "status")       # QualitySummary(overall=1.0, ...)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from custodia.catalog.models import QualitySummary, TableQuality
from custodia.quality.scores import ALL_TABLES, OVERALL
from custodia.storage.store_quality import QualityLedger
from custodia.workspace import Workspace

__all__ = ["QualitySnapshot", "latest_quality", "summarize_scores"]

Scope = tuple[str, str]  # (table, column); column "" is the whole table


@dataclass(frozen=True)
class QualitySnapshot:
    """The newest quality run's scores by scope, and open alerts per table."""

    run_id: str | None = None
    measured_at: datetime | None = None
    scopes: Mapping[Scope, QualitySummary] = field(default_factory=dict)
    open_alerts: Mapping[str, int] = field(default_factory=dict)

    def table(self, name: str) -> TableQuality | None:
        """A table's scores (``*`` for the whole workspace); None when no rule measures it."""
        summary = self.scopes.get((name, ""))
        alerts = self.open_alerts.get(name, 0)
        if name == ALL_TABLES:
            alerts = sum(self.open_alerts.values())
        if summary is None and not alerts:
            return None
        return TableQuality(
            **(summary or QualitySummary()).model_dump(),
            run_id=self.run_id,
            measured_at=self.measured_at,
            open_alerts=alerts,
        )

    def column(self, table: str, column: str) -> QualitySummary | None:
        return self.scopes.get((table, column))


def latest_quality(ws: Workspace) -> QualitySnapshot:
    """Read the newest run's scores and the open alerts from the store."""
    ledger = QualityLedger(ws.store)
    alerts = Counter(str(a["table_name"]) for a in ledger.open_alerts().values())
    run_id = ledger.latest_run_id()
    if run_id is None:
        return QualitySnapshot(open_alerts=dict(alerts))
    rows = ledger.scores(run_id)
    measured = max((row["measured_at"] for row in rows), default=None)
    return QualitySnapshot(run_id, measured, summarize_scores(rows), dict(alerts))


def summarize_scores(rows: Iterable[Mapping[str, Any]]) -> dict[Scope, QualitySummary]:
    """Fold score rows of one run into one summary per table and per column.

    Rows by source or by day are other breakdowns and are left out; the ``overall`` row gives the
    summary's score and its rule, checked and failed totals.

    >>> rows = [{"table_name": "orders", "column_name": "", "source": "", "day": None,
    ...          "dimension": "validity", "score": 0.5, "rules": 1, "checked": 4, "failed": 2}]
    >>> summarize_scores(rows)[("orders", "")].dimensions
    {'validity': 0.5}
    """
    summaries: dict[Scope, QualitySummary] = {}
    for row in rows:
        if row.get("source") or row.get("day") is not None:
            continue
        scope = (str(row["table_name"]), str(row["column_name"] or ""))
        summary = summaries.setdefault(scope, QualitySummary())
        if row["dimension"] == OVERALL:
            summary.overall = float(row["score"])
            summary.rules, summary.checked, summary.failed = (
                int(row["rules"]), int(row["checked"]), int(row["failed"]),
            )  # fmt: skip
        else:
            summary.dimensions[str(row["dimension"])] = float(row["score"])
    return summaries

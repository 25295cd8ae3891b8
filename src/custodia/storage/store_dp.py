"""Persistence of differential-privacy budgets (``dp_budgets``) and releases (``dp_releases``).

Each analyst (an API token name) has an epsilon budget; every release debits its epsilon by
adding a ``dp_releases`` row, so what was spent is a sum the store keeps across restarts. The
check and the debit are one transaction that also writes the ``dp.release`` audit entry: two
concurrent queries of one analyst can never both pass a check that only one of them fits
(SQLite's single writer; on PostgreSQL the analyst's budget row is locked ``FOR UPDATE``).

An analyst with no row is granted ``default_total`` the first time their budget is touched.
Numbers only: no query result, group value or personal data is stored here.

Example::

    ledger = DpBudgetLedger(store)
    ledger.grant("ana", 3.0, actor="admin")
    outcome = ledger.debit(DpDebit("ana", "orders", "count", None, ["channel"], 0.5),
                           default_total=1.0)
    outcome.accepted, outcome.status.remaining        # (True, 2.5)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import ValidationError
from custodia.core.ids import new_id
from custodia.storage.store import AuditLog, OperationalStore, upsert
from custodia.storage.store_schema import check_fits, dp_budgets, dp_releases

__all__ = ["BudgetStatus", "DebitOutcome", "DpBudgetLedger", "DpDebit"]

_TOLERANCE = 1e-12
"""Float slack when comparing spent + epsilon with the total (0.1 + 0.2 must fit in 0.3)."""


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """An analyst's budget: granted, spent so far, and what is left."""

    analyst: str
    total: float
    spent: float
    releases: int

    @property
    def remaining(self) -> float:
        return max(0.0, self.total - self.spent)


@dataclass(frozen=True, slots=True)
class DpDebit:
    """What one release would spend: who, over which table and columns, and how much epsilon."""

    analyst: str
    table_name: str
    aggregate: str
    measure: str | None
    group_by: list[str]
    epsilon: float


@dataclass(frozen=True, slots=True)
class DebitOutcome:
    """Whether the debit fit the budget; ``release_id`` is set only when it did."""

    accepted: bool
    status: BudgetStatus
    release_id: str | None = None


class DpBudgetLedger:
    """Grant, read and debit analysts' epsilon budgets."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def grant(self, analyst: str, epsilon_total: float, *, actor: str) -> BudgetStatus:
        """Set ``analyst``'s total budget (not a top-up); audited as ``dp.budget.set``."""
        check_fits(dp_budgets.c.analyst, analyst)
        if not epsilon_total >= 0 or epsilon_total == float("inf"):
            raise ValidationError(
                "epsilon_total", "range", "epsilon_total: must be a finite number >= 0"
            )
        with self._store.begin() as conn:
            upsert(conn, dp_budgets, self._budget_row(analyst, epsilon_total, actor))
            AuditLog(self._store, self._clock).append(
                actor,
                "dp.budget.set",
                "dp_budgets",
                details={"analyst": analyst, "epsilon_total": epsilon_total},
                conn=conn,
            )
            status = _status(conn, analyst)
        assert status is not None
        return status

    def status(self, analyst: str, *, default_total: float) -> BudgetStatus:
        """The analyst's budget; ``default_total`` if nobody granted one yet (nothing written)."""
        with self._store.read() as conn:
            status = _status(conn, analyst)
        if status is None:
            return BudgetStatus(analyst, default_total, 0.0, 0)
        return status

    def all(self) -> list[BudgetStatus]:
        """Every analyst that has a budget row, by name."""
        with self._store.read() as conn:
            names = conn.execute(select(dp_budgets.c.analyst).order_by(dp_budgets.c.analyst))
            return [s for name in names.scalars() if (s := _status(conn, name)) is not None]

    def debit(self, debit: DpDebit, *, default_total: float) -> DebitOutcome:
        """Spend ``debit.epsilon`` if it fits, recording the release and its audit entry.

        A debit that does not fit writes nothing here; the caller audits the refusal.
        """
        check_fits(dp_budgets.c.analyst, debit.analyst)
        with self._store.begin() as conn:
            status = self._locked_status(conn, debit.analyst, default_total)
            if status.spent + debit.epsilon > status.total + _TOLERANCE:
                return DebitOutcome(False, status)
            release_id = new_id("dpr")
            conn.execute(dp_releases.insert().values(self._release_row(release_id, debit)))
            AuditLog(self._store, self._clock).append(
                debit.analyst,
                "dp.release",
                debit.table_name,
                details=_audit_details(debit, release_id),
                conn=conn,
            )
            after = BudgetStatus(
                debit.analyst, status.total, status.spent + debit.epsilon, status.releases + 1
            )
            return DebitOutcome(True, after, release_id)

    def _locked_status(self, conn: Connection, analyst: str, default_total: float) -> BudgetStatus:
        """The analyst's row (created with the default if missing), locked until commit."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        row = self._budget_row(analyst, default_total, "default")
        conn.execute(dialect.insert(dp_budgets).values(row).on_conflict_do_nothing())
        conn.execute(
            select(dp_budgets.c.analyst).where(dp_budgets.c.analyst == analyst).with_for_update()
        )
        status = _status(conn, analyst)
        assert status is not None
        return status

    def _budget_row(self, analyst: str, total: float, actor: str) -> dict[str, Any]:
        return {
            "analyst": analyst,
            "epsilon_total": total,
            "updated_at": self._clock.now(),
            "updated_by": actor,
        }

    def _release_row(self, release_id: str, debit: DpDebit) -> dict[str, Any]:
        return {
            "release_id": release_id,
            "analyst": debit.analyst,
            "at": self._clock.now(),
            "table_name": debit.table_name,
            "aggregate": debit.aggregate,
            "measure": debit.measure,
            "group_by": list(debit.group_by),
            "epsilon": debit.epsilon,
        }


def _status(conn: Connection, analyst: str) -> BudgetStatus | None:
    total = conn.execute(
        select(dp_budgets.c.epsilon_total).where(dp_budgets.c.analyst == analyst)
    ).scalar_one_or_none()
    if total is None:
        return None
    spent, count = conn.execute(
        select(func.coalesce(func.sum(dp_releases.c.epsilon), 0.0), func.count()).where(
            dp_releases.c.analyst == analyst
        )
    ).one()
    return BudgetStatus(analyst, float(total), float(spent), int(count))


def _audit_details(debit: DpDebit, release_id: str) -> dict[str, Any]:
    return {
        "release_id": release_id,
        "aggregate": debit.aggregate,
        "measure": debit.measure,
        "group_by": list(debit.group_by),
        "epsilon": debit.epsilon,
    }

"""DP budget ledger: grants, debits that fit, refusals that write nothing, audit entries."""

from __future__ import annotations

import pytest

from custodia.core.errors import ValidationError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_dp import DpBudgetLedger, DpDebit


def _debit(analyst: str, epsilon: float) -> DpDebit:
    return DpDebit(analyst, "orders", "count", None, ["channel"], epsilon)


def test_unknown_analyst_has_the_default_and_nothing_is_written(
    operational_store: OperationalStore,
) -> None:
    ledger = DpBudgetLedger(operational_store)
    status = ledger.status("ana", default_total=1.5)
    assert (status.total, status.spent, status.remaining) == (1.5, 0.0, 1.5)
    assert ledger.all() == []


def test_debits_add_up_until_the_budget_refuses(operational_store: OperationalStore) -> None:
    ledger = DpBudgetLedger(operational_store)
    ledger.grant("ana", 0.3, actor="admin")
    first = ledger.debit(_debit("ana", 0.1), default_total=1.0)
    second = ledger.debit(_debit("ana", 0.2), default_total=1.0)
    refused = ledger.debit(_debit("ana", 0.01), default_total=1.0)
    assert first.accepted and second.accepted and first.release_id != second.release_id
    assert not refused.accepted and refused.release_id is None
    status = ledger.status("ana", default_total=1.0)
    assert status.releases == 2 and status.spent == pytest.approx(0.3)
    actions = [entry.action for entry in AuditLog(operational_store).tail(10)]
    assert actions == ["dp.budget.set", "dp.release", "dp.release"]


def test_first_debit_materialises_the_default_budget(operational_store: OperationalStore) -> None:
    ledger = DpBudgetLedger(operational_store)
    assert ledger.debit(_debit("bob", 0.4), default_total=0.5).accepted
    assert not ledger.debit(_debit("bob", 0.4), default_total=0.5).accepted
    [status] = ledger.all()
    assert (status.analyst, status.total, status.releases) == ("bob", 0.5, 1)


@pytest.mark.parametrize("total", [-1.0, float("nan"), float("inf")])
def test_grant_refuses_a_budget_that_is_not_a_finite_non_negative_number(
    operational_store: OperationalStore, total: float
) -> None:
    with pytest.raises(ValidationError, match="epsilon_total"):
        DpBudgetLedger(operational_store).grant("ana", total, actor="admin")

"""Row counts and newest times of canonical tables that live in the operational store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custodia.core.clock import FrozenClock
from custodia.storage.store import OperationalStore
from custodia.storage.store_audit import AuditLog
from custodia.storage.store_table_stats import store_table_stats


def test_counts_rows_and_finds_the_newest_time(operational_store: OperationalStore) -> None:
    clock = FrozenClock(datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
    audit = AuditLog(operational_store, clock)
    audit.append("admin", "token.issue", "tokens")
    clock.advance(timedelta(seconds=90))
    audit.append("admin", "token.revoke", "tokens")

    stats = store_table_stats(operational_store, "audit_log", time_column="at")

    assert stats is not None
    assert stats.rows == 2
    assert stats.newest == datetime(2026, 11, 1, 8, 1, 30, tzinfo=UTC)


def test_an_empty_table_and_one_without_a_time_column(operational_store: OperationalStore) -> None:
    empty = store_table_stats(operational_store, "identity_edges", time_column="created_at")
    assert empty is not None and (empty.rows, empty.newest) == (0, None)
    no_time = store_table_stats(operational_store, "identity_edges", time_column="missing")
    assert no_time is not None and no_time.newest is None


def test_a_table_the_store_does_not_hold_has_no_stats(operational_store: OperationalStore) -> None:
    assert store_table_stats(operational_store, "no_such_table", time_column="at") is None

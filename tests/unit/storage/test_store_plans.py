"""Tracking plans stored on collector sources: set, get, clear, audited; unknown sources refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from custodia.core.errors import ValidationError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_plans import TrackingPlanStore
from custodia.storage.store_schema import collector_sources


def _source(store: OperationalStore, name: str) -> None:
    with store.begin() as conn:
        conn.execute(
            insert(collector_sources).values(
                name=name,
                write_key_hash=name * 8,
                write_key_prefix=name[:4],
                created_at=datetime(2026, 3, 1, tzinfo=UTC),
                created_by="test",
            )
        )


def test_plans_round_trip_and_are_audited(operational_store: OperationalStore) -> None:
    _source(operational_store, "web")
    _source(operational_store, "app")
    plans = TrackingPlanStore(operational_store)
    assert plans.exists("web") and not plans.exists("pos")
    assert plans.get("web") is None and plans.all() == {}
    document = {"events": {"下单": {"type": "object"}}, "unplanned_events": "block"}
    plans.set("web", document, actor="tester")
    assert plans.get("web") == document
    assert plans.all() == {"web": document}
    plans.set("web", None, actor="tester")
    assert plans.get("web") is None
    tail = AuditLog(operational_store).tail(2)
    assert sorted(e.action for e in tail) == ["source.plan_clear", "source.plan_set"]
    assert {e.subject_ref for e in tail} == {"web"}


def test_unknown_source_is_refused(operational_store: OperationalStore) -> None:
    with pytest.raises(ValidationError, match="no collector source 'nope'"):
        TrackingPlanStore(operational_store).set("nope", {}, actor="tester")

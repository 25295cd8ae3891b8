"""Unmask requests on the operational store (SQLite and PostgreSQL): approvals, expiry, audit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from custodia.core.clock import FrozenClock
from custodia.core.errors import PermissionDeniedError, ValidationError
from custodia.privacy.masking_policy import MaskingPolicy
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord
from custodia.privacy.unmask import UnmaskDesk
from custodia.storage.store import AuditLog, OperationalStore

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _token(name: str, role: Role) -> TokenRecord:
    return TokenRecord(f"tok_{name}", name, role, name[:12], T0, "test", None, None, None)


RISK = _token("risk", Role.RISK_OFFICER)
PO = _token("po", Role.PRIVACY_OFFICER)
ADMIN = _token("admin", Role.ADMIN)
ADMIN2 = _token("admin2", Role.ADMIN)


@pytest.fixture
def desk(operational_store: OperationalStore) -> tuple[UnmaskDesk, FrozenClock]:
    clock = FrozenClock(T0)
    return UnmaskDesk(operational_store, MaskingPolicy.shipped().unmask, clock), clock


def test_l3_request_approved_by_two_then_expires(
    desk: tuple[UnmaskDesk, FrozenClock], operational_store: OperationalStore
) -> None:
    unmask, clock = desk
    req = unmask.request(RISK, "prof_1", ["credit_band", "phone"], purpose="credit_review", hours=2)
    assert (req["tier"], req["approvals_needed"], req["status"]) == ("L3", 2, "pending")
    assert req["expires_at"] == T0 + timedelta(hours=2)
    rid = req["request_id"]
    assert unmask.decide(rid, PO, "approve")["status"] == "pending"
    assert unmask.decide(rid, ADMIN, "approve")["status"] == "approved"
    grant = unmask.grant_for_read(rid, RISK, "prof_1")
    assert grant.fields == {"credit_band", "phone"}
    clock.advance(timedelta(hours=2))
    with pytest.raises(PermissionDeniedError, match="expired"):
        unmask.grant_for_read(rid, RISK, "prof_1")
    actions = [e.action for e in AuditLog(operational_store).tail(10)]
    assert actions == [
        "unmask.request", "unmask.approve", "unmask.approve", "data.unmask_refused"
    ]  # fmt: skip
    assert AuditLog(operational_store).verify().ok


def test_refusals(desk: tuple[UnmaskDesk, FrozenClock]) -> None:
    unmask, clock = desk
    rid = unmask.request(ADMIN, "prof_1", ["email"], purpose="complaint")["request_id"]
    with pytest.raises(PermissionDeniedError, match="own"):
        unmask.decide(rid, ADMIN, "approve")
    with pytest.raises(PermissionDeniedError, match="may not approve"):
        unmask.decide(rid, RISK, "approve")
    with pytest.raises(PermissionDeniedError, match="pending"):
        unmask.grant_for_read(rid, ADMIN, "prof_1")
    assert unmask.decide(rid, ADMIN2, "approve")["status"] == "approved"  # L2: one approver
    with pytest.raises(PermissionDeniedError, match="another customer"):
        unmask.grant_for_read(rid, ADMIN, "prof_2")
    with pytest.raises(PermissionDeniedError, match="requester"):
        unmask.grant_for_read(rid, ADMIN2, "prof_1")
    with pytest.raises(PermissionDeniedError, match="unknown"):
        unmask.grant_for_read("umr_nope", ADMIN, "prof_1")
    with pytest.raises(PermissionDeniedError, match="may not request"):
        unmask.request(_token("m", Role.MARKETER), "prof_1", ["email"], purpose="campaign")
    with pytest.raises(ValidationError):
        unmask.request(ADMIN, "prof_1", [], purpose="x")
    late = unmask.request(ADMIN, "prof_1", ["phone"], purpose="x", hours=1)["request_id"]
    clock.advance(timedelta(hours=1))
    with pytest.raises(PermissionDeniedError, match="expired"):
        unmask.decide(late, PO, "approve")


def test_concurrent_approvals_are_both_counted(desk: tuple[UnmaskDesk, FrozenClock]) -> None:
    unmask, _clock = desk
    rid = unmask.request(RISK, "prof_1", ["resident_id"], purpose="kyc")["request_id"]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda who: unmask.decide(rid, who, "approve"), (PO, ADMIN)))
    assert unmask.get(rid, PO)["status"] == "approved"

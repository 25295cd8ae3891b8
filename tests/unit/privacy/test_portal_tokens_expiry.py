"""Portal tokens (a kind of their own, always expiring) and user-set expiry choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custodia.core.clock import FrozenClock
from custodia.core.errors import AuthenticationError, ValidationError
from custodia.privacy.portal_tokens import (
    issue_portal_token,
    require_portal_token,
    verify_portal_token,
)
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token, verify_token
from custodia.privacy.user_expiry import ExpiryChoice
from custodia.storage.store import AuditLog, OperationalStore

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_portal_and_staff_tokens_never_pass_for_each_other(
    operational_store: OperationalStore,
) -> None:
    clock = FrozenClock(NOW)
    portal = issue_portal_token(operational_store, "prf_1a2b", "token:desk", clock=clock)
    staff = issue_token(operational_store, "desk", Role.ADMIN, created_by="test", clock=clock)
    found = verify_portal_token(operational_store, portal.token, clock=clock)
    assert found is not None and found.profile_id == "prf_1a2b"
    assert verify_token(operational_store, portal.token, clock=clock) is None
    assert verify_portal_token(operational_store, staff.token, clock=clock) is None
    assert portal.token not in repr(portal)
    entry = AuditLog(operational_store).tail(2)[0]
    assert (entry.action, entry.subject_ref) == ("token.issue", "prf_1a2b")
    assert portal.token.split("_", 2)[2] not in str(entry.details)


def test_portal_tokens_always_expire(operational_store: OperationalStore) -> None:
    clock = FrozenClock(NOW)
    issued = issue_portal_token(operational_store, "prf_1a2b", "t", clock=clock)
    assert issued.record.expires_at == NOW + timedelta(days=30)
    clock.advance(timedelta(days=30))
    with pytest.raises(AuthenticationError):
        require_portal_token(operational_store, issued.token, clock=clock)
    for bad in (timedelta(0), timedelta(days=91)):
        with pytest.raises(ValidationError, match="expires_in"):
            issue_portal_token(operational_store, "prf_1a2b", "t", expires_in=bad)
    with pytest.raises(ValidationError, match="profile_id"):
        issue_portal_token(operational_store, "13812345678", "t")


def test_expiry_choices_name_fields_or_categories() -> None:
    when = NOW + timedelta(days=1)
    cats = ExpiryChoice.parse(fields=None, categories=["contact", "transactions", "contact"],
                              expires_at=when, now=NOW)  # fmt: skip
    assert cats.names == ("contact", "transactions")
    assert cats.fields == ("address", "email", "phone")
    assert cats.tables == ("order_lines", "orders")
    fields = ExpiryChoice.parse(fields=["phone"], categories=None, expires_at=when, now=NOW)
    assert (fields.scope, fields.fields, fields.tables) == ("fields", ("phone",), ())
    bad_cases = [
        ({"fields": None, "categories": None}, "one_of"),
        ({"fields": ["phone"], "categories": ["contact"]}, "one_of"),
        ({"fields": [], "categories": None}, "count"),
        ({"fields": ["user_id"], "categories": None}, "known"),
    ]
    for kwargs, rule in bad_cases:
        with pytest.raises(ValidationError) as info:
            ExpiryChoice.parse(**kwargs, expires_at=when, now=NOW)  # type: ignore[arg-type]
        assert info.value.rule == rule
    for at in (NOW, NOW + timedelta(days=3651), datetime(2027, 1, 1)):
        with pytest.raises(ValidationError, match="expires_at"):
            ExpiryChoice.parse(fields=["phone"], categories=None, expires_at=at, now=NOW)

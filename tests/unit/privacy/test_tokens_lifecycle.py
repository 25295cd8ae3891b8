"""API tokens: issue, verify, revoke, expire, list - on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from custodia.core.clock import FrozenClock
from custodia.core.errors import AuthenticationError, ValidationError
from custodia.privacy.roles import Role
from custodia.privacy.tokens import (
    LAST_USED_RESOLUTION,
    issue_token,
    list_tokens,
    require_token,
    revoke_token,
    verify_token,
)
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import api_tokens

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def test_issued_token_verifies_with_its_role(
    operational_store: OperationalStore, clock: FrozenClock
) -> None:
    issued = issue_token(operational_store, "门店同步 store sync", "analyst", "admin", clock=clock)
    assert re.fullmatch(r"cus_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", issued.token)
    assert issued.token.split("_")[1] == issued.record.prefix

    record = verify_token(operational_store, issued.token, clock=clock)
    assert record is not None
    assert (record.token_id, record.name, record.role) == (
        issued.record.token_id, "门店同步 store sync", Role.ANALYST,
    )  # fmt: skip
    assert (record.created_at, record.created_by, record.expires_at) == (T0, "admin", None)
    assert record.last_used_at == T0


def test_only_a_digest_is_stored(operational_store: OperationalStore) -> None:
    issued = issue_token(operational_store, "ci", Role.SERVICE_AGENT, "admin")
    secret = issued.token.split("_", 2)[2]
    with operational_store.read() as conn:
        (row,) = conn.execute(select(api_tokens)).all()
    stored = [str(value) for value in row]
    assert not any(issued.token in value or secret in value for value in stored)
    assert re.fullmatch(r"[0-9a-f]{64}", row.token_hash)
    assert issued.token not in repr(issued)


def test_records_never_carry_hashes_or_secrets(operational_store: OperationalStore) -> None:
    issued = issue_token(operational_store, "ci", Role.AUDITOR, "admin")
    (listed,) = list_tokens(operational_store)
    assert listed == issued.record
    assert not hasattr(listed, "token_hash")
    assert issued.token.split("_", 2)[2] not in repr(listed)
    assert listed.display == f"cus_{issued.record.prefix}_…"


def test_tampered_and_malformed_tokens_are_rejected(operational_store: OperationalStore) -> None:
    issued = issue_token(operational_store, "ci", Role.ADMIN, "admin")
    last = issued.token[-1]
    tampered = issued.token[:-1] + ("A" if last != "A" else "B")
    other_prefix = "cus_000000000000_" + issued.token.split("_", 2)[2]
    for token in [
        tampered,
        other_prefix,
        issued.token + "x",
        issued.token.upper(),
        "",
        "cus_",
        "Bearer " + issued.token,
        "cus_令牌令牌令牌令牌令牌令牌_" + "x" * 43,
        "xyz" + issued.token[3:],
    ]:
        assert verify_token(operational_store, token) is None, token
    assert verify_token(operational_store, issued.token) is not None


def test_revoked_token_is_rejected(operational_store: OperationalStore, clock: FrozenClock) -> None:
    issued = issue_token(operational_store, "ci", Role.MARKETER, "admin", clock=clock)
    clock.advance(timedelta(hours=1))
    assert revoke_token(operational_store, issued.record.token_id, "privacy", clock=clock)
    assert not revoke_token(operational_store, issued.record.token_id, "privacy", clock=clock)
    assert not revoke_token(operational_store, "tok_unknown", "privacy", clock=clock)

    assert verify_token(operational_store, issued.token, clock=clock) is None
    (listed,) = list_tokens(operational_store)
    assert listed.revoked_at == T0 + timedelta(hours=1)
    assert list_tokens(operational_store, include_revoked=False) == []


def test_token_expires(operational_store: OperationalStore, clock: FrozenClock) -> None:
    issued = issue_token(
        operational_store, "temp", Role.RISK_OFFICER, "admin", expires_in=timedelta(days=1),
        clock=clock,
    )  # fmt: skip
    assert issued.record.expires_at == T0 + timedelta(days=1)
    clock.advance(timedelta(days=1) - timedelta(microseconds=1))
    assert verify_token(operational_store, issued.token, clock=clock) is not None
    clock.advance(timedelta(microseconds=1))
    assert verify_token(operational_store, issued.token, clock=clock) is None
    with pytest.raises(AuthenticationError, match="expired"):
        require_token(operational_store, issued.token, clock=clock)


def test_last_used_is_updated_at_most_once_a_minute(
    operational_store: OperationalStore, clock: FrozenClock
) -> None:
    issued = issue_token(operational_store, "api", Role.DATA_STEWARD, "admin", clock=clock)
    assert list_tokens(operational_store)[0].last_used_at is None

    verify_token(operational_store, issued.token, clock=clock)
    clock.advance(LAST_USED_RESOLUTION - timedelta(seconds=1))
    verify_token(operational_store, issued.token, clock=clock)
    assert list_tokens(operational_store)[0].last_used_at == T0

    clock.advance(timedelta(seconds=1))
    record = verify_token(operational_store, issued.token, clock=clock)
    assert record is not None
    assert record.last_used_at == T0 + LAST_USED_RESOLUTION
    assert list_tokens(operational_store)[0].last_used_at == T0 + LAST_USED_RESOLUTION


def test_issue_and_revoke_are_audited(operational_store: OperationalStore) -> None:
    issued = issue_token(operational_store, "ci", Role.PRIVACY_OFFICER, "alice")
    revoke_token(operational_store, issued.record.token_id, "bob")
    verify_token(operational_store, issued.token)

    audit = AuditLog(operational_store)
    entries = audit.tail()
    assert [(e.actor, e.action, e.subject_ref) for e in entries] == [
        ("alice", "token.issue", issued.record.token_id),
        ("bob", "token.revoke", issued.record.token_id),
    ]
    assert entries[0].details == {
        "name": "ci", "role": "privacy_officer", "prefix": issued.record.prefix,
        "expires_at": None,
    }  # fmt: skip
    assert issued.token.split("_", 2)[2] not in str(entries)
    assert audit.verify().ok


def test_require_token_raises_without_detail(operational_store: OperationalStore) -> None:
    issued = issue_token(operational_store, "ci", Role.ANALYST, "admin")
    assert require_token(operational_store, issued.token).role is Role.ANALYST
    for token in (None, "cus_nope"):
        with pytest.raises(AuthenticationError) as caught:
            require_token(operational_store, token)
        assert str(caught.value) == "missing, invalid, revoked or expired API token"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "superuser"}, "role"),
        ({"name": "   "}, "name"),
        ({"name": "名" * 201}, "name"),
        ({"created_by": ""}, "created_by"),
        ({"expires_in": timedelta(0)}, "expires_in"),
    ],
)
def test_bad_issue_requests_are_refused(
    operational_store: OperationalStore, kwargs: dict[str, object], field: str
) -> None:
    request: dict[str, object] = {"name": "ci", "role": "analyst", "created_by": "admin"}
    request.update(kwargs)
    with pytest.raises(ValidationError) as caught:
        issue_token(operational_store, **request)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert list_tokens(operational_store) == []
    assert AuditLog(operational_store).tail() == []


def test_roles_are_the_contract() -> None:
    assert [role.value for role in Role] == [
        "admin", "data_steward", "analyst", "marketer", "service_agent", "risk_officer",
        "privacy_officer", "auditor",
    ]  # fmt: skip
    assert Role("auditor").label == "auditor 审计员"

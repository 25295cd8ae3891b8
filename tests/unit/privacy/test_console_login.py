"""Console login: sessions, lockout with backoff, no user enumeration, audit - on SQLite and
PostgreSQL, with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from custodia.core.clock import FrozenClock
from custodia.core.errors import AuthenticationError, TooManyAttemptsError, ValidationError
from custodia.privacy.login import LOGIN_FAILED, ConsoleLogin, LockoutPolicy
from custodia.privacy.passwords import PasswordHashing
from custodia.privacy.roles import Role
from custodia.privacy.tokens import end_session, issue_token, verify_token
from custodia.privacy.users import (
    create_user,
    find_user,
    set_password,
    set_role,
    set_user_status,
)
from custodia.storage.store import AuditEntry, AuditLog, OperationalStore
from custodia.storage.store_schema import login_throttle, users

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
FAST = PasswordHashing(memory_kib=1024, time_cost=1, parallelism=1)
PASSWORD = "四月的雨下个不停 2026"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def desk(operational_store: OperationalStore, clock: FrozenClock) -> ConsoleLogin:
    create_user(operational_store, "张伟", PASSWORD, Role.ANALYST, "cli:root", hashing=FAST,
                clock=clock)  # fmt: skip
    return ConsoleLogin(operational_store, hashing=FAST, throttle_secret=b"k" * 32,
                        session_lifetime=timedelta(hours=1), clock=clock)  # fmt: skip


def _details(entry: AuditEntry) -> dict[str, Any]:
    assert isinstance(entry.details, dict)
    return entry.details


def _refused(desk: ConsoleLogin, username: str, password: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        desk.login(username, password)
    return str(caught.value)


def test_lock_doubles_from_one_minute_up_to_thirty() -> None:
    policy = LockoutPolicy()
    locks = [policy.lock_for(n) for n in range(1, 12)]
    assert locks[:4] == [None] * 4
    assert [lock.total_seconds() for lock in locks[4:] if lock] == [
        60, 120, 240, 480, 960, 1800, 1800]  # fmt: skip
    assert policy.lock_for(10_000) == timedelta(minutes=30)


def test_login_issues_an_expiring_session_with_the_users_role(
    desk: ConsoleLogin, operational_store: OperationalStore, clock: FrozenClock
) -> None:
    session = desk.login("张伟", PASSWORD)
    assert session.token not in repr(session)
    record = verify_token(operational_store, session.token, clock=clock)
    assert record is not None
    assert (record.kind, record.role, record.user_id) == ("session", Role.ANALYST,
                                                          session.user.user_id)  # fmt: skip
    assert record.expires_at == T0 + timedelta(hours=1)
    assert record.actor == f"user:{session.user.user_id}"
    clock.advance(timedelta(hours=1))
    assert verify_token(operational_store, session.token, clock=clock) is None
    assert find_user(operational_store, "张伟").last_login_at == T0  # type: ignore[union-attr]


def test_username_is_matched_case_and_width_insensitively(
    operational_store: OperationalStore, desk: ConsoleLogin
) -> None:
    create_user(operational_store, "Li.Na", "correct horse battery", "marketer", "cli:root",
                hashing=FAST)  # fmt: skip
    assert desk.login("ｌｉ.ｎａ", "correct horse battery").user.username == "Li.Na"
    with pytest.raises(ValidationError) as taken:
        create_user(operational_store, "LI.NA", "another good phrase", "analyst", "cli:root",
                    hashing=FAST)  # fmt: skip
    assert (taken.value.field, taken.value.rule) == ("username", "unique")


def test_unknown_user_wrong_password_and_disabled_user_look_the_same(
    desk: ConsoleLogin, operational_store: OperationalStore
) -> None:
    create_user(operational_store, "gone", "correct horse battery", "analyst", "cli:root",
                hashing=FAST)  # fmt: skip
    set_user_status(operational_store, "gone", active=False, changed_by="cli:root")
    answers = {
        _refused(desk, "nobody", PASSWORD),
        _refused(desk, "张伟", "wrong password!"),
        _refused(desk, "gone", "correct horse battery"),
        _refused(desk, "not a valid name/", PASSWORD),
    }
    assert answers == {LOGIN_FAILED}


def test_five_failures_lock_the_name_then_backoff_doubles(
    desk: ConsoleLogin, clock: FrozenClock
) -> None:
    for _ in range(4):
        _refused(desk, "张伟", "wrong password!")
    _refused(desk, "张伟", "wrong password!")  # the 5th failure locks for a minute
    with pytest.raises(TooManyAttemptsError) as locked:
        desk.login("张伟", PASSWORD)  # even the right password is refused while locked
    assert locked.value.retry_after_seconds == 60
    clock.advance(timedelta(seconds=61))
    _refused(desk, "张伟", "wrong password!")  # 6th: two minutes
    with pytest.raises(TooManyAttemptsError) as again:
        desk.login("张伟", PASSWORD)
    assert again.value.retry_after_seconds == 120
    clock.advance(timedelta(seconds=121))
    assert desk.login("张伟", PASSWORD).user.username == "张伟"  # success clears the count
    for _ in range(4):
        _refused(desk, "张伟", "wrong password!")
    assert desk.login("张伟", PASSWORD)


def test_unknown_names_lock_the_same_way(desk: ConsoleLogin) -> None:
    for _ in range(5):
        _refused(desk, "nobody", "guess number x")
    with pytest.raises(TooManyAttemptsError):
        desk.login("NOBODY", "guess number y")
    assert desk.login("张伟", PASSWORD)  # other names are not affected


def test_old_failures_are_forgotten_and_their_rows_deleted(
    desk: ConsoleLogin, clock: FrozenClock, operational_store: OperationalStore
) -> None:
    for _ in range(4):
        _refused(desk, "nobody", "guess number x")
    clock.advance(timedelta(hours=1, seconds=1))
    _refused(desk, "someone else", "guess number x")
    with operational_store.read() as conn:
        rows = conn.execute(select(login_throttle.c.failures)).scalars().all()
    assert rows == [1]  # nobody's four failures are gone
    for _ in range(4):
        _refused(desk, "nobody", "guess number x")  # 4 fresh failures: not locked yet
    _refused(desk, "nobody", "guess number x")


def test_throttle_keys_are_keyed_hashes_not_names(
    desk: ConsoleLogin, operational_store: OperationalStore
) -> None:
    _refused(desk, "my secret pw typed here", "x")
    with operational_store.read() as conn:
        (key,) = conn.execute(select(login_throttle.c.throttle_key)).scalars().all()
    assert key == desk.throttle_key("My Secret PW typed here")
    other = ConsoleLogin(operational_store, hashing=FAST, throttle_secret=b"z" * 32,
                         session_lifetime=timedelta(hours=1))  # fmt: skip
    assert other.throttle_key("my secret pw typed here") != key


def test_every_attempt_is_audited_without_password_or_typed_name(
    desk: ConsoleLogin, operational_store: OperationalStore
) -> None:
    user = find_user(operational_store, "张伟")
    assert user is not None
    _refused(desk, "nobody-typed", "wrong password!")
    _refused(desk, "张伟", "wrong password!")
    session = desk.login("张伟", PASSWORD)
    assert end_session(operational_store, session.record)
    entries = reversed(AuditLog(operational_store).entries(actions=["auth.login", "auth.logout"]))
    seen = [(e.actor, e.action, e.subject_ref, _details(e)["outcome"], _details(e).get("rule"))
            for e in entries]  # fmt: skip
    assert seen == [
        ("anonymous", "auth.login", None, "refused", "unknown_user"),
        ("anonymous", "auth.login", user.user_id, "refused", "wrong_password"),
        (f"user:{user.user_id}", "auth.login", user.user_id, "done", None),
        (f"user:{user.user_id}", "auth.logout", user.user_id, "done", None),
    ]
    text = repr([(e.actor, e.details) for e in AuditLog(operational_store).entries()])
    for secret in (PASSWORD, "wrong password!", "nobody-typed", "张伟", session.token):
        assert secret not in text


def test_api_tokens_cannot_log_out(operational_store: OperationalStore) -> None:
    issued = issue_token(operational_store, "ops", Role.ADMIN, "test")
    with pytest.raises(ValidationError, match="session"):
        end_session(operational_store, issued.record)
    assert verify_token(operational_store, issued.token) is not None


@pytest.mark.parametrize("change", ["disable", "role", "password"])
def test_user_changes_end_open_sessions(
    desk: ConsoleLogin, operational_store: OperationalStore, clock: FrozenClock, change: str
) -> None:
    session = desk.login("张伟", PASSWORD)
    if change == "disable":
        set_user_status(operational_store, "张伟", active=False, changed_by="cli:root")
    elif change == "role":
        set_role(operational_store, "张伟", Role.MARKETER, changed_by="cli:root")
    else:
        set_password(operational_store, "张伟", "a brand new passphrase", changed_by="cli:root",
                     hashing=FAST)  # fmt: skip
    assert verify_token(operational_store, session.token, clock=clock) is None
    (entry,) = AuditLog(operational_store).entries(
        actions=["user.disable", "user.role_set", "user.password_set"])  # fmt: skip
    assert (entry.actor, entry.subject_ref, _details(entry)["sessions_revoked"]) == (
        "cli:root", session.user.user_id, 1)  # fmt: skip


def test_a_login_upgrades_a_hash_made_with_weaker_parameters(
    desk: ConsoleLogin, operational_store: OperationalStore, clock: FrozenClock
) -> None:
    stronger = PasswordHashing(memory_kib=2048, time_cost=2, parallelism=1)
    upgraded = ConsoleLogin(operational_store, hashing=stronger, throttle_secret=b"k" * 32,
                            session_lifetime=timedelta(hours=1), clock=clock)  # fmt: skip
    upgraded.login("张伟", PASSWORD)
    with operational_store.read() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
        count = conn.execute(select(func.count()).select_from(users)).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=2048,t=2,p=1$") and count == 1
    assert desk.login("张伟", PASSWORD)  # and it still verifies

"""Persistence of console users (``users``) and of failed logins (``login_throttle``).

Password rules, hashing and the lockout policy live in :mod:`custodia.privacy.passwords` and
:mod:`custodia.privacy.login`; this module only reads and writes rows, and writes the audit entry
of a change in the same transaction as the change. A change that takes rights away (disabling a
user, a new role, a new password) revokes the user's open sessions in that transaction too, so
a session always carries the role and rights its user has now.

Example::

    table = UserTable(store)
    found = table.find_by_key("li.na")       # (public values, password hash) or None
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Column, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from custodia.core.clock import Clock
from custodia.core.errors import ValidationError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import JsonValue, api_tokens, check_fits, login_throttle, users

__all__ = ["LoginThrottleTable", "ThrottleState", "UserTable"]

_PUBLIC: tuple[Column[Any], ...] = tuple(c for c in users.c if c.name != "password_hash")

ThrottleState = tuple[int, datetime | None]
"""(failures counted, locked until): what :meth:`LoginThrottleTable.record_failure` stores."""


class UserTable:
    """Rows of ``users``: insert, find, list, update (with session revocation), record logins."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def fits(column: str, value: str) -> str:
        """Refuse a value longer than the column allows (a ValidationError naming the column)."""
        return check_fits(users.c[column], value)

    def insert(self, values: Mapping[str, Any], *, actor: str, audit: JsonValue) -> None:
        """Store a new user and its ``user.create`` entry; a taken username is rule ``unique``."""
        try:
            with self._store.begin() as conn:
                conn.execute(users.insert().values(**values))
                self._audit(conn, actor, "user.create", str(values["user_id"]), audit)
        except IntegrityError:
            raise ValidationError(
                "username", "unique", "username: violates rule 'unique' (another user has it)"
            ) from None

    def find_by_key(self, key: str) -> tuple[dict[str, Any], str] | None:
        """The public values and the password hash of the user with this username key."""
        query = select(*_PUBLIC, users.c.password_hash).where(users.c.username_key == key)
        with self._store.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return {c.name: getattr(row, c.name) for c in _PUBLIC}, str(row.password_hash)

    def get(self, user_id: str) -> dict[str, Any] | None:
        """The public values of one user, if it exists."""
        with self._store.read() as conn:
            row = conn.execute(select(*_PUBLIC).where(users.c.user_id == user_id)).first()
        return None if row is None else dict(row._mapping)

    def list(self) -> list[dict[str, Any]]:
        """Public values of every user, oldest first (password hashes are never selected)."""
        query = select(*_PUBLIC).order_by(users.c.created_at, users.c.user_id)
        with self._store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def update(
        self,
        user_id: str,
        values: Mapping[str, Any],
        *,
        actor: str,
        action: str,
        audit: dict[str, JsonValue],
    ) -> int | None:
        """Change a user, revoke its open sessions and write ``action``, atomically.

        Returns how many sessions were revoked, or ``None`` when there is no such user.
        """
        at = values["updated_at"]
        with self._store.begin() as conn:
            changed = conn.execute(update(users).where(users.c.user_id == user_id).values(values))
            if changed.rowcount != 1:
                return None
            revoked = revoke_sessions(conn, user_id, at)
            self._audit(conn, actor, action, user_id, {**audit, "sessions_revoked": revoked})
        return revoked

    def record_login(self, user_id: str, at: datetime, new_hash: str | None) -> None:
        """Note a successful login (and store an upgraded hash when the parameters changed)."""
        values: dict[str, Any] = {"last_login_at": at}
        if new_hash is not None:
            values["password_hash"] = new_hash
        with self._store.begin() as conn:
            conn.execute(update(users).where(users.c.user_id == user_id).values(values))

    def _audit(
        self, conn: Connection, actor: str, action: str, user_id: str, details: JsonValue
    ) -> None:
        AuditLog(self._store, self._clock).append(
            actor, action, users.name, subject_ref=user_id, details=details, conn=conn
        )


def revoke_sessions(conn: Connection, user_id: str, at: datetime) -> int:
    """Revoke every open session of ``user_id`` in the caller's transaction; how many."""
    statement = (
        update(api_tokens)
        .where(
            api_tokens.c.user_id == user_id,
            api_tokens.c.kind == "session",
            api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
    return int(conn.execute(statement).rowcount)


class LoginThrottleTable:
    """Rows of ``login_throttle``: the failed-login count and lock of one throttle key."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock

    def locked_until(self, key: str) -> datetime | None:
        """When the lock on ``key`` ends (possibly in the past), or None if it was never locked."""
        query = select(login_throttle.c.locked_until).where(login_throttle.c.throttle_key == key)
        with self._store.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else row.locked_until

    def record_failure(
        self,
        key: str,
        at: datetime,
        *,
        forget_before: datetime,
        next_state: Callable[[int], ThrottleState],
        actor: str,
        subject_ref: str | None,
        details: Callable[[ThrottleState], JsonValue],
    ) -> ThrottleState:
        """Count one failure of ``key`` at ``at`` and write its ``auth.login`` audit entry (by
        ``actor`` about ``subject_ref``, with ``details(new state)``), atomically.

        Failures older than ``forget_before`` no longer count (their rows are deleted, for
        every key); ``next_state(failures counted before this one)`` says what to store.
        """
        with self._store.begin() as conn:
            _forget(conn, at, forget_before)
            state = next_state(self._locked_failures(conn, key, at))
            values = {"failures": state[0], "last_failure_at": at, "locked_until": state[1]}
            conn.execute(
                update(login_throttle).where(login_throttle.c.throttle_key == key).values(values)
            )
            AuditLog(self._store, self._clock).append(
                actor, "auth.login", users.name, subject_ref=subject_ref,
                details=details(state), conn=conn,
            )  # fmt: skip
        return state

    def clear(self, key: str) -> None:
        """Forget the failures of ``key`` (after a successful login)."""
        with self._store.begin() as conn:
            conn.execute(delete(login_throttle).where(login_throttle.c.throttle_key == key))

    @staticmethod
    def _locked_failures(conn: Connection, key: str, at: datetime) -> int:
        """The failures counted so far for ``key`` (its row created if missing), locked."""
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        fresh = {"throttle_key": key, "failures": 0, "last_failure_at": at}
        conn.execute(dialect.insert(login_throttle).values(fresh).on_conflict_do_nothing())
        query = (
            select(login_throttle.c.failures)
            .where(login_throttle.c.throttle_key == key)
            .with_for_update()
        )
        return int(conn.execute(query).scalar_one())


def _forget(conn: Connection, at: datetime, forget_before: datetime) -> None:
    """Delete throttle rows whose last failure is old and whose lock (if any) has ended."""
    stale = and_(
        login_throttle.c.last_failure_at < forget_before,
        or_(login_throttle.c.locked_until.is_(None), login_throttle.c.locked_until <= at),
    )
    conn.execute(delete(login_throttle).where(stale))

"""Console users: people who log in with a username and a password and act under one role.

A user has a username (any script: ``张伟``, ``li.na``; compared NFKC-normalised and
case-folded), a :class:`~custodia.privacy.roles.Role`, a status (``active`` or ``disabled``) and
an Argon2id password hash (:mod:`custodia.privacy.passwords`). Users are never deleted, so the
audit log's references to them stay meaningful; a user who leaves is disabled.

Every change writes one audit entry about the user (``subject_ref`` = user id, no username and
never a password): ``user.create``, ``user.disable``, ``user.enable``, ``user.password_set``,
``user.role_set``. A change that takes rights away or replaces the password also revokes the
user's open sessions in the same transaction.

Example::

    hashing = PasswordHashing()
    user = create_user(store, "张伟", "四月的雨下个不停 2026", Role.ANALYST,
                       created_by="cli:root", hashing=hashing)
    set_role(store, "张伟", Role.MARKETER, changed_by="cli:root")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import NotFoundError, ValidationError
from custodia.core.ids import new_id
from custodia.privacy.passwords import (
    PasswordHashing,
    PasswordPolicy,
    normalize_username,
    username_key,
)
from custodia.privacy.roles import Role, parse_role
from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import JsonValue
from custodia.storage.store_users import UserTable

__all__ = [
    "ACTIVE",
    "DISABLED",
    "UserRecord",
    "create_user",
    "find_credentials",
    "find_user",
    "get_user",
    "list_users",
    "set_password",
    "set_role",
    "set_user_status",
]

ACTIVE: Final = "active"
DISABLED: Final = "disabled"


@dataclass(frozen=True, slots=True)
class UserRecord:
    """What is known about a user, without the password hash."""

    user_id: str
    username: str
    role: Role
    status: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def create_user(
    store: OperationalStore,
    username: str,
    password: str,
    role: Role | str,
    created_by: str,
    *,
    hashing: PasswordHashing,
    policy: PasswordPolicy | None = None,
    clock: Clock | None = None,
) -> UserRecord:
    """Create an active user; the password must meet ``policy`` and is stored only hashed.

    A taken username (after normalisation and case folding) is rule ``unique``.
    """
    name = UserTable.fits("username", normalize_username(username))
    hashed = hashing.hash((policy or PasswordPolicy()).check(name, password))
    now = (clock or SystemClock()).now()
    values: dict[str, Any] = {
        "user_id": new_id("usr"),
        "username": name,
        "username_key": username_key(name),
        "role": parse_role(role).value,
        "password_hash": hashed,
        "status": ACTIVE,
        "created_at": now,
        "created_by": UserTable.fits("created_by", _actor(created_by)),
        "updated_at": now,
        "password_changed_at": now,
        "last_login_at": None,
    }
    audit: JsonValue = {"role": str(values["role"]), "status": ACTIVE}
    UserTable(store, clock).insert(values, actor=created_by, audit=audit)
    return _user_record({k: v for k, v in values.items() if k != "password_hash"})


def list_users(store: OperationalStore) -> list[UserRecord]:
    """Every user, oldest first."""
    return [_user_record(row) for row in UserTable(store).list()]


def find_user(store: OperationalStore, username: str) -> UserRecord | None:
    """The user with this username (normalised, case-insensitive), if any."""
    found = UserTable(store).find_by_key(username_key(username))
    return None if found is None else _user_record(found[0])


def find_credentials(store: OperationalStore, username: str) -> tuple[UserRecord, str] | None:
    """The user with this username and its password hash (for :mod:`custodia.privacy.login`
    only: nothing else needs the hash)."""
    found = UserTable(store).find_by_key(username_key(username))
    return None if found is None else (_user_record(found[0]), found[1])


def get_user(store: OperationalStore, user_id: str) -> UserRecord | None:
    """The user with this id, if any."""
    row = UserTable(store).get(user_id)
    return None if row is None else _user_record(row)


def set_user_status(
    store: OperationalStore,
    username: str,
    *,
    active: bool,
    changed_by: str,
    clock: Clock | None = None,
) -> UserRecord:
    """Disable a user (its sessions are revoked, its logins refused) or enable it again."""
    status = ACTIVE if active else DISABLED
    action = "user.enable" if active else "user.disable"
    return _change(store, username, {"status": status}, changed_by, action, {"status": status},
                   clock)  # fmt: skip


def set_role(
    store: OperationalStore,
    username: str,
    role: Role | str,
    *,
    changed_by: str,
    clock: Clock | None = None,
) -> UserRecord:
    """Give a user another role; its open sessions are revoked (they carry the old role)."""
    new = parse_role(role)
    before = _existing(store, username)
    audit: dict[str, JsonValue] = {"role": new.value, "previous_role": before.role.value}
    return _change(store, username, {"role": new.value}, changed_by, "user.role_set", audit, clock)


def set_password(
    store: OperationalStore,
    username: str,
    password: str,
    *,
    changed_by: str,
    hashing: PasswordHashing,
    policy: PasswordPolicy | None = None,
    clock: Clock | None = None,
) -> UserRecord:
    """Replace a user's password (it must meet ``policy``); its open sessions are revoked."""
    user = _existing(store, username)
    hashed = hashing.hash((policy or PasswordPolicy()).check(user.username, password))
    now = (clock or SystemClock()).now()
    values = {"password_hash": hashed, "password_changed_at": now}
    return _change(store, username, values, changed_by, "user.password_set", {}, clock)


def _change(
    store: OperationalStore,
    username: str,
    values: dict[str, Any],
    changed_by: str,
    action: str,
    audit: dict[str, JsonValue],
    clock: Clock | None,
) -> UserRecord:
    user = _existing(store, username)
    now = (clock or SystemClock()).now()
    table = UserTable(store, clock)
    revoked = table.update(user.user_id, {**values, "updated_at": now},
                           actor=_actor(changed_by), action=action, audit=audit)  # fmt: skip
    if revoked is None:
        raise NotFoundError("user: no such user")
    return _existing(store, username)


def _existing(store: OperationalStore, username: str) -> UserRecord:
    user = find_user(store, username)
    if user is None:
        raise NotFoundError("user: no such user")
    return user


def _actor(actor: str) -> str:
    if not actor.strip():
        raise ValidationError("actor", "not_blank")
    return actor


def _user_record(row: dict[str, Any]) -> UserRecord:
    values = {k: v for k, v in row.items() if k != "username_key"}
    return UserRecord(**{**values, "role": Role(row["role"])})

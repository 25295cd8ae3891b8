"""API tokens: issue, verify, revoke and list bearer tokens for people and services.

A token looks like ``cus_<prefix>_<secret>``: ``prefix`` is 12 random hex characters that identify
the token (safe to show and log; it is how a token is found and recognised in lists), ``secret`` is
``secrets.token_urlsafe(32)`` (256 random bits). The plaintext is returned once, by
:func:`issue_token`; the store keeps only its SHA-256 digest.

Why plain SHA-256 and not bcrypt/scrypt/Argon2: a slow key-derivation function protects
*low-entropy* secrets (passwords) against offline guessing. A 256-bit random secret cannot be
guessed no matter how fast the hash is, so a slow KDF would add no protection, only latency to
every API request. The digest is compared in constant time.

Issuing and revoking are written to the audit chain in the same transaction as the change.

Example::

    issued = issue_token(store, "nightly export", Role.SERVICE_AGENT, created_by="admin")
    print(issued.token)                     # shown to the user once, never stored
    record = verify_token(store, issued.token)
    assert record is not None and record.role is Role.SERVICE_AGENT
    revoke_token(store, record.token_id, revoked_by="admin")
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import AuthenticationError, ValidationError
from custodia.core.ids import new_id
from custodia.privacy.roles import Role, parse_role
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_tokens import TokenTable

TOKEN_SCHEME: Final = "cus"  # noqa: S105 - a format tag, not a secret
API_TOKEN: Final = "api"  # noqa: S105 - a token kind, not a secret
SESSION_TOKEN: Final = "session"  # noqa: S105 - a token kind, not a secret
LAST_USED_RESOLUTION: Final = timedelta(seconds=60)
"""``last_used_at`` is rewritten at most this often per token, so that verifying a token on every
API request does not turn every request into a write (SQLite has a single writer)."""

_PREFIX_BYTES: Final = 6
_SECRET_BYTES: Final = 32
_TOKEN_SHAPE = re.compile(
    rf"{TOKEN_SCHEME}_([0-9a-f]{{{2 * _PREFIX_BYTES}}})_([A-Za-z0-9_-]{{16,128}})"
)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What is known about a token, without its secret or digest."""

    token_id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    kind: str = API_TOKEN
    user_id: str | None = None

    @property
    def is_session(self) -> bool:
        """A console session (issued by a login to ``user_id``) rather than an API token."""
        return self.kind == SESSION_TOKEN

    @property
    def actor(self) -> str:
        """How the holder appears in the audit log: ``user:<user id>`` for a session,
        ``token:<name>`` for an API token."""
        return f"user:{self.user_id}" if self.is_session else f"token:{self.name}"

    @property
    def display(self) -> str:
        """How to show the token in lists: ``cus_<prefix>_…``."""
        return f"{TOKEN_SCHEME}_{self.prefix}_…"

    def is_active(self, at: datetime) -> bool:
        """Not revoked and not expired at ``at``."""
        expired = self.expires_at is not None and self.expires_at <= at
        return self.revoked_at is None and not expired


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly issued token. ``token`` is the only copy of the plaintext; it is kept out of
    ``repr`` so that logging the object does not leak it."""

    token: str = field(repr=False)
    record: TokenRecord


def issue_token(
    store: OperationalStore,
    name: str,
    role: Role | str,
    created_by: str,
    *,
    expires_in: timedelta | None = None,
    clock: Clock | None = None,
) -> IssuedToken:
    """Create a token with ``role`` and return its plaintext once.

    ``name`` says what the token is for (any language, e.g. ``"门店同步"``); ``created_by`` is the
    acting principal recorded in the audit log. ``expires_in=None`` means no expiry.
    """
    now = (clock or SystemClock()).now()
    record = _new_record(name, parse_role(role), created_by, now, _expiry(now, expires_in))
    token = f"{TOKEN_SCHEME}_{record.prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    TokenTable(store, clock).insert(
        _record_values(record), _digest(token), actor=created_by, audit=_audit_details(record)
    )
    return IssuedToken(token=token, record=record)


def issue_session(
    store: OperationalStore,
    user_id: str,
    role: Role,
    *,
    expires_in: timedelta,
    clock: Clock | None = None,
) -> IssuedToken:
    """Issue the session token of a login: a token of ``kind='session'`` tied to ``user_id``,
    with the user's role, that always expires. Written with its ``auth.login`` audit entry
    (actor ``user:<user id>``) in one transaction; verified like any token (:func:`verify_token`).
    """
    now = (clock or SystemClock()).now()
    record = replace(
        _new_record(user_id, role, f"user:{user_id}", now, _expiry(now, expires_in)),
        kind=SESSION_TOKEN,
        user_id=user_id,
    )
    token = f"{TOKEN_SCHEME}_{record.prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    details = {"outcome": "done", "role": role.value, "session": record.token_id,
               "expires_at": _iso(record.expires_at)}  # fmt: skip
    TokenTable(store, clock).insert(
        _record_values(record), _digest(token), actor=record.created_by, audit=details,
        action="auth.login", subject_ref=user_id,
    )  # fmt: skip
    return IssuedToken(token=token, record=record)


def end_session(
    store: OperationalStore, record: TokenRecord, *, clock: Clock | None = None
) -> bool:
    """Log out: revoke the session ``record`` with its ``auth.logout`` entry. API tokens are not
    sessions (a :class:`ValidationError`): revoke those on purpose, with :func:`revoke_token`."""
    if not record.is_session:
        raise ValidationError("token", "session_only", "token: only a login session can log out")
    now = (clock or SystemClock()).now()
    return TokenTable(store, clock).revoke(
        record.token_id, now, actor=record.actor, action="auth.logout",
        subject_ref=record.user_id, details={"outcome": "done", "session": record.token_id},
    )  # fmt: skip


def verify_token(
    store: OperationalStore, token: str, *, clock: Clock | None = None
) -> TokenRecord | None:
    """The record of a valid token, or ``None`` if it is malformed, unknown, revoked or expired.

    Updates ``last_used_at`` at most once per :data:`LAST_USED_RESOLUTION`. The prefix is looked
    up first (it is not secret); the digest is then compared in constant time.
    """
    match = _TOKEN_SHAPE.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        return None
    now = (clock or SystemClock()).now()
    found = TokenTable(store, clock).find_by_prefix(match.group(1))
    if found is None or not hmac.compare_digest(found[1], _digest(token)):
        return None
    record = _token_record(found[0])
    if not record.is_active(now):
        return None
    return _touch(store, record, now)


Diagnose = Callable[[OperationalStore, str, datetime, Clock], tuple[str, str | None]]
"""Why a token was refused (malformed, unknown, forged, revoked, expired) and its public prefix."""

REFUSAL_AUDIT_INTERVAL: Final = timedelta(seconds=60)
"""A refused token is audited at most this often per (rule, prefix), so that a flood of bad
requests cannot flood the audit chain; the entry counts nothing, it marks that it happened."""


class TokenRefusalAudit:
    """Audits bearer tokens the API refused: ``auth.token_refused`` with the rule (malformed,
    unknown, forged, revoked, expired) and the token's public prefix, never its secret.

    One entry per (rule, prefix) per :data:`REFUSAL_AUDIT_INTERVAL` in this process.
    """

    def __init__(
        self,
        store: OperationalStore,
        clock: Clock | None = None,
        *,
        resource: str = "api_tokens",
        diagnose: Diagnose | None = None,
    ) -> None:
        """``diagnose(store, token, now, clock)`` says why a token was refused and its public
        prefix; the default knows API tokens and sessions (portal tokens bring their own)."""
        self._store = store
        self._clock = clock or SystemClock()
        self._resource = resource
        self._diagnose = diagnose or _refusal
        self._last: dict[tuple[str, str | None], datetime] = {}

    def refused(self, token: str) -> str:
        """Record the refusal of ``token`` (throttled); returns the rule that refused it."""
        now = self._clock.now()
        rule, prefix = self._diagnose(self._store, token, now, self._clock)
        slot = (rule, prefix)
        last = self._last.get(slot)
        if last is None or now - last >= REFUSAL_AUDIT_INTERVAL:
            if len(self._last) > 10_000:
                self._last.clear()
            self._last[slot] = now
            details: dict[str, str] = {"outcome": "refused", "rule": rule}
            if prefix is not None:
                details["prefix"] = prefix
            AuditLog(self._store, self._clock).append(
                "anonymous", "auth.token_refused", self._resource, details=details
            )
        return rule


def _refusal(
    store: OperationalStore, token: str, now: datetime, clock: Clock
) -> tuple[str, str | None]:
    table = TokenTable(store, clock)
    return refusal_reason(token, _TOKEN_SHAPE, table.find_by_prefix, _digest, _token_record, now)


class _Revocable(Protocol):
    @property
    def revoked_at(self) -> datetime | None: ...

    def is_active(self, at: datetime) -> bool: ...


def refusal_reason(
    token: str,
    shape: re.Pattern[str],
    find: Callable[[str], tuple[dict[str, Any], str] | None],
    digest: Callable[[str], str],
    record: Callable[[dict[str, Any]], _Revocable],
    now: datetime,
) -> tuple[str, str | None]:
    """Why a bearer token of ``shape`` (prefix in group 1) is refused, and its prefix:
    ``malformed``, ``unknown``, ``forged`` (known prefix, wrong secret), ``revoked``,
    ``expired``, or ``accepted`` when it is in fact valid."""
    match = shape.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        return "malformed", None
    prefix = match.group(1)
    found = find(prefix)
    if found is None:
        return "unknown", prefix
    if not hmac.compare_digest(found[1], digest(token)):
        return "forged", prefix
    held = record(found[0])
    if held.revoked_at is not None:
        return "revoked", prefix
    return ("expired" if not held.is_active(now) else "accepted"), prefix


def require_token(
    store: OperationalStore, token: str | None, *, clock: Clock | None = None
) -> TokenRecord:
    """Like :func:`verify_token` but raises :class:`AuthenticationError` instead of ``None``.

    The message does not say which check failed, so it cannot be used to probe tokens.
    """
    record = None if token is None else verify_token(store, token, clock=clock)
    if record is None:
        raise AuthenticationError("missing, invalid, revoked or expired API token")
    return record


def revoke_token(
    store: OperationalStore, token_id: str, revoked_by: str, *, clock: Clock | None = None
) -> bool:
    """Revoke a token for good. ``False`` if it does not exist or was already revoked."""
    TokenTable.fits("created_by", revoked_by)
    now = (clock or SystemClock()).now()
    return TokenTable(store, clock).revoke(token_id, now, actor=revoked_by)


def list_tokens(store: OperationalStore, *, include_revoked: bool = True) -> list[TokenRecord]:
    """Every token, oldest first; digests and secrets are never selected."""
    rows = TokenTable(store).list(include_revoked=include_revoked)
    return [_token_record(row) for row in rows]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _expiry(now: datetime, expires_in: timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= timedelta(0):
        raise ValidationError("expires_in", "positive")
    return now + expires_in


def _new_record(
    name: str, role: Role, created_by: str, now: datetime, expires_at: datetime | None
) -> TokenRecord:
    if not name.strip():
        raise ValidationError("name", "not_blank")
    if not created_by.strip():
        raise ValidationError("created_by", "not_blank")
    return TokenRecord(
        token_id=new_id("tok"),
        name=TokenTable.fits("name", name),
        role=role,
        prefix=secrets.token_hex(_PREFIX_BYTES),
        created_at=now,
        created_by=TokenTable.fits("created_by", created_by),
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
    )


def _touch(store: OperationalStore, record: TokenRecord, now: datetime) -> TokenRecord | None:
    """Record the use; ``None`` if the token was revoked since it was read."""
    last = record.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return record
    if not TokenTable(store).touch(record.token_id, now):
        return None
    return replace(record, last_used_at=now)


def _record_values(record: TokenRecord) -> dict[str, Any]:
    return {item.name: getattr(record, item.name) for item in fields(record)}


def _audit_details(record: TokenRecord) -> dict[str, str | None]:
    return {
        "name": record.name,
        "role": record.role.value,
        "prefix": record.prefix,
        "expires_at": _iso(record.expires_at),
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _token_record(row: dict[str, Any]) -> TokenRecord:
    return TokenRecord(**{**row, "role": Role(row["role"])})

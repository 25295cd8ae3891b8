"""Customer portal tokens: a bearer token tied to one profile, for ``/v1/portal/*`` only.

A portal token looks like ``cpt_<prefix>_<secret>`` and lives in its own table
(``portal_tokens``), so it can never pass for a staff API token (``cus_…``, checked by
:mod:`custodia.privacy.tokens`) and a staff token can never pass for it: each verifier accepts
only its own shape and looks only in its own table. Like staff tokens, only the SHA-256 digest of
the 256-bit secret is stored (see :mod:`custodia.privacy.tokens` for why a fast hash is right).

A portal token always expires (default 30 days, at most 90): it is handed to a customer through
channels staff do not control (an email link, an app session), so it must not live for ever.
Issuing one writes one audit entry about the customer (it shows in their data-usage trail).

Example::

    issued = issue_portal_token(store, "prf_1", created_by="token:desk-1")
    send_to_customer(issued.token)                 # shown once, never stored
    record = verify_portal_token(store, issued.token)
    assert record is not None and record.profile_id == "prf_1"
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Final

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import AuthenticationError, ValidationError
from custodia.core.ids import new_id
from custodia.privacy.audit_events import PrivacyEvent, check_surrogate
from custodia.privacy.tokens import refusal_reason
from custodia.storage.store import OperationalStore
from custodia.storage.store_tokens import PortalTokenTable

__all__ = [
    "DEFAULT_PORTAL_TOKEN_LIFETIME",
    "MAX_PORTAL_TOKEN_LIFETIME",
    "PORTAL_TOKEN_SCHEME",
    "IssuedPortalToken",
    "PortalTokenRecord",
    "issue_portal_token",
    "require_portal_token",
    "revoke_portal_token",
    "verify_portal_token",
]

PORTAL_TOKEN_SCHEME: Final = "cpt"  # noqa: S105 - a format tag, not a secret
DEFAULT_PORTAL_TOKEN_LIFETIME: Final = timedelta(days=30)
MAX_PORTAL_TOKEN_LIFETIME: Final = timedelta(days=90)
_LAST_USED_RESOLUTION: Final = timedelta(seconds=60)
_SHAPE: Final = re.compile(rf"{PORTAL_TOKEN_SCHEME}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{16,128}})")


@dataclass(frozen=True, slots=True)
class PortalTokenRecord:
    """What is known about a portal token, without its secret or digest."""

    token_id: str
    profile_id: str
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def actor(self) -> str:
        """How the token's holder appears in the audit log: ``portal:<token id>``."""
        return f"portal:{self.token_id}"

    def is_active(self, at: datetime) -> bool:
        """Not revoked and not expired at ``at``."""
        return self.revoked_at is None and at < self.expires_at


@dataclass(frozen=True, slots=True)
class IssuedPortalToken:
    """A fresh portal token; ``token`` is the only copy of the plaintext (kept out of repr)."""

    token: str = field(repr=False)
    record: PortalTokenRecord


def issue_portal_token(
    store: OperationalStore,
    profile_id: str,
    created_by: str,
    *,
    expires_in: timedelta = DEFAULT_PORTAL_TOKEN_LIFETIME,
    clock: Clock | None = None,
) -> IssuedPortalToken:
    """A token for the customer ``profile_id`` (a live profile id the caller resolved)."""
    check_surrogate("profile_id", profile_id)
    if not timedelta(0) < expires_in <= MAX_PORTAL_TOKEN_LIFETIME:
        days = MAX_PORTAL_TOKEN_LIFETIME.days
        raise ValidationError("expires_in", "range", f"expires_in: 0 to {days} days")
    if not created_by.strip():
        raise ValidationError("created_by", "not_blank")
    now = (clock or SystemClock()).now()
    record = PortalTokenRecord(
        new_id("ptk"), profile_id, secrets.token_hex(6), now,
        PortalTokenTable.fits("created_by", created_by), now + expires_in, None, None,
    )  # fmt: skip
    token = f"{PORTAL_TOKEN_SCHEME}_{record.prefix}_{secrets.token_urlsafe(32)}"
    event = PrivacyEvent("token.issue", "portal_tokens", subject_ref=profile_id,
                         refs={"token_id": record.token_id})  # fmt: skip
    values = {f.name: getattr(record, f.name) for f in fields(record)}
    PortalTokenTable(store, clock).insert(
        values, _digest(token), actor=created_by, audit=event.details(), subject_ref=profile_id
    )
    return IssuedPortalToken(token, record)


def verify_portal_token(
    store: OperationalStore, token: str, *, clock: Clock | None = None
) -> PortalTokenRecord | None:
    """The record of a valid portal token; ``None`` if malformed, unknown, revoked or expired
    (a staff ``cus_…`` token is malformed here)."""
    match = _SHAPE.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        return None
    table = PortalTokenTable(store, clock)
    found = table.find_by_prefix(match.group(1))
    if found is None or not hmac.compare_digest(found[1], _digest(token)):
        return None
    record = PortalTokenRecord(**found[0])
    now = (clock or SystemClock()).now()
    if not record.is_active(now):
        return None
    if record.last_used_at is not None and now - record.last_used_at < _LAST_USED_RESOLUTION:
        return record
    return replace(record, last_used_at=now) if table.touch(record.token_id, now) else None


def portal_token_refusal(
    store: OperationalStore, token: str, now: datetime, clock: Clock
) -> tuple[str, str | None]:
    """Why a portal token is refused and its public prefix (for the refusal audit)."""
    table = PortalTokenTable(store, clock)
    return refusal_reason(
        token, _SHAPE, table.find_by_prefix, _digest, lambda row: PortalTokenRecord(**row), now
    )


def require_portal_token(
    store: OperationalStore, token: str | None, *, clock: Clock | None = None
) -> PortalTokenRecord:
    """Like :func:`verify_portal_token`, raising AuthenticationError (which check failed is
    not said, so the error cannot be used to probe tokens)."""
    record = None if token is None else verify_portal_token(store, token, clock=clock)
    if record is None:
        raise AuthenticationError("missing, invalid, revoked or expired portal token")
    return record


def revoke_portal_token(
    store: OperationalStore, token_id: str, revoked_by: str, *, clock: Clock | None = None
) -> bool:
    """Revoke a portal token for good; False if unknown or already revoked."""
    now = (clock or SystemClock()).now()
    return PortalTokenTable(store, clock).revoke(token_id, now, actor=revoked_by)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()

"""Persistence of API tokens in the operational store (the ``api_tokens`` table).

Only digests are stored; rows handed out never carry them except to the one lookup that must
compare. Token format, hashing and policy live in :mod:`custodia.privacy.tokens`; this module only
reads and writes rows, and writes the audit entry of a change in the same transaction.

Example::

    table = TokenTable(store)
    found = table.find_by_prefix("a1b2c3d4e5f6")   # (public values, digest) or None
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from custodia.core.clock import Clock
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import api_tokens, check_fits

# Every column except token_hash: rows handed out never carry the digest.
PUBLIC_COLUMNS = tuple(column.name for column in api_tokens.c if column.name != "token_hash")
_PUBLIC = tuple(api_tokens.c[name] for name in PUBLIC_COLUMNS)


class TokenTable:
    """Rows of ``api_tokens``: insert, find by prefix, revoke, touch, list."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def fits(column: str, value: str) -> str:
        """Refuse a value longer than the column allows (a ValidationError naming the column)."""
        return check_fits(api_tokens.c[column], value)

    def insert(
        self, values: Mapping[str, Any], token_hash: str, *, actor: str, audit: object
    ) -> None:
        """Store a new token row and its ``token.issue`` audit entry, atomically."""
        with self._store.begin() as conn:
            conn.execute(api_tokens.insert().values(**values, token_hash=token_hash))
            AuditLog(self._store, self._clock).append(
                actor,
                "token.issue",
                "api_tokens",
                subject_ref=str(values["token_id"]),
                details=audit,
                conn=conn,
            )

    def find_by_prefix(self, prefix: str) -> tuple[dict[str, Any], str] | None:
        """The public values and the digest of the token with this prefix, if any."""
        with self._store.read() as conn:
            query = select(*_PUBLIC, api_tokens.c.token_hash).where(api_tokens.c.prefix == prefix)
            row = conn.execute(query).first()
        if row is None:
            return None
        return {name: getattr(row, name) for name in PUBLIC_COLUMNS}, str(row.token_hash)

    def revoke(self, token_id: str, at: datetime, *, actor: str) -> bool:
        """Set ``revoked_at`` once, with its audit entry; False if nothing changed."""
        statement = (
            update(api_tokens)
            .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        with self._store.begin() as conn:
            if conn.execute(statement).rowcount != 1:
                return False
            AuditLog(self._store, self._clock).append(
                actor, "token.revoke", "api_tokens", subject_ref=token_id, conn=conn
            )
        return True

    def touch(self, token_id: str, at: datetime) -> bool:
        """Record a use; False if the token was revoked meanwhile."""
        statement = (
            update(api_tokens)
            .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(last_used_at=at)
        )
        with self._store.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)

    def list(self, *, include_revoked: bool) -> list[dict[str, Any]]:
        """Public values of every token, oldest first."""
        query = select(*_PUBLIC).order_by(api_tokens.c.created_at, api_tokens.c.token_id)
        if not include_revoked:
            query = query.where(api_tokens.c.revoked_at.is_(None))
        with self._store.read() as conn:
            return [
                {name: getattr(row, name) for name in PUBLIC_COLUMNS} for row in conn.execute(query)
            ]

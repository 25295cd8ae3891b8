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
from typing import Any, ClassVar

from sqlalchemy import Column, Table, select, update

from custodia.core.clock import Clock
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import api_tokens, check_fits, portal_tokens


def _public(table: Table) -> tuple[Column[Any], ...]:
    """Every column except token_hash: rows handed out never carry the digest."""
    return tuple(column for column in table.c if column.name != "token_hash")


class TokenTable:
    """Rows of ``api_tokens``: insert, find by prefix, revoke, touch, list.

    :class:`PortalTokenTable` is the same for customer portal tokens, in a table of their own.
    """

    TABLE: ClassVar[Table] = api_tokens

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock
        self._t = self.TABLE
        self._public = _public(self.TABLE)

    @classmethod
    def fits(cls, column: str, value: str) -> str:
        """Refuse a value longer than the column allows (a ValidationError naming the column)."""
        return check_fits(cls.TABLE.c[column], value)

    def insert(
        self,
        values: Mapping[str, Any],
        token_hash: str,
        *,
        actor: str,
        audit: object,
        action: str = "token.issue",
        subject_ref: str | None = None,
    ) -> None:
        """Store a new token row and its audit entry (``action`` about ``subject_ref``, by
        default the token itself), atomically."""
        with self._store.begin() as conn:
            conn.execute(self._t.insert().values(**values, token_hash=token_hash))
            AuditLog(self._store, self._clock).append(
                actor,
                action,
                self._t.name,
                subject_ref=subject_ref or str(values["token_id"]),
                details=audit,
                conn=conn,
            )

    def find_by_prefix(self, prefix: str) -> tuple[dict[str, Any], str] | None:
        """The public values and the digest of the token with this prefix, if any."""
        with self._store.read() as conn:
            query = select(*self._public, self._t.c.token_hash).where(self._t.c.prefix == prefix)
            row = conn.execute(query).first()
        if row is None:
            return None
        return {c.name: getattr(row, c.name) for c in self._public}, str(row.token_hash)

    def revoke(
        self,
        token_id: str,
        at: datetime,
        *,
        actor: str,
        action: str = "token.revoke",
        subject_ref: str | None = None,
        details: object = None,
    ) -> bool:
        """Set ``revoked_at`` once, with its audit entry (``action`` about ``subject_ref``, by
        default the token itself); False if nothing changed."""
        statement = (
            update(self._t)
            .where(self._t.c.token_id == token_id, self._t.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        with self._store.begin() as conn:
            if conn.execute(statement).rowcount != 1:
                return False
            AuditLog(self._store, self._clock).append(
                actor,
                action,
                self._t.name,
                subject_ref=subject_ref or token_id,
                details=details,
                conn=conn,
            )
        return True

    def touch(self, token_id: str, at: datetime) -> bool:
        """Record a use; False if the token was revoked meanwhile."""
        statement = (
            update(self._t)
            .where(self._t.c.token_id == token_id, self._t.c.revoked_at.is_(None))
            .values(last_used_at=at)
        )
        with self._store.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)

    def list(self, *, include_revoked: bool) -> list[dict[str, Any]]:
        """Public values of every token, oldest first."""
        query = select(*self._public).order_by(self._t.c.created_at, self._t.c.token_id)
        if not include_revoked:
            query = query.where(self._t.c.revoked_at.is_(None))
        with self._store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]


class PortalTokenTable(TokenTable):
    """Rows of ``portal_tokens``: customer tokens, each tied to one profile."""

    TABLE: ClassVar[Table] = portal_tokens

"""Persistence of what customers ask for in the portal: expiries on their own data
(``user_expiries``) and access or erasure requests (``subject_requests``).

Rows and their audit entries are written in one transaction; the rules (which fields and
categories exist, which kinds of request, who may do what) live in the privacy domain and the
portal pipeline. Rows hold names and surrogate keys only, never a value of the person's data.

Example::

    expiries = UserExpiryTable(store)
    expiries.insert(row, actor="portal:tok_1", action="expiry.set", details={"outcome": "done"})
    expiries.due(at=now)            # what the retention job removes next
    requests = SubjectRequestTable(store)
    requests.open_of("prf_1", "export")
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Table, select, update

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import NotFoundError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import subject_requests, user_expiries

__all__ = ["OPEN_REQUEST_STATUSES", "SubjectRequestTable", "UserExpiryTable"]

OPEN_REQUEST_STATUSES = ("received", "in_progress")


class _AuditedRows:
    """Rows of one table keyed by ``KEY``: insert with an audit entry, list a profile's rows."""

    TABLE: ClassVar[Table]
    KEY: ClassVar[str]

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def insert(
        self, row: Mapping[str, Any], *, actor: str, action: str, details: object
    ) -> dict[str, Any]:
        """Store ``row`` and its one audit entry about ``row['profile_id']``, atomically."""
        with self._store.begin() as conn:
            conn.execute(self.TABLE.insert().values(dict(row)))
            AuditLog(self._store, self._clock).append(
                actor, action, self.TABLE.name, subject_ref=row["profile_id"], details=details,
                conn=conn,
            )  # fmt: skip
        return self.get(str(row[self.KEY]))

    def get(self, key: str) -> dict[str, Any]:
        """One row; NotFoundError if unknown."""
        query = select(self.TABLE).where(self.TABLE.c[self.KEY] == key)
        with self._store.read() as conn:
            found = conn.execute(query).first()
        if found is None:
            raise NotFoundError(f"{self.TABLE.name} {key} not found")
        return dict(found._mapping)

    def of_profiles(self, profile_ids: list[str], *, limit: int = 100) -> list[dict[str, Any]]:
        """Rows of these profiles (a person and the ids merged into them), newest first."""
        query = (
            select(self.TABLE)
            .where(self.TABLE.c.profile_id.in_(profile_ids))
            .order_by(self.TABLE.c.created_at.desc(), self.TABLE.c[self.KEY])
            .limit(limit)
        )
        with self._store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]


class UserExpiryTable(_AuditedRows):
    """Rows of ``user_expiries``; the retention job reads :meth:`due` and calls
    :meth:`mark_enforced` with its receipt."""

    TABLE = user_expiries
    KEY = "expiry_id"

    def due(self, *, at: datetime, limit: int = 1000) -> list[dict[str, Any]]:
        """Pending expiries whose time has come, oldest first."""
        query = (
            select(user_expiries)
            .where(user_expiries.c.status == "pending", user_expiries.c.expires_at <= at)
            .order_by(user_expiries.c.expires_at, user_expiries.c.expiry_id)
            .limit(limit)
        )
        with self._store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def cancel(
        self, expiry_id: str, profile_ids: list[str], *, actor: str, action: str, details: object
    ) -> dict[str, Any]:
        """Cancel a pending expiry of these profiles, with its audit entry, atomically;
        NotFoundError if there is no such pending expiry of theirs."""
        statement = (
            update(user_expiries)
            .where(
                user_expiries.c.expiry_id == expiry_id,
                user_expiries.c.profile_id.in_(profile_ids),
                user_expiries.c.status == "pending",
            )
            .values(status="cancelled")
        )
        with self._store.begin() as conn:
            if conn.execute(statement).rowcount != 1:
                raise NotFoundError(f"pending expiry {expiry_id} not found")
            AuditLog(self._store, self._clock).append(
                actor, action, self.TABLE.name, subject_ref=profile_ids[0], details=details,
                conn=conn,
            )  # fmt: skip
        return self.get(expiry_id)

    def mark_enforced(self, expiry_id: str, *, at: datetime, receipt_id: str) -> bool:
        """Record that the data was removed (once); False if it was not pending."""
        statement = (
            update(user_expiries)
            .where(user_expiries.c.expiry_id == expiry_id, user_expiries.c.status == "pending")
            .values(status="enforced", enforced_at=at, receipt_id=receipt_id)
        )
        with self._store.begin() as conn:
            return bool(conn.execute(statement).rowcount == 1)


class SubjectRequestTable(_AuditedRows):
    """Rows of ``subject_requests``: customers' export and erasure requests with their status."""

    TABLE = subject_requests
    KEY = "request_id"

    def open_of(self, profile_ids: list[str], kind: str) -> dict[str, Any] | None:
        """The person's request of ``kind`` that is not finished yet, if any."""
        query = select(subject_requests).where(
            subject_requests.c.profile_id.in_(profile_ids),
            subject_requests.c.kind == kind,
            subject_requests.c.status.in_(OPEN_REQUEST_STATUSES),
        )
        with self._store.read() as conn:
            found = conn.execute(query.limit(1)).first()
        return None if found is None else dict(found._mapping)

    def set_status(
        self, request_id: str, status: str, *, at: datetime, receipt_id: str | None,
        actor: str, action: str, details: object,
    ) -> dict[str, Any]:  # fmt: skip
        """Move an open request to ``status`` (with the receipt that fulfilled it) and write its
        audit entry, atomically; NotFoundError if it is unknown or already finished."""
        statement = (
            update(subject_requests)
            .where(
                subject_requests.c.request_id == request_id,
                subject_requests.c.status.in_(OPEN_REQUEST_STATUSES),
            )
            .values(status=status, updated_at=at, receipt_id=receipt_id)
        )
        with self._store.begin() as conn:
            if conn.execute(statement).rowcount != 1:
                raise NotFoundError(f"open request {request_id} not found")
            row = conn.execute(
                select(subject_requests.c.profile_id).where(
                    subject_requests.c.request_id == request_id
                )
            ).scalar_one()
            AuditLog(self._store, self._clock).append(
                actor, action, self.TABLE.name, subject_ref=row, details=details, conn=conn
            )
        return self.get(request_id)

    def with_status(self, status: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Requests in ``status``, oldest first: the privacy officer's queue."""
        query = (
            select(subject_requests)
            .where(subject_requests.c.status == status)
            .order_by(subject_requests.c.created_at, subject_requests.c.request_id)
            .limit(limit)
        )
        with self._store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

"""Persistence of unmask requests and their approvers' decisions (``unmask_requests``,
``unmask_approvals``).

Only rows and their audit entries live here; the rules (who may approve, how many approvals a
tier needs, expiry) are in :mod:`custodia.privacy.unmask`. Every change is written with its audit
entry in the same transaction, and a decision re-reads the request inside that transaction, so
two approvers deciding at once cannot both count as "the last approval needed".

Example::

    table = UnmaskRequestTable(store)
    table.insert(row, actor="token:risk-1")
    table.decide("umr_1", decision_row, status_after=lambda r, d: "approved", actor="token:po")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import NotFoundError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import unmask_approvals, unmask_requests

__all__ = ["UnmaskRequestTable"]

StatusRule = Callable[[dict[str, Any], list[dict[str, Any]]], str]
"""Given the request and all its decisions (the new one included), the request's new status."""


class UnmaskRequestTable:
    """Rows of ``unmask_requests`` with their decisions."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def insert(self, row: Mapping[str, Any], *, actor: str, details: object) -> None:
        """Store a new request with its ``unmask.request`` audit entry."""
        with self._store.begin() as conn:
            conn.execute(unmask_requests.insert().values(dict(row)))
            self._audit(conn, actor, "unmask.request", row, details)

    def get(self, request_id: str) -> dict[str, Any]:
        """The request with its ``decisions`` (oldest first); NotFoundError if unknown."""
        with self._store.read() as conn:
            return _read(conn, request_id)

    def list(self, *, profile_id: str | None = None, status: str | None = None,
             limit: int = 100) -> list[dict[str, Any]]:  # fmt: skip
        """Requests, newest first, optionally of one profile or status."""
        query = select(unmask_requests).order_by(unmask_requests.c.created_at.desc()).limit(limit)
        if profile_id is not None:
            query = query.where(unmask_requests.c.profile_id == profile_id)
        if status is not None:
            query = query.where(unmask_requests.c.status == status)
        with self._store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def decide(
        self,
        request_id: str,
        decision: Mapping[str, Any],
        *,
        check: Callable[[dict[str, Any]], None],
        status_after: StatusRule,
        actor: str,
        details: object,
    ) -> dict[str, Any]:
        """Record one approver's decision; ``check`` may refuse it after the request is re-read
        under the write lock. Returns the request as it is afterwards."""
        with self._store.begin() as conn:
            request = _read(conn, request_id, lock=True)
            check(request)
            conn.execute(unmask_approvals.insert().values(request_id=request_id, **decision))
            request = _read(conn, request_id)
            status = status_after(request, request["decisions"])
            if status != request["status"]:
                conn.execute(
                    update(unmask_requests)
                    .where(unmask_requests.c.request_id == request_id)
                    .values(status=status, decided_at=decision["decided_at"])
                )
            action = f"unmask.{decision['decision']}"
            self._audit(conn, actor, action, request, details)
            return _read(conn, request_id)

    def audit(self, actor: str, action: str, *, profile_id: str | None, details: object) -> None:
        """One audit entry about an unmask request or an unmasked read (no values in it)."""
        AuditLog(self._store, self._clock).append(
            actor, action, "unmask_requests", subject_ref=profile_id, details=details
        )

    def _audit(
        self, conn: Connection, actor: str, action: str, row: Mapping[str, Any], details: object
    ) -> None:
        AuditLog(self._store, self._clock).append(
            actor, action, "unmask_requests", subject_ref=row["profile_id"], details=details,
            conn=conn,
        )  # fmt: skip


def _read(conn: Connection, request_id: str, *, lock: bool = False) -> dict[str, Any]:
    """The request and its decisions; ``lock`` holds the request row until the transaction ends
    (PostgreSQL; SQLite's write transaction already excludes other writers), so concurrent
    approvers are counted one after the other."""
    query = select(unmask_requests).where(unmask_requests.c.request_id == request_id)
    found = conn.execute(query.with_for_update() if lock else query).first()
    if found is None:
        raise NotFoundError(f"unmask request {request_id} not found")
    decisions = conn.execute(
        select(unmask_approvals)
        .where(unmask_approvals.c.request_id == request_id)
        .order_by(unmask_approvals.c.decided_at, unmask_approvals.c.approver_token_id)
    )
    return {**found._mapping, "decisions": [dict(row._mapping) for row in decisions]}

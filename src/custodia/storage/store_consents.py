"""Persistence of the consent ledger (``consents``): append a choice, read the newest ones.

Rows are never updated or deleted: a withdrawal is a new row, and the newest row (highest
``seq``) per profile and purpose is the current choice. Appending a row and writing its one
``consent.grant`` / ``consent.withdraw`` audit entry (built by the privacy domain as a privacy
event) happen in the same transaction, so the ledger and the audit chain cannot disagree. The
rules (known purposes, expiry, minors) live in :mod:`custodia.privacy.consent`; this module only
reads and writes rows.

Nothing is cached: every read is its own query, so a withdrawal committed a moment ago is seen by
the next check.

Example::

    table = ConsentTable(store)
    new = NewConsentRow("cns_1", "prf_1", "marketing", "granted", "v3", "web", "customer")
    row = table.append(new, recorded_by="token:portal", action="consent.grant",
                       details={"outcome": "done", "purpose": "marketing"})
    table.latest_of_profile(["prf_1"], at=row.recorded_at)["marketing"].status   # 'granted'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select

from custodia.core.clock import Clock, SystemClock
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import JsonValue, check_fits, consents

__all__ = ["ConsentRow", "ConsentTable", "NewConsentRow"]


@dataclass(frozen=True, slots=True)
class NewConsentRow:
    """A choice about to be recorded (already validated by the privacy domain)."""

    consent_id: str
    profile_id: str
    purpose: str
    status: str
    notice_version: str | None
    channel: str
    actor: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """One stored consent record; ``seq`` orders records, the highest one wins."""

    seq: int
    consent_id: str
    profile_id: str
    purpose: str
    status: str
    notice_version: str | None
    channel: str
    actor: str
    recorded_by: str
    recorded_at: datetime
    expires_at: datetime | None


class ConsentTable:
    """Append-only rows of ``consents`` and the queries that find the newest ones."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def append(
        self, new: NewConsentRow, *, recorded_by: str, action: str, details: JsonValue
    ) -> ConsentRow:
        """Store one choice and its audit entry (``action`` and ``details`` from the privacy
        event the caller built, no personal data) in one transaction."""
        for column, value in (("profile_id", new.profile_id), ("actor", new.actor)):
            check_fits(consents.c[column], value)
        check_fits(consents.c.recorded_by, recorded_by)
        values = {**asdict(new), "recorded_by": recorded_by, "recorded_at": self._clock.now()}
        with self._store.begin() as conn:
            inserted = conn.execute(consents.insert().values(values)).inserted_primary_key
            assert inserted is not None
            AuditLog(self._store, self._clock).append(
                recorded_by, action, "consents", subject_ref=new.profile_id, details=details,
                conn=conn,
            )  # fmt: skip
        return ConsentRow(seq=int(inserted[0]), **values)

    def audit(self, recorded_by: str, action: str, subject_ref: str, details: JsonValue) -> None:
        """One audit entry about the ledger that changes no row (a refused choice)."""
        AuditLog(self._store, self._clock).append(
            recorded_by, action, "consents", subject_ref=subject_ref, details=details
        )

    def history(self, profile_ids: Sequence[str]) -> list[ConsentRow]:
        """Every record of the given profile ids (one person and their merged aliases), oldest
        first."""
        c = consents.c
        query = select(consents).where(c.profile_id.in_(profile_ids)).order_by(c.seq)
        with self._store.read() as conn:
            return [_row(row) for row in conn.execute(query)]

    def latest_of_profile(
        self, profile_ids: Sequence[str], *, at: datetime
    ) -> dict[str, ConsentRow]:
        """purpose -> the newest record made at or before ``at`` under any of ``profile_ids``."""
        c = consents.c
        newest = (
            select(func.max(c.seq))
            .where(c.profile_id.in_(profile_ids), c.recorded_at <= at)
            .group_by(c.purpose)
        )
        query = select(consents).where(c.seq.in_(newest))
        with self._store.read() as conn:
            return {row.purpose: _row(row) for row in conn.execute(query)}

    def latest_for_purpose(self, purpose: str, *, at: datetime) -> list[ConsentRow]:
        """The newest record of every profile id for ``purpose`` made at or before ``at``,
        whatever it says; one query, however many profiles."""
        c = consents.c
        newest = (
            select(func.max(c.seq))
            .where(c.purpose == purpose, c.recorded_at <= at)
            .group_by(c.profile_id)
        )
        query = select(consents).where(c.seq.in_(newest)).order_by(c.profile_id)
        with self._store.read() as conn:
            return [_row(row) for row in conn.execute(query)]


def _row(row: Row[Any]) -> ConsentRow:
    return ConsentRow(**row._asdict())

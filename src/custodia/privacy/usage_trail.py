"""A customer's data-usage trail: who used which of their data, for what, and when.

Read from the audit chain: every entry whose ``subject_ref`` is one of the person's profile ids
(a person whose profiles merged has several; the caller resolves them). Privacy events
(:mod:`custodia.privacy.audit_events`) carry purpose, fields and outcome; other entries about
the person (an identity unmerge, a review decision) appear with what they have. The trail holds
names and surrogate keys only, never values, so it can be shown to the customer too (the portal).

Example::

    trail = usage_trail(AuditLog(ws.store), ["prof_3f2a"], limit=50)
    [(use.at, use.actor, use.purpose, use.fields) for use in trail.uses]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from custodia.core.errors import ValidationError
from custodia.storage.store import AuditEntry, AuditLog

__all__ = ["MAX_TRAIL_PAGE", "DataUse", "UsageTrail", "usage_trail"]

MAX_TRAIL_PAGE: Final = 500


@dataclass(frozen=True, slots=True)
class DataUse:
    """One use of a person's data: the audit entry ``seq`` seen from the person's side."""

    seq: int
    at: datetime
    actor: str
    action: str
    resource: str
    purpose: str | None
    fields: list[str]
    outcome: str | None


@dataclass(frozen=True, slots=True)
class UsageTrail:
    """A page of uses, newest first; ``next_before_seq`` asks for the next (older) page."""

    subject_refs: list[str]
    uses: list[DataUse]
    next_before_seq: int | None


def usage_trail(
    audit: AuditLog,
    subject_refs: Sequence[str],
    *,
    limit: int = 100,
    before_seq: int | None = None,
) -> UsageTrail:
    """The newest ``limit`` uses of the data of ``subject_refs`` (before ``before_seq``)."""
    if not 1 <= limit <= MAX_TRAIL_PAGE:
        raise ValidationError("limit", "range", f"limit: must be 1 to {MAX_TRAIL_PAGE}")
    if not subject_refs:
        raise ValidationError("subject_refs", "required", "subject_refs: name at least one")
    entries = audit.entries(subject_refs=subject_refs, limit=limit, before_seq=before_seq)
    uses = [_use(entry) for entry in entries]
    more = len(uses) == limit
    return UsageTrail(list(subject_refs), uses, uses[-1].seq if more else None)


def _use(entry: AuditEntry) -> DataUse:
    details = entry.details if isinstance(entry.details, dict) else {}
    purpose = details.get("purpose")
    fields = details.get("fields")
    outcome = details.get("outcome")
    return DataUse(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        resource=entry.resource,
        purpose=purpose if isinstance(purpose, str) else None,
        fields=[f for f in fields if isinstance(f, str)] if isinstance(fields, list) else [],
        outcome=outcome if isinstance(outcome, str) else None,
    )

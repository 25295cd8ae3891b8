"""Tracking plan violations in the quarantine, and the events a plan lets through.

One entry per event and broken rule: ``open`` when the event was blocked (a replay loads it once
the plan or the data is fixed), ``flagged`` when it was stored anyway (kept for review). The
payload is the message itself, so a replay can validate it again from scratch.

Example::

    screened = screen_events(rows, plan, run_id=run_id, source_file="eventlog:e1")
    store(screened.kept)
    Quarantine(lake).add(screened.entries, loaded_at=now)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from custodia.collect.quarantine import QuarantineEntry
from custodia.collect.tracking_plan import (
    TrackingPlan,
    Violation,
    check_event,
    is_blocked,
    message_document,
)

__all__ = ["Screened", "replay_message", "screen_events", "violation_entries"]

_MAX_REASONS = 5


class Breach(Protocol):
    """A broken rule, from a tracking plan (:class:`Violation`) or a quality rule checked at
    entry (``custodia.quality.entry.EntryViolation``)."""

    @property
    def rule(self) -> str: ...

    @property
    def field(self) -> str: ...

    @property
    def reason(self) -> str: ...


def violation_entries(
    violations: Sequence[Breach],
    *,
    blocked: bool | None = None,
    payload: str,
    source: str,
    entity: str,
    received_at: datetime,
    run_id: str,
    source_file: str | None = None,
    position: int | None = None,
) -> list[QuarantineEntry]:
    """Quarantine entries for one event's violations: one per rule.

    A blocked event's entries are ``open`` (replay loads it once the plan or the data is fixed);
    a stored event's entries are ``flagged`` (kept for review; nothing to replay). ``blocked``
    says which it is; by default, whether a plan violation blocks the event.
    """
    if blocked is None:
        blocked = is_blocked(v for v in violations if isinstance(v, Violation))
    status = "open" if blocked else "flagged"
    by_rule: dict[str, list[Breach]] = {}
    for violation in violations:
        by_rule.setdefault(violation.rule, []).append(violation)
    return [
        QuarantineEntry(
            source=source,
            kind="event",
            entity=entity,
            rule=rule,
            field=found[0].field,
            reason=_joined_reasons(found),
            payload=payload,
            received_at=received_at,
            run_id=run_id,
            source_file=source_file,
            position=position,
            status=status,
        )
        for rule, found in by_rule.items()
    ]


def _joined_reasons(found: Sequence[Breach]) -> str:
    reasons = [v.reason for v in found[:_MAX_REASONS]]
    more = len(found) - _MAX_REASONS
    return "; ".join(reasons) + (f"; and {more} more" if more > 0 else "")


def replay_message(row: Mapping[str, Any]) -> dict[str, Any]:
    """An ``events`` row as the Segment message that :func:`normalize_message` turns back into
    the same row (with the same ``receivedAt``): what the quarantine keeps of an event that was
    checked after it was normalized, e.g. by the HTTP collector's loader."""
    message = {k: v for k, v in message_document(row).items() if k not in _DERIVED_TIMES}
    for name, column in (("originalTimestamp", "original_timestamp"), ("sentAt", "sent_at")):
        value = row.get(column)
        if isinstance(value, datetime):
            message[name] = value.isoformat().replace("+00:00", "Z")
    return message


_DERIVED_TIMES = frozenset({"timestamp", "sentAt", "receivedAt"})


@dataclass
class Screened:
    """Rows a plan lets through, and the quarantine entries of every violation."""

    kept: list[dict[str, Any]] = field(default_factory=list)
    entries: list[QuarantineEntry] = field(default_factory=list)
    blocked: int = 0
    flagged: int = 0


def screen_events(
    rows: Sequence[dict[str, Any]],
    plan: TrackingPlan | None,
    *,
    run_id: str,
    entity: str = "events",
    source_file: str | None = None,
) -> Screened:
    """Apply ``plan`` to normalized ``events`` rows: blocked rows are left out, and every
    violation becomes a quarantine entry (payload: :func:`replay_message`).

    Example::

        screened = screen_events(rows, plan, run_id=run_id, source_file="eventlog:e1")
        store(screened.kept); Quarantine(lake).add(screened.entries, loaded_at=now)
    """
    screened = Screened()
    for row in rows:
        violations = check_event(row, plan) if plan is not None else []
        blocked = is_blocked(violations)
        if not blocked:
            screened.kept.append(row)
        if not violations:
            continue
        screened.blocked += blocked
        screened.flagged += not blocked
        screened.entries += violation_entries(
            violations,
            payload=json.dumps(replay_message(row), ensure_ascii=False, separators=(",", ":")),
            source=str(row.get("source")),
            entity=entity,
            received_at=row["received_at"],
            run_id=run_id,
            source_file=source_file,
        )
    return screened

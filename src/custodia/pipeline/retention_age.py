"""Age limits of the retention policy: rows older than their rule's maximum age go.

Per table, the rules without ``columns`` give one cutoff (the shortest age wins) and the rows
older than it are deleted by key; then each rule with ``columns`` clears those columns of the
remaining rows older than its own cutoff. Age is the table's ``time_column`` in
:mod:`custodia.core.tables`; order lines take their order's time (their own ``loaded_at`` once
the order is gone).

Rules with a consent ``purpose`` apply ``max_age_days_if_withdrawn`` to the rows of each person
whose latest choice for the purpose is a withdrawal (found with the erasure's person scope).

Example::

    outcomes = apply_age_limits(ws, policy, LakeEdits(ws, apply=True), now=ws.clock.now())
    outcomes[0].rule, outcomes[0].table, outcomes[0].rows
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel

from custodia.core.sql_text import quote_ident
from custodia.core.tables import table_spec
from custodia.pipeline.consent_subjects import RegistryMerges
from custodia.pipeline.privacy_scope import person_scope
from custodia.pipeline.retention_writes import LakeEdits
from custodia.privacy.retention import AGE_TABLES, RetentionPolicy, RetentionRule
from custodia.storage.store_consents import ConsentTable
from custodia.storage.store_identity import IdentityGraphStore
from custodia.workspace import Workspace

__all__ = ["AgeOutcome", "apply_age_limits", "withdrawn_profiles"]

Progress = Callable[[str, int, int], None]
_ORDER_LINES_TIME: Final = (
    "COALESCE((SELECT o.ordered_at FROM orders AS o WHERE o.order_id = t.order_id), t.loaded_at)"
)
_CHUNK: Final = 400


class AgeOutcome(BaseModel):
    """What one rule removed from one table (``columns`` empty: whole rows)."""

    rule: str
    table: str
    max_age_days: int
    cutoff: datetime
    rows: int
    columns: list[str] = []
    withdrawn_purpose: str | None = None


def apply_age_limits(
    ws: Workspace, policy: RetentionPolicy, edits: LakeEdits, *, now: datetime,
    progress: Progress | None = None,
) -> list[AgeOutcome]:  # fmt: skip
    """Apply every rule of ``policy``; one outcome per rule, table and kind of limit."""
    outcomes: list[AgeOutcome] = []
    tables = [t for t in AGE_TABLES if policy.rules_for(t) and edits.exists(t)]
    for done, table in enumerate(tables):
        if progress is not None:
            progress(f"age limits: {table}", done, len(tables))
        outcomes += _table_limits(edits, table, policy.rules_for(table), now)
    outcomes += _withdrawn_limits(ws, policy, edits, now)
    return [o for o in outcomes if o.rows]


def _table_limits(
    edits: LakeEdits, table: str, rules: list[RetentionRule], now: datetime
) -> list[AgeOutcome]:
    key = table_spec(table).key[0]
    outcomes = []
    whole = [r for r in rules if not r.columns]
    if whole:
        rule = min(whole, key=lambda r: r.max_age_days)
        cutoff = now - timedelta(days=rule.max_age_days)
        keys = [r[key] for r in edits.select(_older_sql(table, key), [cutoff])]
        rows = edits.delete(table, key, keys)
        outcomes.append(AgeOutcome(rule=rule.name, table=table, max_age_days=rule.max_age_days,
                                   cutoff=cutoff, rows=rows))  # fmt: skip
    for rule in (r for r in rules if r.columns):
        cutoff = now - timedelta(days=rule.max_age_days)
        outcomes.append(_clear_older(edits, table, key, rule, cutoff, None))
    return outcomes


def _clear_older(
    edits: LakeEdits,
    table: str,
    key: str,
    rule: RetentionRule,
    cutoff: datetime,
    among: Sequence[str] | None,
) -> AgeOutcome:
    """Clear ``rule.columns`` of the rows older than ``cutoff`` (only ``among`` if given)."""
    held = " OR ".join(f"t.{quote_ident(c)} IS NOT NULL" for c in rule.columns)
    keys = _older_keys(edits, table, key, cutoff, among, extra=f"({held})")
    rows = edits.read(table, key, keys, list(rule.columns))
    edits.update(table, key, [{**r, **dict.fromkeys(rule.columns)} for r in rows],
                 list(rule.columns))  # fmt: skip
    return AgeOutcome(rule=rule.name, table=table, max_age_days=rule.max_age_days, cutoff=cutoff,
                      rows=len(rows), columns=list(rule.columns))  # fmt: skip


def _older_sql(table: str, key: str, extra: str = "") -> str:
    spec = table_spec(table)
    time = (
        _ORDER_LINES_TIME if table == "order_lines" else f"t.{quote_ident(str(spec.time_column))}"
    )
    condition = f"{time} < ?" + (f" AND {extra}" if extra else "")
    return f"SELECT t.{quote_ident(key)} FROM {quote_ident(table)} AS t WHERE {condition}"


def _older_keys(
    edits: LakeEdits, table: str, key: str, cutoff: datetime, among: Sequence[str] | None,
    *, extra: str = "",
) -> list[str]:  # fmt: skip
    if among is None:
        return [r[key] for r in edits.select(_older_sql(table, key, extra), [cutoff])]
    found: list[str] = []
    for start in range(0, len(among), _CHUNK):
        chunk = list(among[start : start + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        within = f"t.{quote_ident(key)} IN ({marks})" + (f" AND {extra}" if extra else "")
        found += [r[key] for r in edits.select(_older_sql(table, key, within), [cutoff, *chunk])]
    return found


def _withdrawn_limits(
    ws: Workspace, policy: RetentionPolicy, edits: LakeEdits, now: datetime
) -> list[AgeOutcome]:
    outcomes: list[AgeOutcome] = []
    for rule in (r for r in policy.rules if r.purpose is not None):
        assert rule.purpose is not None and rule.max_age_days_if_withdrawn is not None
        cutoff = now - timedelta(days=rule.max_age_days_if_withdrawn)
        for table in (t for t in rule.tables if edits.exists(t)):
            keys = _withdrawn_keys(ws, edits, rule.purpose.value, table, now)
            outcome = _limit_keys(edits, table, rule, cutoff, keys)
            outcomes.append(outcome.model_copy(update={"withdrawn_purpose": rule.purpose.value}))
    return outcomes


def _limit_keys(
    edits: LakeEdits, table: str, rule: RetentionRule, cutoff: datetime, keys: list[str]
) -> AgeOutcome:
    key = table_spec(table).key[0]
    days = rule.max_age_days_if_withdrawn or 0
    if rule.columns:
        return _clear_older(edits, table, key, rule, cutoff, keys).model_copy(
            update={"max_age_days": days}
        )
    rows = edits.delete(table, key, _older_keys(edits, table, key, cutoff, keys))
    return AgeOutcome(rule=rule.name, table=table, max_age_days=days, cutoff=cutoff, rows=rows)


def _withdrawn_keys(
    ws: Workspace, edits: LakeEdits, purpose: str, table: str, now: datetime
) -> list[str]:
    """Keys (the table's own key) of the rows of people who withdrew ``purpose``."""
    key = table_spec(table).key[0]
    keys: list[str] = []
    for profile_id in withdrawn_profiles(ws, purpose, now):
        found = person_scope(ws, f"profile_id:{profile_id}").lake_keys.get(table)
        if found is not None:  # order lines are found through their orders: read their keys
            keys += [r[key] for r in edits.read(table, found.column, found.keys, [key])]
    return sorted(set(keys))


def withdrawn_profiles(ws: Workspace, purpose: str, now: datetime) -> list[str]:
    """Live profiles whose latest choice for ``purpose`` (over merged ids) is a withdrawal."""
    rows = ConsentTable(ws.store, ws.clock).latest_for_purpose(purpose, at=now)
    live = RegistryMerges(IdentityGraphStore(ws.store)).live([r.profile_id for r in rows])
    newest: dict[str, tuple[int, str]] = {}
    for row in rows:
        pid = live.get(row.profile_id, row.profile_id)
        if pid not in newest or newest[pid][0] < row.seq:
            newest[pid] = (row.seq, row.status)
    return sorted(pid for pid, (_seq, status) in newest.items() if status == "withdrawn")

"""Entry validation in the pipeline: the ``at_entry`` quality rules in force, applied wherever
records come in, so a bad value is caught at the door and nothing is lost.

- The HTTP collector judges the ``events`` rules it can see on the wire before it answers
  (:func:`collector_entry_rules`; :mod:`custodia.collect.entry_screen` says what it does).
- The event loader, Segment batch files and quarantine replay judge every ``events`` rule on
  the normalized row (:func:`screen_event_rows`, :func:`event_entries`).
- Connectors judge the rules of each staged table on the mapped rows of a target
  (:func:`screen_mapped_rows`), before they are merged.

What happens to a record that breaks a rule depends on the rule's action: ``reject`` and
``quarantine`` keep it out (a quarantine entry per broken rule, ``open``: ``custodia quarantine
replay`` validates it again and loads it once it passes); ``flag`` stores it and adds a
``flagged`` entry saying what is wrong. A bad record never sinks its batch.

Example::

    validators = entry_validators_in_force(ws)
    screened = screen_mapped_rows(rows, validators["customer_records"], compiled)
    screened.rows, screened.held, screened.flagged
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import pyarrow as pa

from custodia.collect.entry_screen import COLLECTOR_COLUMNS
from custodia.collect.mapping_arrow import MappingFailure
from custodia.collect.mapping_sql import FILE_COLUMN, POSITION_COLUMN, CompiledTarget
from custodia.collect.plan_quarantine import replay_message, screen_events, violation_entries
from custodia.collect.quarantine import QuarantineEntry
from custodia.collect.segment_rows import EVENT_COLUMNS, EventTuple, as_event_tuple, as_row_dict
from custodia.collect.tracking_plan import TrackingPlan
from custodia.core.tables import EVENTS
from custodia.pipeline.quality_rules_file import rules_in_force
from custodia.quality.entry import EntryValidator, EntryViolation, entry_validators
from custodia.workspace import Workspace

__all__ = [
    "MappedScreen",
    "collector_entry_rules",
    "entry_validators_in_force",
    "event_entries",
    "screen_event_rows",
    "screen_loaded_events",
    "screen_mapped_rows",
]

_EVENT_POSITIONS: Final = {name: i for i, name in enumerate(EVENT_COLUMNS)}
log = logging.getLogger(__name__)


def entry_validators_in_force(ws: Workspace) -> dict[str, EntryValidator]:
    """The ``at_entry`` rules of the rule set in force, compiled per table.

    A broken rule file never stops data coming in: the last valid copy or the shipped rules are
    in force then (:func:`rules_in_force`), and the problem is logged.
    """
    in_force = rules_in_force(ws)
    if in_force.error:
        log.warning("quality rules: %s; entry validation uses %s", in_force.error, in_force.origin)
    return entry_validators(in_force.ruleset)


def collector_entry_rules(ws: Workspace) -> EntryValidator | None:
    """The ``events`` rules the HTTP collector can judge on the wire (None: there are none)."""
    events = entry_validators_in_force(ws).get(EVENTS.name)
    return None if events is None else events.only(COLLECTOR_COLUMNS)


def event_entries(
    violations: Sequence[EntryViolation],
    *,
    payload: str,
    source: str,
    entity: str,
    received_at: datetime,
    run_id: str,
    source_file: str | None = None,
    position: int | None = None,
) -> list[QuarantineEntry]:
    """One quarantine entry per broken rule of an event: ``open`` when a rule keeps it out (a
    replay loads it once it passes), ``flagged`` when it is stored anyway."""
    return violation_entries(
        violations, blocked=any(v.blocks for v in violations), payload=payload, source=source,
        entity=entity, received_at=received_at, run_id=run_id, source_file=source_file,
        position=position,
    )  # fmt: skip


@dataclass
class EventScreen:
    """Loader rows the rules let through, and the quarantine entries of every violation."""

    kept: list[EventTuple] = field(default_factory=list)
    entries: list[QuarantineEntry] = field(default_factory=list)


def screen_event_rows(
    rows: Sequence[EventTuple], validator: EntryValidator, *, run_id: str, source_file: str
) -> EventScreen:
    """Judge the event loader's rows (JSON columns as UTF-8 text): rows that break a reject or
    quarantine rule are left out; every violation becomes an entry whose payload is the message
    a replay validates again (:func:`custodia.collect.plan_quarantine.replay_message`)."""
    screen = EventScreen()
    wanted = [(name, _EVENT_POSITIONS[name]) for name in validator.columns]
    for row in rows:
        violations = validator.check({name: row[i] for name, i in wanted})
        if not violations:
            screen.kept.append(row)
            continue
        if not any(v.blocks for v in violations):
            screen.kept.append(row)
        document = as_row_dict(row)
        screen.entries += event_entries(
            violations,
            payload=json.dumps(replay_message(document), ensure_ascii=False, separators=(",", ":")),
            source=str(document["source"]), entity=EVENTS.name,
            received_at=document["received_at"], run_id=run_id, source_file=source_file,
        )  # fmt: skip
    return screen


def screen_loaded_events(
    rows: list[EventTuple],
    plan: TrackingPlan | None,
    rules: EntryValidator | None,
    *,
    run_id: str,
    source_file: str,
) -> EventScreen:
    """The source's tracking plan, then the ``events`` rules marked ``at_entry``, over rows of
    one request or file (the event loader's and the Segment file loader's shared step): the rows
    neither keeps out, and every violation's quarantine entry (``open``: kept out, ``flagged``:
    stored anyway)."""
    screen = EventScreen(kept=rows)
    if plan is not None:
        screened = screen_events(
            [as_row_dict(row) for row in rows], plan, run_id=run_id, source_file=source_file
        )
        screen.kept = [as_event_tuple(row) for row in screened.kept]
        screen.entries += screened.entries
    if rules is not None and screen.kept:
        judged = screen_event_rows(screen.kept, rules, run_id=run_id, source_file=source_file)
        screen.kept = judged.kept
        screen.entries += judged.entries
    return screen


@dataclass
class MappedScreen:
    """A target's mapped rows after entry validation."""

    rows: pa.Table
    """The rows not kept out (flagged ones included)."""
    held: list[MappingFailure] = field(default_factory=list)
    """One failure per blocking rule a kept-out row breaks (quarantined, open)."""
    flagged: list[MappingFailure] = field(default_factory=list)
    """One per flag rule a stored row breaks (quarantined, flagged)."""


def screen_mapped_rows(
    rows: pa.Table, validator: EntryValidator, compiled: CompiledTarget
) -> MappedScreen:
    """Judge each mapped row of a target; failures name ``table.column`` and the rule, and say
    where the record came from (or carry the mapped row when rows are not one per record)."""
    columns = {name: rows.column(name).to_pylist() for name in validator.columns}
    screen = MappedScreen(rows)
    keep: list[bool] = []
    for index in range(rows.num_rows):
        violations = validator.check({name: values[index] for name, values in columns.items()})
        blocking = [v for v in violations if v.blocks]
        keep.append(not blocking)
        if violations:
            origin = _origin(rows, index, compiled)
            failures = [_failure(compiled.table, v, origin) for v in blocking or violations]
            (screen.held if blocking else screen.flagged).extend(failures)
    if screen.held:
        screen.rows = rows.filter(pa.array(keep, pa.bool_()))
    return screen


def _origin(
    rows: pa.Table, index: int, compiled: CompiledTarget
) -> tuple[str | None, int | None, dict[str, Any]]:
    if compiled.located:
        located = rows.column(FILE_COLUMN)[index], rows.column(POSITION_COLUMN)[index]
        return located[0].as_py(), located[1].as_py(), {}
    extra = set(compiled.extra_columns)
    row = rows.slice(index, 1).to_pylist()[0]
    return None, None, {k: v for k, v in row.items() if k not in extra}


def _failure(
    table: str, violation: EntryViolation, origin: tuple[str | None, int | None, Mapping[str, Any]]
) -> MappingFailure:
    source_file, position, row = origin
    return MappingFailure(
        violation.rule, f"{table}.{violation.field}", violation.reason, source_file, position,
        dict(row),
    )  # fmt: skip

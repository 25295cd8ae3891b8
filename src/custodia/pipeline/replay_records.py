"""Replay quarantined lines and records of a batch source through its (fixed) mapping.

- A *record* (``kind = "record"``: read fine, but a target's required check failed) is mapped
  again into the table its entry names (the entry's field is ``table.column``).
- A *line* (``kind = "line"``: could not be read as a record) is read again with the source's
  reader rules: a JSON Lines line must be a JSON object; a CSV line is split with the source's
  delimiter and must have as many fields as its file's header. A line that now reads lands raw
  and is mapped into every target of the source.

An entry is replayed when its record passes the checks of the targets it goes to (required
columns and the quality rules marked ``at_entry`` in force); failures are quarantined again (an
unchanged failure is not stored twice) and their entries stay open.

Example::

    outcome = replay_records(ws, runs, run_id, ctx, entries, at=now)
    outcome.resolved        # quarantine ids that can be marked replayed
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from custodia.collect.mapping_arrow import MappingFailure
from custodia.collect.mapping_spec import SourceFormat, SourceMapping, TargetMapping
from custodia.collect.quarantine import Quarantine
from custodia.collect.records import RecordChunk
from custodia.core.arrow_values import table_from_columns
from custodia.pipeline.entry_validation import entry_validators_in_force
from custodia.pipeline.load_report import TargetResult
from custodia.pipeline.source_context import SourceContext
from custodia.pipeline.source_landing import land_records
from custodia.pipeline.source_staging import (
    failure_entries,
    map_target,
    mapping_records,
    record_json,
    store_target,
)
from custodia.quality.entry import EntryValidator
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

__all__ = ["RecordReplay", "replay_records", "reread_line"]

Location = tuple[str, int]
_FILE, _POSITION = "_source_file", "_position"


@dataclass
class RecordReplay:
    """What replaying one source's lines and records did."""

    resolved: list[str] = field(default_factory=list)
    landed: int = 0
    targets: list[TargetResult] = field(default_factory=list)


@dataclass
class _Pending:
    """Records to map again, by location, and which targets each must pass."""

    data: dict[Location, dict[str, Any]] = field(default_factory=dict)
    lines: set[Location] = field(default_factory=set)
    needs: dict[Location, set[str]] = field(default_factory=dict)
    ids: dict[Location, list[str]] = field(default_factory=dict)


def replay_records(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    ctx: SourceContext,
    entries: Sequence[Mapping[str, Any]],
    *,
    at: datetime,
) -> RecordReplay:
    """Re-read and re-map ``entries`` (one source's open lines and records)."""
    outcome = RecordReplay()
    if ctx.mapping is None or ctx.root is None:
        return outcome  # not a mapped batch source (or never loaded): nothing to map with
    pending = _collect(ctx, entries)
    if not pending.data:
        return outcome
    outcome.landed = _land_lines(ws, run_id, ctx.mapping, pending, at)
    records = mapping_records(ws, ctx.mapping, ctx.lookups, _relation(pending))
    failed: dict[str, set[Location]] = {}
    entry_rules = entry_validators_in_force(ws)
    for target in ctx.mapping.targets:
        wanted = {loc for loc, tables in pending.needs.items() if target.table in tables}
        if wanted:
            result, failed[target.table] = _replay_target(
                ws, runs, run_id, ctx, target, records, wanted, pending, at,
                entry_rules.get(target.table),
            )  # fmt: skip
            outcome.targets.append(result)
    for loc, tables in pending.needs.items():
        if not any(loc in failed.get(table, set()) for table in tables):
            outcome.resolved += pending.ids[loc]
    return outcome


def _replay_target(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    ctx: SourceContext,
    target: TargetMapping,
    records: pa.Table,
    wanted: set[Location],
    pending: _Pending,
    at: datetime,
    entry_rules: EntryValidator | None,
) -> tuple[TargetResult, set[Location]]:
    """Map the ``wanted`` records into one target, store what passes, quarantine again what
    fails (and flag what a flag rule finds); returns the target's result and the locations that
    failed."""
    assert ctx.mapping is not None
    subset = _only(records, wanted)
    mapped = map_target(
        ws, ctx.mapping, target, ctx.lookups, subset, run_id=run_id, loaded_at=at,
        entry_rules=entry_rules,
    )  # fmt: skip
    result = store_target(
        ws, runs, run_id, ctx.mapping, target, mapped,
        step="replay", rows_in=subset.num_rows, started_at=at,
    )  # fmt: skip
    payloads = _read_payloads(mapped.failures, pending)
    again = failure_entries(ctx.mapping, mapped.failures, payloads, run_id, at)
    flagged = _read_payloads(mapped.flagged, pending)
    again += failure_entries(ctx.mapping, mapped.flagged, flagged, run_id, at, status="flagged")
    Quarantine(ws.lake).add(again, loaded_at=at)
    return result, _failed_locations(mapped.failures, wanted)


def _collect(ctx: SourceContext, entries: Sequence[Mapping[str, Any]]) -> _Pending:
    assert ctx.mapping is not None and ctx.root is not None
    pending = _Pending()
    all_targets = {t.table for t in ctx.mapping.targets}
    for entry in entries:
        loc = (str(entry.get("source_file") or ""), int(entry.get("position") or 0))
        data = _record_of(ctx, entry)
        if data is None:
            continue
        pending.data.setdefault(loc, data)
        pending.ids.setdefault(loc, []).append(str(entry["quarantine_id"]))
        if entry["kind"] == "line":
            pending.lines.add(loc)
            pending.needs[loc] = set(all_targets)
        else:
            table = str(entry.get("field") or "").split(".", 1)[0]
            pending.needs.setdefault(loc, set()).add(table if table in all_targets else "")
    pending.needs = {loc: {t for t in tables if t} for loc, tables in pending.needs.items()}
    return pending


def _record_of(ctx: SourceContext, entry: Mapping[str, Any]) -> dict[str, Any] | None:
    payload = str(entry.get("payload") or "")
    if entry["kind"] == "record":
        return _json_object(payload)
    if entry["kind"] == "line":
        assert ctx.mapping is not None and ctx.root is not None
        return reread_line(ctx.mapping, ctx.root, str(entry.get("source_file") or ""), payload)
    return None


def reread_line(
    source: SourceMapping, root: Path, source_file: str, line: str
) -> dict[str, Any] | None:
    """A quarantined line read again with the source's rules, or None if it still cannot be."""
    if source.format is SourceFormat.JSONL:
        return _json_object(line)
    if source.format is SourceFormat.CSV:
        return _csv_record(source, root / source_file, line)
    return None


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _csv_record(source: SourceMapping, path: Path, line: str) -> dict[str, Any] | None:
    delimiter = source.delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    header = _csv_header(path, source.encoding, delimiter)
    rows = list(csv.reader(io.StringIO(line), delimiter=delimiter))
    if header is None or len(rows) != 1 or len(rows[0]) != len(header):
        return None
    return {
        name: (value if value != "" else None) for name, value in zip(header, rows[0], strict=True)
    }


def _csv_header(path: Path, encoding: str | None, delimiter: str) -> list[str] | None:
    try:
        with path.open(encoding=encoding or "utf-8-sig", newline="") as fh:
            return next(csv.reader(fh, delimiter=delimiter), None)
    except (OSError, UnicodeDecodeError, LookupError):
        return None


def _relation(pending: _Pending) -> pa.Table:
    """The records as Arrow (types inferred per field, text when they disagree) plus origin."""
    locations = list(pending.data)
    names = list(dict.fromkeys(name for loc in locations for name in pending.data[loc]))
    columns = [[pending.data[loc].get(name) for loc in locations] for name in names]
    table = table_from_columns(names, columns)
    table = table.append_column(_FILE, pa.array([loc[0] for loc in locations], pa.string()))
    return table.append_column(_POSITION, pa.array([loc[1] for loc in locations], pa.int64()))


def _land_lines(
    ws: Workspace, run_id: str, source: SourceMapping, pending: _Pending, at: datetime
) -> int:
    """Land raw the records that were unreadable lines (records were landed when first read)."""
    by_file: dict[str, list[Location]] = {}
    for loc in sorted(pending.lines):
        by_file.setdefault(loc[0], []).append(loc)
    chunks = []
    for source_file, locs in by_file.items():
        names = list(dict.fromkeys(n for loc in locs for n in pending.data[loc]))
        table = table_from_columns(
            names, [[pending.data[loc].get(n) for loc in locs] for n in names]
        )
        positions = pa.array([loc[1] for loc in locs], pa.int64())
        chunks.append(RecordChunk(table, source_file, positions))
    return land_records(ws, run_id, source, chunks, at, keep=False).landed if chunks else 0


def _failed_locations(failures: Sequence[MappingFailure], wanted: set[Location]) -> set[Location]:
    if any(f.position is None for f in failures):
        return set(wanted)  # rows that cannot be traced to records: keep every entry open
    return {(str(f.source_file), int(f.position or 0)) for f in failures}


def _only(records: pa.Table, wanted: set[Location]) -> pa.Table:
    locations = zip(
        records.column(_FILE).to_pylist(), records.column(_POSITION).to_pylist(), strict=True
    )
    mask = pa.array([(f, p) in wanted for f, p in locations], pa.bool_())
    return records.filter(mask)


def _read_payloads(
    failures: Sequence[MappingFailure], pending: _Pending
) -> dict[tuple[str | None, int | None], str]:
    """The records that still fail, as they were read (not as the mapping left them)."""
    payloads: dict[tuple[str | None, int | None], str] = {}
    for failure in failures:
        record = pending.data.get((str(failure.source_file), int(failure.position or 0)))
        if record is not None:
            payloads[(failure.source_file, failure.position)] = record_json(record)
    return payloads

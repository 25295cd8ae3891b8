"""Lineage of loads: turn a load's mappings and results into OpenLineage-shaped run events.

:class:`LoadLineage` is what a load calls: :meth:`~LoadLineage.start` when the run begins,
:meth:`~LoadLineage.complete` or :meth:`~LoadLineage.fail` when it ends. Each writes one event to
``lineage_events`` with the sources (files, mapping, tracking plan), the tables written (Delta
version, row counts, schema) and, per canonical column, the mapping expression and source fields
that set it. Lineage lives in the operational store next to the run log, so a load whose
lineage cannot be written fails like one whose run record cannot be written.

Example::

    lineage = LoadLineage(ws, run_id, kind="load", sources=selected, root=root)
    lineage.start()
    ...
    lineage.complete(results, stats={"rows_in": 10})
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from custodia.collect.mapping_spec import SourceFormat, SourceMapping, TargetMapping
from custodia.collect.mapping_transforms import ColumnSpec, LookupTable
from custodia.core.errors import CustodiaError, TableNotFoundError
from custodia.core.tables import EVENTS, QUARANTINE, SOURCE_RECORDS_RAW, table_spec
from custodia.lineage.column_provenance import referenced_fields
from custodia.lineage.run_events import (
    ColumnOrigin,
    RunContext,
    RunEventType,
    SourceInput,
    TableContribution,
    TableOutput,
    run_event,
)
from custodia.storage.store_lineage import LineageLog
from custodia.workspace import Workspace


class TargetLike(Protocol):
    """What lineage reads of a load's per-table result (``load_report.TargetResult``)."""

    table: str
    rows_inserted: int
    rows_updated: int
    table_version: int


class SourceResult(Protocol):
    """What lineage reads of a load's per-source result (``load_report.SourceResult``)."""

    source: str
    format: str
    rows_in: int
    rows_landed: int
    rows_rejected: int

    @property
    def targets(self) -> Sequence[TargetLike]: ...


__all__ = ["COLLECTOR_FORMAT", "LoadLineage", "collector_input", "source_inputs", "table_outputs"]

# How each ``events`` column comes from a Segment message (normalize_message): the rule, and
# the message fields it reads.
SEGMENT_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "message_id": ("messageId (a new UUID when absent)", ("messageId",)),
    "type": ("type", ("type",)),
    "event": ("event", ("event",)),
    "name": ("name", ("name",)),
    "user_id": ("userId", ("userId",)),
    "anonymous_id": ("anonymousId", ("anonymousId",)),
    "previous_id": ("previousId", ("previousId",)),
    "group_id": ("groupId", ("groupId",)),
    "traits": ("traits", ("traits",)),
    "properties": ("properties", ("properties",)),
    "context": ("batch context merged with the message's context", ("context",)),
    "integrations": ("batch integrations merged with the message's", ("integrations",)),
    "timestamp": (
        "receivedAt - (sentAt - originalTimestamp)",
        ("receivedAt", "sentAt", "originalTimestamp", "timestamp"),
    ),
    "original_timestamp": ("originalTimestamp or timestamp", ("originalTimestamp", "timestamp")),
    "sent_at": ("sentAt (message, else batch)", ("sentAt",)),
    "received_at": ("receivedAt", ("receivedAt",)),
    "event_date": ("date of timestamp", ("timestamp",)),
}
_RUN_COLUMNS = ("source", "run_id", "loaded_at")
COLLECTOR_FORMAT = "segment_http"
_EVENT_FORMATS = frozenset({SourceFormat.SEGMENT_BATCH.value, COLLECTOR_FORMAT})


class LoadLineage:
    """The START and COMPLETE/FAIL events of one load run."""

    def __init__(
        self,
        ws: Workspace,
        run_id: str,
        *,
        kind: str,
        sources: Sequence[SourceMapping],
        root: Path | Mapping[str, Path],
        lookups: Mapping[str, LookupTable] | None = None,
        extra_inputs: Sequence[SourceInput] = (),
    ) -> None:
        self._ws = ws
        self._ctx = RunContext(run_id=run_id, job=kind, namespace=namespace(ws))
        self._sources = list(sources)
        self._root = root
        self._lookups = dict(lookups or {})
        self._extra = list(extra_inputs)
        self._log = LineageLog(ws.store)

    def start(self) -> None:
        self._write(RunEventType.START, self._inputs())

    def complete(
        self, results: Sequence[SourceResult], stats: Mapping[str, Any] | None = None
    ) -> None:
        self._write(
            RunEventType.COMPLETE,
            self._inputs(_rows_read(results)),
            outputs=table_outputs(self._ws, results),
            stats=stats,
        )

    def fail(self, results: Sequence[SourceResult], error: str) -> None:
        self._write(
            RunEventType.FAIL,
            self._inputs(_rows_read(results)),
            outputs=table_outputs(self._ws, results),
            error=error,
        )

    def _inputs(self, rows_read: Mapping[str, int] | None = None) -> list[SourceInput]:
        inputs = source_inputs(self._sources, self._root, rows_read, lookups=self._lookups)
        return inputs + self._extra

    def _write(
        self,
        event_type: RunEventType,
        inputs: Sequence[SourceInput],
        *,
        outputs: Sequence[TableOutput] = (),
        error: str | None = None,
        stats: Mapping[str, Any] | None = None,
    ) -> None:
        at = self._ws.clock.now()
        payload = run_event(
            event_type, self._ctx, at=at, inputs=inputs, outputs=outputs, error=error, stats=stats
        )
        self._log.record(
            run_id=self._ctx.run_id,
            job=self._ctx.job,
            event_type=event_type.value,
            event_time=at,
            payload=payload,
        )


def namespace(ws: Workspace) -> str:
    """The lineage namespace of a workspace."""
    return f"custodia:{ws.info.workspace_id}"


def _rows_read(results: Sequence[SourceResult]) -> dict[str, int]:
    return {r.source: r.rows_in for r in results}


# -- inputs --------------------------------------------------------------------------------------


def source_inputs(
    sources: Sequence[SourceMapping],
    root: Path | Mapping[str, Path],
    rows_read: Mapping[str, int] | None = None,
    *,
    lookups: Mapping[str, LookupTable] | None = None,
) -> list[SourceInput]:
    """Each source as a lineage input: files, mapping document and column origins.

    ``root`` is the folder the sources' paths are relative to, or one folder per source name.
    """
    rows_read = rows_read or {}
    inputs = []
    for source in sources:
        folder = root if isinstance(root, Path) else root[source.name]
        inputs.append(
            SourceInput(
                name=source.name,
                format=source.format.value,
                entity=source.entity,
                path=source.path if not source.format.is_database else source.table,
                location=str(folder),
                files=_files(source, folder),
                targets=source_targets(source),
                mapping=source.model_dump(mode="json", by_alias=True, exclude_defaults=True),
                lookups=dict(lookups or {}),
                tracking_plan=_plan_path(source, folder),
                rows_read=rows_read.get(source.name),
            )
        )
    return inputs


def _files(source: SourceMapping, root: Path) -> tuple[str, ...]:
    """The files a source names (globs expanded), relative to ``root``. A database URL is never
    recorded (it may hold a password): only the table."""
    if source.format is SourceFormat.SQL or not source.path:
        return (source.table,) if source.table else ()
    if source.format is SourceFormat.SQLITE:
        return (f"{source.path}#{source.table}",)
    try:
        found = sorted(p for p in root.glob(source.path) if p.is_file())
    except (OSError, ValueError):
        return ()
    return tuple(p.relative_to(root).as_posix() for p in found)


def _plan_path(source: SourceMapping, root: Path) -> str | None:
    return None if source.tracking_plan is None else str((root / source.tracking_plan).resolve())


def collector_input(name: str) -> SourceInput:
    """A collector (HTTP) source as a lineage input: it has no mapping, only the Segment spec."""
    return SourceInput(
        name=name, format=COLLECTOR_FORMAT, entity="events", targets=_event_targets()
    )


def source_targets(source: SourceMapping) -> dict[str, dict[str, ColumnOrigin]]:
    """Table -> column -> how the source sets it."""
    if source.format is SourceFormat.SEGMENT_BATCH:
        return _event_targets()
    targets = {SOURCE_RECORDS_RAW.name: _raw_origins()}
    for target in source.targets:
        targets[target.table] = _target_origins(source, target)
    return targets


def _event_targets() -> dict[str, dict[str, ColumnOrigin]]:
    spec_origins = {
        col: ColumnOrigin(rule, fields, kind="spec")
        for col, (rule, fields) in SEGMENT_COLUMNS.items()
    }
    return {EVENTS.name: {**spec_origins, **_run_origins()}}


def _raw_origins() -> dict[str, ColumnOrigin]:
    return {
        "payload": ColumnOrigin("the record as read, as JSON", ("*",), kind="spec"),
        "source_file": ColumnOrigin("file or table it was read from", (), kind="spec"),
        "position": ColumnOrigin("line or row number in that file", (), kind="spec"),
        **_run_origins(),
    }


def _run_origins() -> dict[str, ColumnOrigin]:
    return {col: ColumnOrigin(f"run metadata: {col}", (), kind="run") for col in _RUN_COLUMNS}


def target_input_fields(source: SourceMapping, target: TargetMapping) -> set[str]:
    """The top-level fields of the source's records that the target's columns read (renames
    and derived fields followed back to what the source delivers)."""
    return {
        field.split(".", 1)[0]
        for origin in _target_origins(source, target).values()
        for field in origin.input_fields
        if field != "*"
    }


def _target_origins(source: SourceMapping, target: TargetMapping) -> dict[str, ColumnOrigin]:
    resolver = _FieldResolver(source)
    try:
        key_column = table_spec(target.table).key[0]
    except TableNotFoundError:
        key_column = None
    origins: dict[str, ColumnOrigin] = {}
    if key_column is not None:
        origins[key_column] = ColumnOrigin(
            f"custodia_key({target.key})", resolver.fields(target.key)
        )
    origins["source_key"] = ColumnOrigin(target.key, resolver.fields(target.key))
    for column, spec in target.columns.items():
        origins[column] = ColumnOrigin(_expression(spec), resolver.spec_fields(spec))
    origins.update(_run_origins())
    if target.from_ != "records":
        origins = {
            col: ColumnOrigin(f"{o.expression}  [from {target.from_}]", o.input_fields, o.kind)
            for col, o in origins.items()
        }
    return origins


def _expression(spec: ColumnSpec) -> str:
    if isinstance(spec, str):
        return spec
    described = spec.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    return json.dumps(described, ensure_ascii=False, sort_keys=True)


@dataclass
class _FieldResolver:
    """Follows derived fields and renames back to the fields the source delivers."""

    source: SourceMapping

    def fields(self, expression: str, depth: int = 0) -> tuple[str, ...]:
        return self._resolve(referenced_fields(expression), depth)

    def spec_fields(self, spec: ColumnSpec, depth: int = 0) -> tuple[str, ...]:
        if isinstance(spec, str):
            return self.fields(spec, depth)
        if spec.field is not None:
            return self._resolve((spec.field,), depth)
        if spec.join is not None:
            return self._resolve(tuple(spec.join), depth)
        if spec.expr is not None:
            return self.fields(spec.expr, depth)
        return ()

    def _resolve(self, names: Sequence[str], depth: int) -> tuple[str, ...]:
        original = {new: old for old, new in self.source.rename.items()}
        found: dict[str, None] = {}
        for name in names:
            head = name.split(".", 1)[0]
            if head in self.source.derive and depth < 8:
                found.update(dict.fromkeys(self.spec_fields(self.source.derive[head], depth + 1)))
            elif head in original:
                found[original[head] + name[len(head) :]] = None
            else:
                found[name] = None
        return tuple(found)


# -- outputs -------------------------------------------------------------------------------------


def table_outputs(ws: Workspace, results: Sequence[SourceResult]) -> list[TableOutput]:
    """The tables a load wrote, each with every source's share and its version now."""
    shares: dict[str, list[TableContribution]] = {}
    versions: dict[str, int] = {}
    for result in results:
        _add_result(result, shares, versions)
    outputs = []
    for table, contributions in shares.items():
        # not .get(table, default): the default would open the table even when the load knows
        version = versions[table] if table in versions else _current_version(ws, table)
        rows = sum(c.rows for c in contributions)
        outputs.append(TableOutput(table, rows, version, tuple(contributions)))
    return outputs


def _add_result(
    result: SourceResult, shares: dict[str, list[TableContribution]], versions: dict[str, int]
) -> None:
    if result.format not in _EVENT_FORMATS and result.rows_landed:
        shares.setdefault(SOURCE_RECORDS_RAW.name, []).append(
            TableContribution(result.source, result.rows_landed, inserted=result.rows_landed)
        )
    if result.rows_rejected:
        shares.setdefault(QUARANTINE.name, []).append(
            TableContribution(result.source, result.rows_rejected, inserted=result.rows_rejected)
        )
    for target in result.targets:
        written = target.rows_inserted + target.rows_updated
        shares.setdefault(target.table, []).append(
            TableContribution(result.source, written, target.rows_inserted, target.rows_updated)
        )
        versions[target.table] = max(versions.get(target.table, -1), target.table_version)


def _current_version(ws: Workspace, table: str) -> int | None:
    try:
        spec = table_spec(table)
        return ws.lake.version(spec.zone.value, spec.name)
    except CustodiaError:
        return None

"""Stage a source's landed records into its canonical tables through its mapping.

Per source: rename fields and run the Arrow steps (:mod:`custodia.collect.mapping_arrow`), add
the derived fields (one SQL statement), then per target run its compiled SQL, quarantine the rows
that break a required check or a quality rule marked ``at_entry`` (``kind = "record"``, with the
record's original payload, the rule and a one-line reason; ``flag`` rules store the row and add a
``flagged`` entry: :mod:`custodia.pipeline.entry_validation`), and merge the rest by key. Each
target is one Delta commit and one step in the run log. Quarantine replay
(:mod:`custodia.pipeline.replay_records`) maps and stores through the same :func:`map_target` and
:func:`store_target`; the store keeps the text tags of re-staged interactions
(:mod:`custodia.pipeline.restaged_tags`).

Example::

    results = stage_targets(ws, runs, run_id, source, lookups, landing.relation, loaded_at)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

import pyarrow as pa

from custodia.collect.landing_sql import payload_sql
from custodia.collect.mapping_arrow import (
    MappedRows,
    MappingFailure,
    prepare_records,
    split_failures,
)
from custodia.collect.mapping_spec import SourceMapping, TargetMapping
from custodia.collect.mapping_sql import (
    compile_derive_sql,
    compile_target,
    mapping_arrow_steps,
    mapping_macros_sql,
)
from custodia.collect.mapping_transforms import LookupTable
from custodia.collect.quarantine import Quarantine, QuarantineEntry
from custodia.core.arrow_values import value_as_text
from custodia.core.errors import QueryError
from custodia.core.tables import table_spec
from custodia.pipeline.entry_validation import entry_validators_in_force, screen_mapped_rows
from custodia.pipeline.load_lineage import target_input_fields
from custodia.pipeline.load_report import TargetResult
from custodia.pipeline.restaged_tags import carry_interaction_tags
from custodia.pipeline.staged_redaction import redact_staged_rows
from custodia.quality.entry import EntryValidator
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

__all__ = [
    "failure_entries",
    "map_target",
    "mapping_records",
    "record_json",
    "stage_targets",
    "store_target",
]

_LOCATION = ("_source_file", "_position")


def stage_targets(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    lookups: dict[str, LookupTable],
    relation: pa.Table,
    loaded_at: datetime,
) -> list[TargetResult]:
    """Map ``relation`` (the landed records) into every target of ``source``."""
    records = mapping_records(ws, source, lookups, relation)
    entry_rules = entry_validators_in_force(ws)
    return [
        _stage_one(
            ws,
            runs,
            run_id,
            source,
            target,
            lookups,
            relation,
            records,
            loaded_at,
            entry_rules.get(target.table),
        )
        for target in source.targets
    ]


def mapping_records(
    ws: Workspace, source: SourceMapping, lookups: dict[str, LookupTable], relation: pa.Table
) -> pa.Table:
    """``relation`` with the mapping's Arrow steps run and its derived fields added."""
    records = prepare_records(relation, source, mapping_arrow_steps(source, lookups))
    derive = compile_derive_sql(source, lookups)
    if derive is None:
        return records
    try:
        return ws.transform(
            derive, relations={"source_records": records}, setup=mapping_macros_sql(source)
        )
    except QueryError as exc:
        raise QueryError(f"mapping {source.name} derive: {exc}") from None


def map_target(
    ws: Workspace,
    source: SourceMapping,
    target: TargetMapping,
    lookups: dict[str, LookupTable],
    records: pa.Table,
    *,
    run_id: str,
    loaded_at: datetime,
    entry_rules: EntryValidator | None = None,
) -> MappedRows:
    """Run the target's compiled SQL over ``records``: the rows that pass and the failures
    (required checks, and the table's ``at_entry`` rules when ``entry_rules`` are given)."""
    compiled = compile_target(source, target, lookups=lookups, run_id=run_id, loaded_at=loaded_at)
    try:
        rows = ws.transform(
            compiled.staging_sql(), relations={"records": records}, setup=mapping_macros_sql(source)
        )
    except QueryError as exc:
        raise QueryError(f"mapping {source.name} -> {target.table}: {exc}") from None
    if entry_rules is None:
        return split_failures(rows, compiled)
    screened = screen_mapped_rows(rows, entry_rules, compiled)
    mapped = split_failures(screened.rows, compiled)
    return MappedRows(mapped.passed, screened.held + mapped.failures, screened.flagged)


def store_target(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    target: TargetMapping,
    mapped: MappedRows,
    *,
    step: str,
    rows_in: int,
    started_at: datetime,
) -> TargetResult:
    """Redact the passing rows' free text per the classification policy, merge them by key
    (keeping derived text tags) and record the step."""
    spec = table_spec(target.table)
    redacted = redact_staged_rows(ws, spec.name, mapped.passed, target.columns)
    carried = carry_interaction_tags(ws, spec.name, redacted.rows, target.columns)
    commit = ws.lake.merge(spec.zone.value, spec.name, carried.rows, list(spec.key))
    version = ws.lake.version(spec.zone.value, spec.name)
    by_rule = dict(Counter(f"{f.field}:{f.rule}" for f in mapped.failures))
    runs.record_step(
        run_id,
        f"{step}:{spec.name}",
        source=source.name,
        rows_in=rows_in,
        rows_stored=commit.inserted + commit.updated,
        rows_rejected=len(mapped.failures),
        started_at=started_at,
        detail={
            "rows_mapped": mapped.passed.num_rows,
            "inserted": commit.inserted,
            "updated": commit.updated,
            "table_version": version,
            "unmapped_by_rule": by_rule,
            "flagged_by_rule": dict(Counter(f"{f.field}:{f.rule}" for f in mapped.flagged)),
        }
        | (carried.counts() if carried.rows is not redacted.rows else {})
        | redacted.detail,
    )
    return TargetResult(
        table=spec.name,
        rows_mapped=mapped.passed.num_rows,
        rows_inserted=commit.inserted,
        rows_updated=commit.updated,
        table_version=version,
        rows_unmapped=len(mapped.failures),
        unmapped_by_rule=by_rule,
    )


def _stage_one(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    target: TargetMapping,
    lookups: dict[str, LookupTable],
    relation: pa.Table,
    records: pa.Table,
    loaded_at: datetime,
    entry_rules: EntryValidator | None,
) -> TargetResult:
    started = ws.clock.now()
    try:
        mapped = map_target(
            ws, source, target, lookups, records, run_id=run_id, loaded_at=loaded_at,
            entry_rules=entry_rules,
        )  # fmt: skip
    except QueryError:
        # a file lacking a field the mapping reads (a CSV column missing from its header):
        # its records wait in the quarantine; a database table lacking it is a mapping error
        # that fails the load and leaves its watermark alone
        missing = sorted(target_input_fields(source, target) - set(relation.column_names))
        if not missing or target.from_ != "records" or source.format.is_database:
            raise
        mapped = _unmappable(source, target, relation, missing)
    entries = _quarantine_entries(ws, source, relation, mapped.failures, run_id, loaded_at)
    entries += _quarantine_entries(
        ws, source, relation, mapped.flagged, run_id, loaded_at, status="flagged"
    )
    Quarantine(ws.lake).add(entries, loaded_at=loaded_at)
    return store_target(
        ws, runs, run_id, source, target, mapped,
        step="stage", rows_in=relation.num_rows, started_at=started,
    )  # fmt: skip


def _unmappable(
    source: SourceMapping, target: TargetMapping, relation: pa.Table, missing: Sequence[str]
) -> MappedRows:
    """Every record as a failure when the file lacks fields the mapping reads (e.g. a column
    missing from a CSV header): kept in the quarantine, replayable once file or mapping is
    fixed; the source's other targets and files still load."""
    reason = (
        f"{missing[0]}: the source's records have no such field, which mapping "
        f"{source.name} -> {target.table} reads"
        + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
    )
    field = f"{target.table}.{missing[0]}"  # replay maps the record again into this table
    files = relation.column("_source_file").to_pylist()
    places = relation.column("_position").to_pylist()
    failures = [
        MappingFailure("mapping:missing_field", field, reason, file, position)
        for file, position in zip(files, places, strict=True)
    ]
    return MappedRows(table_spec(target.table).arrow_schema().empty_table(), failures)


def _quarantine_entries(
    ws: Workspace,
    source: SourceMapping,
    relation: pa.Table,
    failures: list[MappingFailure],
    run_id: str,
    at: datetime,
    *,
    status: str = "open",
) -> list[QuarantineEntry]:
    if not failures:
        return []
    payloads = _original_payloads(ws, relation, failures)
    return failure_entries(source, failures, payloads, run_id, at, status=status)


def failure_entries(
    source: SourceMapping,
    failures: Sequence[MappingFailure],
    payloads: Mapping[tuple[str | None, int | None], str],
    run_id: str,
    at: datetime,
    *,
    status: str = "open",
) -> list[QuarantineEntry]:
    """Quarantine entries (``kind = "record"``) for rows a target could not map (``open``), or
    stored with a flag (``flagged``).

    ``payloads`` holds each record as it was read, by ``(source_file, position)``; a failure
    without one keeps the mapped row instead.
    """
    return [
        QuarantineEntry(
            source=source.name,
            kind="record",
            entity=source.entity,
            rule=f.rule,
            field=f.field,
            reason=f.reason,
            payload=payloads.get((f.source_file, f.position)) or record_json(f.row),
            received_at=at,
            run_id=run_id,
            source_file=f.source_file,
            position=f.position,
            status=status,
        )
        for f in failures
    ]


def _original_payloads(
    ws: Workspace, relation: pa.Table, failures: list[MappingFailure]
) -> dict[tuple[str | None, int | None], str]:
    """The records the failures came from, as landed (JSON of the source's own fields)."""
    located = [(f.source_file, f.position) for f in failures if f.position is not None]
    if not located:
        return {}
    wanted = pa.table(
        {
            "_source_file": pa.array([loc[0] for loc in located], pa.string()),
            "_position": pa.array([loc[1] for loc in located], pa.int64()),
        }
    )
    fields = [c for c in relation.column_names if c not in _LOCATION]
    sql = (
        f"SELECT _source_file, _position, {payload_sql(fields)} AS payload "
        "FROM records SEMI JOIN wanted USING (_source_file, _position)"
    )
    found = ws.transform(sql, relations={"records": relation, "wanted": wanted})
    return {(row["_source_file"], row["_position"]): row["payload"] for row in found.to_pylist()}


def record_json(row: Mapping[str, object]) -> str:
    """A record as compact JSON (dates and times in ISO 8601), the way quarantine keeps it."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=value_as_text)

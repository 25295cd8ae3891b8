"""Read lineage back: for one table (or one column), where its data comes from and which runs
wrote it.

The answer is assembled from stored run events (:mod:`custodia.lineage.run_events`): a run
touched a table when its ``COMPLETE``/``FAIL`` event lists the table among its outputs, or when
one of its sources maps into the table (so a failed or still running load shows up too). For each
column, the newest run that wrote it says which source's mapping expression set it.

Example::

    view = table_lineage("orders", "total_amount", LineageLog(store).recent(limit=500))
    view.columns["total_amount"][0].expression     # 'pay_amount'
    view.runs[0].status                            # 'completed'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from custodia.core.errors import ValidationError
from custodia.core.tables import table_spec
from custodia.storage.store_lineage import LineageRecord

__all__ = [
    "ColumnSource",
    "LineageRun",
    "TableLineage",
    "UpstreamSource",
    "ValueProvenance",
    "parse_target",
    "table_lineage",
]

_STATUS = {"START": "running", "COMPLETE": "completed", "FAIL": "failed"}


class ColumnSource(BaseModel):
    """How one source sets one column, as of the newest run that wrote it."""

    source: str
    expression: str
    input_fields: list[str]
    kind: str = Field(description="mapping | spec (Segment spec) | run (run metadata)")
    run_id: str
    at: datetime


class UpstreamSource(BaseModel):
    """A source that fed the table, with the files it was read from in its newest run."""

    source: str
    format: str | None = None
    entity: str | None = None
    location: str | None = None
    files: list[str] = Field(default_factory=list)
    runs: int
    last_run_id: str
    last_run_at: datetime
    last_rows: int | None = None


class LineageRun(BaseModel):
    """One run that touched the table."""

    run_id: str
    job: str
    status: str = Field(description="running | completed | failed")
    started_at: datetime | None = None
    finished_at: datetime | None = None
    table_version: int | None = None
    rows_written: int | None = None
    sources: list[str] = Field(default_factory=list)
    error: str | None = None


class ValueProvenance(BaseModel):
    """How many stored rows (and non-null values of the column) each source and run set."""

    source: str
    run_id: str | None
    rows: int
    non_null: int | None = None


class TableLineage(BaseModel):
    """The lineage of one table, or of one of its columns."""

    table: str
    dataset: str
    column: str | None = None
    columns: dict[str, list[ColumnSource]] = Field(default_factory=dict)
    upstream: list[UpstreamSource] = Field(default_factory=list)
    runs: list[LineageRun] = Field(default_factory=list)
    values: list[ValueProvenance] = Field(default_factory=list)


def parse_target(target: str) -> tuple[str, str | None]:
    """``TABLE`` or ``TABLE.COLUMN`` (also ``zone.TABLE[.COLUMN]``), checked against the model.

    >>> parse_target("orders.total_amount")
    ('orders', 'total_amount')
    """
    parts = target.split(".")
    if parts[0] in {"raw", "staged", "curated"} and len(parts) > 1:
        parts = parts[1:]
    if len(parts) > 2 or not all(parts):
        raise ValidationError("target", "table_or_column", "give TABLE or TABLE.COLUMN")
    spec = table_spec(parts[0])
    column = parts[1] if len(parts) == 2 else None
    if column is not None and column not in spec.column_names:
        raise ValidationError(
            "column", "known_column", f"table {spec.name} has no column '{column}'"
        )
    return spec.name, column


@dataclass
class _Run:
    run_id: str
    job: str
    newest: int = 0
    start: LineageRecord | None = None
    end: LineageRecord | None = None
    events: list[LineageRecord] = field(default_factory=list)


def table_lineage(
    table: str, column: str | None, records: Iterable[LineageRecord], *, max_runs: int = 20
) -> TableLineage:
    """Assemble the lineage of ``table`` (and ``column``) from stored run events."""
    spec = table_spec(table)
    dataset = f"{spec.zone.value}.{spec.name}"
    runs = [run for run in _runs(records) if _touches(run, spec.name, dataset)]
    runs.sort(key=lambda run: run.newest, reverse=True)
    view = TableLineage(table=spec.name, dataset=dataset, column=column)
    view.columns = _columns(runs, dataset, column)
    view.upstream = _upstream(runs, spec.name, dataset)
    view.runs = [_run_summary(run, spec.name, dataset) for run in runs[:max_runs]]
    return view


def _runs(records: Iterable[LineageRecord]) -> list[_Run]:
    runs: dict[str, _Run] = {}
    for record in records:
        run = runs.setdefault(record.run_id, _Run(record.run_id, record.job))
        run.newest = max(run.newest, record.event_id)
        run.events.append(record)
        if record.event_type == "START":
            run.start = record
        elif run.end is None or record.event_id > run.end.event_id:
            run.end = record
    return list(runs.values())


def _payload(record: LineageRecord | None) -> Mapping[str, Any]:
    return record.payload if record is not None else {}


def _output(record: LineageRecord | None, dataset: str) -> Mapping[str, Any] | None:
    for out in _payload(record).get("outputs", []):
        if out.get("name") == dataset:
            return dict(out)
    return None


def _inputs(record: LineageRecord | None) -> list[Mapping[str, Any]]:
    return [i for i in _payload(record).get("inputs", []) if isinstance(i, dict)]


def _source_facet(dataset: Mapping[str, Any]) -> Mapping[str, Any]:
    facet = dataset.get("facets", {}).get("custodia_source", {})
    return facet if isinstance(facet, dict) else {}


def _feeding(record: LineageRecord | None, table: str) -> list[str]:
    """Sources of the run whose mapping targets the table."""
    return [
        str(i.get("name")) for i in _inputs(record) if table in _source_facet(i).get("targets", [])
    ]


def _touches(run: _Run, table: str, dataset: str) -> bool:
    return _output(run.end, dataset) is not None or bool(
        _feeding(run.start, table) or _feeding(run.end, table)
    )


def _contributions(out: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if out is None:
        return []
    facet = out.get("outputFacets", {}).get("custodia_contributions", {})
    return [c for c in facet.get("sources", []) if isinstance(c, dict)]


def _columns(runs: list[_Run], dataset: str, column: str | None) -> dict[str, list[ColumnSource]]:
    """Column -> one entry per source, from the newest completed run that wrote it."""
    found: dict[str, dict[str, ColumnSource]] = {}
    for run in runs:
        out = _output(run.end, dataset)
        if out is None or run.end is None:
            continue
        origins = out.get("facets", {}).get("custodia_column_origins", {}).get("columns", {})
        for name, entries in origins.items():
            if column is not None and name != column:
                continue
            for entry in entries:
                by_source = found.setdefault(name, {})
                if entry["source"] not in by_source:
                    by_source[entry["source"]] = ColumnSource(
                        **entry, run_id=run.run_id, at=run.end.event_time
                    )
    return {name: list(by_source.values()) for name, by_source in sorted(found.items())}


def _upstream(runs: list[_Run], table: str, dataset: str) -> list[UpstreamSource]:
    found: dict[str, UpstreamSource] = {}
    for run in runs:
        rows = {
            str(c["source"]): int(c.get("rows", 0))
            for c in _contributions(_output(run.end, dataset))
        }
        names = list(rows) or _feeding(run.start, table) or _feeding(run.end, table)
        described = {
            str(i.get("name")): _source_facet(i) for i in _inputs(run.start) + _inputs(run.end)
        }
        at = (run.end or run.start or run.events[0]).event_time
        for name in names:
            if name in found:
                found[name].runs += 1
                continue
            facet = described.get(name, {})
            found[name] = UpstreamSource(
                source=name,
                format=facet.get("format"),
                entity=facet.get("entity"),
                location=facet.get("location"),
                files=list(facet.get("files", [])),
                runs=1,
                last_run_id=run.run_id,
                last_run_at=at,
                last_rows=rows.get(name),
            )
    return sorted(found.values(), key=lambda s: s.source)


def _run_summary(run: _Run, table: str, dataset: str) -> LineageRun:
    out = _output(run.end, dataset)
    status = _STATUS.get(run.end.event_type if run.end else "START", "running")
    contributions = _contributions(out)
    version = out.get("facets", {}).get("version", {}).get("datasetVersion") if out else None
    rows = out.get("outputFacets", {}).get("outputStatistics", {}).get("rowCount") if out else None
    error = _payload(run.end).get("run", {}).get("facets", {}).get("errorMessage", {})
    return LineageRun(
        run_id=run.run_id,
        job=run.job,
        status=status,
        started_at=run.start.event_time if run.start else None,
        finished_at=run.end.event_time if run.end else None,
        table_version=int(version) if version is not None else None,
        rows_written=int(rows) if rows is not None else None,
        sources=[str(c["source"]) for c in contributions]
        or _feeding(run.start, table)
        or _feeding(run.end, table),
        error=error.get("message") if isinstance(error, dict) else None,
    )

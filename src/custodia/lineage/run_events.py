"""Run events shaped like OpenLineage (spec 2-0-2): what a load read, what it wrote, and how.

Every load writes a ``START`` event when it begins and a ``COMPLETE`` or ``FAIL`` event when it
ends. The job is the kind of run (``load``, ``demo``, ``replay``) in the workspace's namespace;
inputs are the sources (name, format, files, the mapping used); outputs are lakehouse tables
(``zone.table``) with their Delta version, row counts, schema and column lineage: for each
canonical column, which source fields and which mapping expression set it.

Custom facets are prefixed ``custodia_`` as the spec asks; standard facets (``schema``,
``version``, ``columnLineage``, ``outputStatistics``, ``inputStatistics``, ``errorMessage``,
``jobType``) follow their published shape so any OpenLineage consumer can read the events.

Example::

    ctx = RunContext(run_id="run_1a2b...", job="load", namespace="custodia:ws_1")
    start = run_event(RunEventType.START, ctx, at=now, inputs=[source_input])
    done = run_event(RunEventType.COMPLETE, ctx, at=later, inputs=[...], outputs=[...])
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from custodia import __version__
from custodia.core.errors import TableNotFoundError
from custodia.core.tables import table_spec

__all__ = [
    "PRODUCER",
    "ColumnOrigin",
    "RunContext",
    "RunEventType",
    "SourceInput",
    "TableContribution",
    "TableOutput",
    "openlineage_run_id",
    "run_event",
    "source_dataset",
    "table_dataset",
]

PRODUCER = f"urn:custodia:{__version__}"
_SPEC = "https://openlineage.io/spec"
RUN_EVENT_SCHEMA = f"{_SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent"
_FACET_SCHEMAS = {
    "schema": f"{_SPEC}/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "version": f"{_SPEC}/facets/1-0-1/DatasetVersionDatasetFacet.json"
    "#/$defs/DatasetVersionDatasetFacet",
    "columnLineage": f"{_SPEC}/facets/1-2-0/ColumnLineageDatasetFacet.json"
    "#/$defs/ColumnLineageDatasetFacet",
    "outputStatistics": f"{_SPEC}/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
    "#/$defs/OutputStatisticsOutputDatasetFacet",
    "inputStatistics": f"{_SPEC}/facets/1-0-0/InputStatisticsInputDatasetFacet.json"
    "#/$defs/InputStatisticsInputDatasetFacet",
    "errorMessage": f"{_SPEC}/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "jobType": f"{_SPEC}/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
}
_CUSTOM_SCHEMA = "urn:custodia:facets"


class RunEventType(StrEnum):
    """Where a run is in its life."""

    START = "START"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"


@dataclass(frozen=True)
class RunContext:
    """The run an event belongs to: Custodia's run id, the job name and the namespace."""

    run_id: str
    job: str
    namespace: str


@dataclass(frozen=True)
class ColumnOrigin:
    """How a mapping sets one column: the expression as written and the source fields it reads."""

    expression: str
    input_fields: tuple[str, ...] = ()
    kind: str = "mapping"  # mapping | spec | run


@dataclass(frozen=True)
class SourceInput:
    """One source a run reads, with the mapping it is read through.

    ``targets`` maps each canonical table the source fills to its columns' origins; ``mapping``
    is the source's mapping document (JSON), kept so lineage and replays can say exactly how the
    source was read; ``location`` is the folder its paths are relative to.
    """

    name: str
    format: str
    entity: str
    path: str | None = None
    location: str | None = None
    files: tuple[str, ...] = ()
    targets: Mapping[str, Mapping[str, ColumnOrigin]] = field(default_factory=dict)
    mapping: Mapping[str, Any] | None = None
    lookups: Mapping[str, Any] | None = None
    tracking_plan: str | None = None
    rows_read: int | None = None


@dataclass(frozen=True)
class TableContribution:
    """What one source wrote into one table in a run."""

    source: str
    rows: int
    inserted: int = 0
    updated: int = 0


@dataclass(frozen=True)
class TableOutput:
    """One lakehouse table a run wrote, at the Delta version the run left it."""

    table: str
    rows_written: int
    version: int | None
    contributions: tuple[TableContribution, ...] = ()


def openlineage_run_id(run_id: str) -> str:
    """OpenLineage wants a UUID: ``run_<32 hex>`` maps onto its own hex, anything else onto a
    name-based UUID, so the same run always gets the same id."""
    tail = run_id.rsplit("_", 1)[-1]
    try:
        return str(uuid.UUID(hex=tail))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"custodia:{run_id}"))


def source_dataset(namespace: str, name: str) -> tuple[str, str]:
    """(namespace, name) of a source as a dataset."""
    return f"{namespace}:sources", name


def table_dataset(namespace: str, table: str) -> tuple[str, str]:
    """(namespace, name) of a canonical table as a dataset: ``zone.table``."""
    try:
        spec = table_spec(table)
    except TableNotFoundError:
        return namespace, table
    return namespace, f"{spec.zone.value}.{spec.name}"


def run_event(
    event_type: RunEventType,
    ctx: RunContext,
    *,
    at: datetime,
    inputs: Sequence[SourceInput] = (),
    outputs: Sequence[TableOutput] = (),
    error: str | None = None,
    stats: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One run event as a JSON document (see the module docstring for its shape)."""
    return {
        "eventType": event_type.value,
        "eventTime": at.isoformat(),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {"runId": openlineage_run_id(ctx.run_id), "facets": _run_facets(ctx, error, stats)},
        "job": {
            "namespace": ctx.namespace,
            "name": ctx.job,
            "facets": {
                "jobType": _facet(
                    "jobType", processingType="BATCH", integration="CUSTODIA", jobType=ctx.job
                )
            },
        },
        "inputs": [
            _input(ctx, src, with_mapping=event_type is RunEventType.START) for src in inputs
        ],
        "outputs": [_output(ctx, out, inputs) for out in outputs],
    }


def _facet(name: str, **values: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": _FACET_SCHEMAS[name], **values}


def _custom(**values: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": _CUSTOM_SCHEMA, **values}


def _run_facets(
    ctx: RunContext, error: str | None, stats: Mapping[str, Any] | None
) -> dict[str, Any]:
    facets: dict[str, Any] = {"custodia_run": _custom(run_id=ctx.run_id, stats=dict(stats or {}))}
    if error is not None:
        facets["errorMessage"] = _facet(
            "errorMessage",
            message=error.splitlines()[0] if error else "",
            programmingLanguage="python",
        )
    return facets


def _input(ctx: RunContext, src: SourceInput, *, with_mapping: bool) -> dict[str, Any]:
    namespace, name = source_dataset(ctx.namespace, src.name)
    described: dict[str, Any] = {
        "format": src.format,
        "entity": src.entity,
        "path": src.path,
        "location": src.location,
        "files": list(src.files),
        "targets": sorted(src.targets),
        "tracking_plan": src.tracking_plan,
    }
    if with_mapping and src.mapping is not None:
        described["mapping"] = dict(src.mapping)
        described["lookups"] = dict(src.lookups or {})
    dataset: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "facets": {"custodia_source": _custom(**described)},
    }
    if src.rows_read is not None:
        dataset["inputFacets"] = {
            "inputStatistics": _facet("inputStatistics", rowCount=src.rows_read)
        }
    return dataset


def _output(ctx: RunContext, out: TableOutput, inputs: Sequence[SourceInput]) -> dict[str, Any]:
    namespace, name = table_dataset(ctx.namespace, out.table)
    facets: dict[str, Any] = {}
    schema = _schema_fields(out.table)
    if schema:
        facets["schema"] = _facet("schema", fields=schema)
    if out.version is not None:
        facets["version"] = _facet("version", datasetVersion=str(out.version))
    writers = {c.source for c in out.contributions}
    writing = [s for s in inputs if s.name in writers]
    lineage = _column_lineage(ctx, out.table, writing)
    if lineage:
        facets["columnLineage"] = _facet("columnLineage", fields=lineage)
    origins = _column_origins(out.table, writing)
    if origins:
        facets["custodia_column_origins"] = _custom(columns=origins)
    contributions = [c.__dict__ for c in out.contributions]
    return {
        "namespace": namespace,
        "name": name,
        "facets": facets,
        "outputFacets": {
            "outputStatistics": _facet("outputStatistics", rowCount=out.rows_written),
            "custodia_contributions": _custom(sources=contributions),
        },
    }


def _schema_fields(table: str) -> list[dict[str, str]]:
    try:
        spec = table_spec(table)
    except TableNotFoundError:
        return []
    return [
        {"name": c.name, "type": str(c.type), "description": c.description} for c in spec.columns
    ]


def _column_lineage(
    ctx: RunContext, table: str, inputs: Sequence[SourceInput]
) -> dict[str, dict[str, Any]]:
    """OpenLineage ``columnLineage.fields``: output column -> input fields and transformations."""
    fields: dict[str, dict[str, Any]] = {}
    for src in inputs:
        namespace, name = source_dataset(ctx.namespace, src.name)
        for column, origin in src.targets.get(table, {}).items():
            entry = fields.setdefault(column, {"inputFields": []})
            transformation = {
                "type": "DIRECT" if _is_identity(origin) else "INDIRECT",
                "subtype": "IDENTITY" if _is_identity(origin) else "TRANSFORMATION",
                "description": origin.expression,
                "masking": False,
            }
            entry["inputFields"] += [
                {"namespace": namespace, "name": name, "field": input_field,
                 "transformations": [transformation]}
                for input_field in origin.input_fields
            ]  # fmt: skip
    return fields


def _column_origins(table: str, inputs: Sequence[SourceInput]) -> dict[str, list[dict[str, Any]]]:
    """Custodia's own view of the same: column -> [{source, expression, input_fields, kind}],
    including columns set from constants or run metadata (which have no input fields)."""
    origins: dict[str, list[dict[str, Any]]] = {}
    for src in inputs:
        for column, origin in src.targets.get(table, {}).items():
            origins.setdefault(column, []).append(
                {
                    "source": src.name,
                    "expression": origin.expression,
                    "input_fields": list(origin.input_fields),
                    "kind": origin.kind,
                }
            )
    return origins


def _is_identity(origin: ColumnOrigin) -> bool:
    return len(origin.input_fields) == 1 and origin.expression.strip('"') == origin.input_fields[0]

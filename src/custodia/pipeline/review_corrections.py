"""Pipeline step: merge stewards' active corrections into the lakehouse tables, by key.

A correction (``quality_corrections``, written when a steward decides ``correct``) sets one cell:
table, record key, column, value. Loading a source again merges the source's own value back
into that cell, so :func:`apply_corrections` runs at the end of every load
(:func:`~custodia.pipeline.source_load.load_sources`) and right after each ``correct`` decision:
a correction survives reruns until a steward replaces it.

For each table it reads the corrected records' current rows (key, partition columns and the
corrected columns), sets the corrected values and merges back only the rows that differ, in one
Delta commit per table (``commit_info`` job ``corrections``). Nothing is inserted: a correction of
a record that is not in the table is counted as ``missing`` and left waiting. Counts go to the
run log as a ``corrections`` step (its own run of kind ``corrections`` when no run is given).

Example::

    report = apply_corrections(ws)                        # every table with corrections
    report = apply_corrections(ws, ["customer_records"])  # only these
    report.tables[0].rows_changed
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pyarrow as pa
from pydantic import BaseModel

from custodia.core.tables import TableSpec
from custodia.pipeline.review_records import cell_value, key_column, reviewable_table, rows_by_key
from custodia.storage.store_review import ReviewQueue
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["CorrectionReport", "TableCorrections", "apply_corrections"]

RUN_KIND: Final = "corrections"


class TableCorrections(BaseModel):
    """What applying one table's corrections did."""

    table: str
    corrections: int
    """Active corrections of the table."""
    rows_found: int
    """Corrected records present in the table."""
    rows_changed: int
    """Rows whose stored value differed and were rewritten (0 when all already hold them)."""
    missing: int
    """Corrections whose record is not in the table (yet)."""
    table_version: int | None
    """The Delta version written, or None when nothing changed."""


class CorrectionReport(BaseModel):
    run_id: str
    tables: list[TableCorrections]


def apply_corrections(
    ws: Workspace, tables: Iterable[str] | None = None, *, run_id: str | None = None
) -> CorrectionReport:
    """Re-apply the active corrections of ``tables`` (default: every corrected table).

    With ``run_id`` (a running run, e.g. the load's) each table is a step of that run; without
    it the work is its own recorded run.
    """
    queue = ReviewQueue(ws.store)
    corrected = queue.corrected_tables()
    chosen = [t for t in corrected if tables is None or t in set(tables)]
    if run_id is not None:
        return CorrectionReport(run_id=run_id, tables=_apply(ws, queue, chosen, run_id))
    runs = RunLog(ws.store, ws.clock)
    own = runs.start_run(RUN_KIND, {"tables": chosen})
    try:
        done = _apply(ws, queue, chosen, own)
    except Exception as exc:
        runs.fail_run(own, exc)
        raise
    changed = sum(t.rows_changed for t in done)
    runs.finish_run(own, RunStatus.SUCCEEDED, stats={"rows_changed": changed})
    return CorrectionReport(run_id=own, tables=done)


def _apply(
    ws: Workspace, queue: ReviewQueue, tables: Sequence[str], run_id: str
) -> list[TableCorrections]:
    runs = RunLog(ws.store, ws.clock)
    out = []
    for table in tables:
        started = ws.clock.now()
        result = _apply_table(ws, reviewable_table(table), queue.corrections(table=table), run_id)
        runs.record_step(
            run_id, "corrections", source=table, rows_in=result.corrections,
            rows_stored=result.rows_changed, started_at=started,
            detail=result.model_dump(exclude={"table"}),
        )  # fmt: skip
        out.append(result)
    return out


def _apply_table(
    ws: Workspace, spec: TableSpec, corrections: Sequence[dict[str, Any]], run_id: str
) -> TableCorrections:
    cells: dict[str, dict[str, Any]] = defaultdict(dict)
    for correction in corrections:  # oldest first: a later one wins (only one is active anyway)
        cells[correction["record_key"]][correction["column_name"]] = cell_value(
            spec, correction["column_name"], correction["value"]
        )
    columns = sorted({c for values in cells.values() for c in values})
    exists = ws.lake.exists(spec.zone.value, spec.name)
    current = rows_by_key(ws, spec, list(cells), [*spec.partition_by, *columns]) if exists else {}
    changed = [_corrected(row, cells[key]) for key, row in current.items()]
    rows = [row for row in changed if row is not None]
    version = _merge(ws, spec, rows, [*spec.partition_by, *columns], run_id)
    return TableCorrections(
        table=spec.name, corrections=len(corrections), rows_found=len(current),
        rows_changed=len(rows), missing=sum(1 for k in cells if k not in current),
        table_version=version,
    )  # fmt: skip


def _corrected(row: dict[str, Any], values: dict[str, Any]) -> dict[str, Any] | None:
    """The row with the corrected values set, or None when it holds them already."""
    if all(row.get(column) == value for column, value in values.items()):
        return None
    return {**row, **values}


def _merge(
    ws: Workspace, spec: TableSpec, rows: list[dict[str, Any]], columns: Sequence[str], run_id: str
) -> int | None:
    if not rows:
        return None
    schema = spec.arrow_schema()
    names = list(dict.fromkeys([key_column(spec), *columns]))
    data = pa.Table.from_pylist(rows, schema=pa.schema([schema.field(n) for n in names]))
    commit = ws.lake.merge(
        spec.zone.value, spec.name, data, spec.key, commit_info={"run_id": run_id,
                                                                  "job": RUN_KIND},
    )  # fmt: skip
    return commit.version

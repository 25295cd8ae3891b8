"""Pipeline run: the cleansing steps of the workspace's cleansing file, in one recorded run.

``custodia cleanse`` and the demo (after identity resolution) call :func:`run_cleansing`. The
steps of the file in force (:mod:`custodia.pipeline.cleansing_spec`) run in order, each recorded
as a step of a run of kind ``cleanse`` with its before/after counts in the step detail:

1. ``cleanse.deduplicate`` per rule (:mod:`custodia.pipeline.cleanse_dedupe`): rows before and
   after (``rows_in`` / ``rows_stored``), duplicate groups, rows deleted;
2. ``cleanse.standardize`` per table (:mod:`custodia.pipeline.cleanse_standardize`): per column,
   values not in canonical form before and after (``rows_stored`` = rows rewritten);
3. ``cleanse.fill`` (:mod:`custodia.pipeline.cleanse_fill`): per column, gaps before and after,
   into ``customer_records_filled``.

Cleansing works on the staged tables and never on the raw zone. A load merges the sources'
values back, so cleansing runs again after loads (idempotent: a second run changes nothing).

Example::

    report = run_cleansing(ws)
    report.standardize[0].columns[0].nonstandard_before, report.fill.columns[0].filled
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel

from custodia.core.tables import CUSTOMER_RECORDS
from custodia.pipeline.cleanse_dedupe import DedupeResult, deduplicate
from custodia.pipeline.cleanse_fill import FillResult, fill_gaps
from custodia.pipeline.cleanse_standardize import StandardizeResult, standardize_table
from custodia.pipeline.cleansing_spec import (
    CleansingSpec,
    cleansing_in_force,
    ensure_cleansing_file,
)
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["RUN_KIND", "CleansingReport", "run_cleansing"]

Progress = Callable[[str, int, int], None]
RUN_KIND = "cleanse"


class CleansingReport(BaseModel):
    run_id: str
    origin: str
    """The cleansing file in force: ``cleansing.yaml``, ``cleansing.active.yaml`` or ``shipped``."""
    error: str | None = None
    """Why ``cleansing.yaml`` is not in force, when it is not."""
    deduplicate: list[DedupeResult]
    standardize: list[StandardizeResult]
    fill: FillResult | None = None


def run_cleansing(ws: Workspace, *, progress: Progress | None = None) -> CleansingReport:
    """Run every cleansing step of the file in force, in one recorded run."""
    runs = RunLog(ws.store, ws.clock)
    ensure_cleansing_file(ws)
    in_force = cleansing_in_force(ws)
    run_id = runs.start_run(RUN_KIND, {"cleansing": in_force.origin})
    try:
        report = _run(ws, runs, run_id, in_force.spec, progress or _silent)
    except Exception as exc:
        runs.fail_run(run_id, exc)
        raise
    report = report.model_copy(update={"origin": in_force.origin, "error": in_force.error})
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats=_stats(report))
    return report


def _run(
    ws: Workspace, runs: RunLog, run_id: str, spec: CleansingSpec, progress: Progress
) -> CleansingReport:
    total = len(spec.deduplicate) + len(spec.standardize) + (spec.fill is not None)
    dedupes: list[DedupeResult] = []
    for rule in spec.deduplicate:
        progress(f"deduplicating {rule.table} ({rule.name})", len(dedupes), total)
        started = ws.clock.now()
        done = deduplicate(ws, rule, run_id)
        _step(runs, run_id, "cleanse.deduplicate", rule.table, done.rows_before,
              done.rows_after, started, done)  # fmt: skip
        dedupes.append(done)
    standardized: list[StandardizeResult] = []
    for std in spec.standardize:
        progress(f"standardizing {std.table}", len(dedupes) + len(standardized), total)
        started = ws.clock.now()
        result = standardize_table(ws, std, run_id)
        _step(runs, run_id, "cleanse.standardize", std.table, result.rows_read,
              result.rows_changed, started, result)  # fmt: skip
        standardized.append(result)
    filled = _fill(ws, runs, run_id, spec, progress, total)
    progress("cleansed", total, total)
    return CleansingReport(
        run_id=run_id, origin="", deduplicate=dedupes, standardize=standardized, fill=filled
    )


def _fill(
    ws: Workspace, runs: RunLog, run_id: str, spec: CleansingSpec, progress: Progress, total: int
) -> FillResult | None:
    if spec.fill is None:
        return None
    progress("filling gaps from profiles", total - 1, total)
    started = ws.clock.now()
    declared = [s.columns for s in spec.standardize if s.table == CUSTOMER_RECORDS.name]
    standard = {k: v for columns in declared for k, v in columns.items()}
    result = fill_gaps(ws, spec.fill, standardize=standard, run_id=run_id)
    if result is not None:
        _step(runs, run_id, "cleanse.fill", CUSTOMER_RECORDS.name, result.records,
              result.records, started, result)  # fmt: skip
    return result


def _step(
    runs: RunLog,
    run_id: str,
    step: str,
    table: str,
    rows_in: int,
    rows_stored: int,
    started: datetime,
    detail: BaseModel,
) -> None:
    runs.record_step(
        run_id, step, source=table, rows_in=rows_in, rows_stored=rows_stored,
        started_at=started, detail=detail.model_dump(mode="json"),
    )  # fmt: skip


def _stats(report: CleansingReport) -> dict[str, int]:
    return {
        "rows_deleted": sum(d.deleted for d in report.deduplicate),
        "rows_standardized": sum(s.rows_changed for s in report.standardize),
        "records_filled": report.fill.records_filled if report.fill else 0,
    }


def _silent(_message: str, _done: int, _total: int) -> None:
    return None

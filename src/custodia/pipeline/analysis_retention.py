"""Running cohort retention and repurchase cycles on a workspace (issue 8 item 6).

Both read orders (retention may read events instead) through ``profile_keys`` and run on DuckDB
or Spark from one SQL definition (:mod:`custodia.analytics.retention`,
:mod:`custodia.analytics.repurchase`). A workspace without the tables they read gives an empty,
well-formed result and says so in the summary. See docs/analytics-retention.md.

Example::

    run = run_retention(ws, RetentionParams(period="month"))
    run.summary["average"][1]["retention_rate"]
    run = run_repurchase(ws, RepurchaseParams(by="member_level"))
    run.summary["gaps"]["钻石会员"]["recent"]["km_median_gap_days"]
"""

from __future__ import annotations

from datetime import date
from typing import Any

from custodia.analytics.repurchase import (
    INTEREST_COLUMNS,
    REPURCHASE_COLUMNS,
    RepurchaseParams,
    gap_distribution_sql,
    gap_rows,
    interest_rows,
    interest_sql,
    largest_drops,
    windows,
)
from custodia.analytics.retention import RetentionParams, retention_rows, retention_sql
from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import table_spec
from custodia.pipeline.analysis_runs import (
    AnalysisOutput,
    AnalysisRun,
    Progress,
    has_results,
    missing_result,
    run_analysis,
)
from custodia.pipeline.sql_engines import EngineSession
from custodia.workspace import Workspace

__all__ = ["repurchase_output", "retention_output", "run_repurchase", "run_retention"]

_PERIOD_OF = "spell_start"
"""Gaps and spells count in the period of the purchase day that starts them."""


def _missing(ws: Workspace, tables: list[str]) -> list[str]:
    return [t for t in tables if not _exists(ws, t)]


def _exists(ws: Workspace, table: str) -> bool:
    try:
        spec = table_spec(table)
    except TableNotFoundError:  # an analysis table this checkout does not declare
        return False
    return ws.lake.exists(spec.zone.value, table)


def _no_rfm_run(params: RepurchaseParams) -> ValidationError:
    return missing_result("rfm", params.rfm_name, field="rfm_name")


def retention_output(session: EngineSession, params: RetentionParams) -> AnalysisOutput:
    rows = session.run(retention_sql(params)).to_pylist()
    table, summary = retention_rows(rows, params)
    return AnalysisOutput(tables={"analysis_retention": table}, summary=summary)


def run_retention(
    ws: Workspace,
    params: RetentionParams,
    *,
    name: str = "retention",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Cohort retention of profiles by their orders or one event; ``analysis_retention``."""
    reads = [params.activity, "profile_keys"]

    def compute(session: EngineSession) -> AnalysisOutput:
        missing = _missing(ws, reads)
        if missing:
            empty, summary = retention_rows([], params)
            return AnalysisOutput({"analysis_retention": empty}, {**summary, "missing": missing})
        return retention_output(session, params)

    return run_analysis(
        ws, kind="retention", name=name, params=params, reads=reads,
        compute=compute, engine=engine, progress=progress,
    )  # fmt: skip


def _latest_purchase(session: EngineSession) -> date | None:
    rows = session.run("SELECT CAST(max(ordered_at) AS DATE) AS latest FROM orders").to_pylist()
    latest = rows[0]["latest"] if rows else None
    return latest if isinstance(latest, date) else None


def repurchase_output(session: EngineSession, params: RepurchaseParams) -> AnalysisOutput:
    """Gap statistics (spells by the period they start in) and interests per tier and period,
    with the baseline/recent summary."""
    latest = _latest_purchase(session)
    if latest is None:
        return _empty_repurchase(params, [])
    w = windows(params, latest)
    per_period, gaps = gap_rows(session.run(gap_distribution_sql(params, w)).to_pylist(), params)
    interests = session.run(interest_sql(params, w)).to_pylist()
    summary: dict[str, Any] = {
        "by": params.by,
        "bucket": params.bucket,
        "period_of": _PERIOD_OF,
        "horizon_days": params.horizon_days,
        "windows": w.as_dict(),
        "gaps": gaps,
        "interest_drops": largest_drops(interests),
    }
    return AnalysisOutput(
        tables={
            "analysis_repurchase": per_period,
            "analysis_repurchase_interests": interest_rows(interests),
        },
        summary=summary,
    )


def _empty_repurchase(params: RepurchaseParams, missing: list[str]) -> AnalysisOutput:
    summary: dict[str, Any] = {
        "by": params.by, "bucket": params.bucket, "period_of": _PERIOD_OF,
        "horizon_days": params.horizon_days, "gaps": {},
    }  # fmt: skip
    summary["interest_drops"] = {"by_group": {}, "largest": None}
    if missing:
        summary["missing"] = missing
    return AnalysisOutput(
        tables={
            "analysis_repurchase": REPURCHASE_COLUMNS.empty_table(),
            "analysis_repurchase_interests": INTEREST_COLUMNS.empty_table(),
        },
        summary=summary,
    )


def _group_table(params: RepurchaseParams) -> list[str]:
    return {"member_level": ["profiles"], "rfm_tier": ["analysis_rfm"]}.get(params.by, [])


def run_repurchase(
    ws: Workspace,
    params: RepurchaseParams,
    *,
    name: str = "repurchase",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Repurchase gaps per tier over time and the interests that changed with them."""
    reads = ["orders", "order_lines", "profile_keys", *_group_table(params)]
    by_rfm = params.by == "rfm_tier"
    if by_rfm and not has_results(ws, None, "analysis_rfm", params.rfm_name):
        raise _no_rfm_run(params)

    def compute(session: EngineSession) -> AnalysisOutput:
        missing = _missing(ws, reads)
        if by_rfm and not has_results(ws, session, "analysis_rfm", params.rfm_name):
            raise _no_rfm_run(params)
        if missing:
            return _empty_repurchase(params, missing)
        return repurchase_output(session, params)

    return run_analysis(
        ws, kind="repurchase", name=name, params=params, reads=reads,
        compute=compute, engine=engine, progress=progress,
    )  # fmt: skip

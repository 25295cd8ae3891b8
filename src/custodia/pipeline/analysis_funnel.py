"""Running a funnel (issue 8 item 4) as a recorded analysis stored in ``analysis_funnel``.

The definition is :mod:`custodia.analytics.funnels`; this module checks the names a user gave
against the events (an unknown event or property is a ValidationError naming the field and the
closest known names, never an empty surprise), runs the one funnel query on the chosen engine
and stores its rows.

Example::

    params = FunnelParams(steps=["Product Viewed", "Product Added", "Order Completed"])
    run = run_funnel(ws, params)
    run.summary["conversion"], run.summary["largest_dropoff"]
"""

from __future__ import annotations

from custodia.analytics.event_stream import (
    check_events_known,
    check_properties_known,
    rows_table,
)
from custodia.analytics.funnels import FunnelParams, aggregate_funnel, funnel_rows
from custodia.core.analysis_tables import ANALYSIS_FUNNEL
from custodia.core.errors import ValidationError
from custodia.core.tables import PROFILE_KEYS, PROFILES
from custodia.pipeline.analysis_runs import (
    AnalysisOutput,
    AnalysisRun,
    Progress,
    has_results,
    missing_result,
    run_analysis,
)
from custodia.pipeline.sql_engines import EngineSession, dict_rows
from custodia.workspace import Workspace

__all__ = ["run_funnel"]


def run_funnel(
    ws: Workspace,
    params: FunnelParams,
    *,
    name: str = "funnel",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Run the funnel ``params`` over ``events`` and store it under ``name``."""
    reads = ["events", PROFILE_KEYS.name]
    if params.profile_breakdown:
        reads.append(PROFILES.name)
    result = params.analysis_breakdown
    if result is not None:
        reads.append(result[0])
        if not has_results(ws, None, result[0], result[2]):
            raise _no_result(params)

    def compute(session: EngineSession) -> AnalysisOutput:
        if result is not None and not has_results(ws, session, result[0], result[2]):
            raise _no_result(params)
        _check_names(session, params)
        linked = ws.lake.exists(PROFILE_KEYS.zone.value, PROFILE_KEYS.name)
        aggregated = aggregate_funnel(dict_rows(session), params, linked=linked)
        rows, summary = funnel_rows(aggregated, params)
        return AnalysisOutput(
            tables={ANALYSIS_FUNNEL.name: rows_table(ANALYSIS_FUNNEL, rows)}, summary=summary
        )

    return run_analysis(
        ws, kind="funnel", name=name, params=params, reads=reads, compute=compute,
        engine=engine, progress=progress,
    )  # fmt: skip


def _no_result(params: FunnelParams) -> ValidationError:
    assert params.analysis_breakdown is not None and params.by is not None
    kind, name = params.by.partition(".")[0], params.analysis_breakdown[2]
    return missing_result(kind, name, field="by_analysis" if params.by_analysis else "by")


def _check_names(session: EngineSession, params: FunnelParams) -> None:
    run = dict_rows(session)
    named = [(f"steps[{i}]", m) for i, m in enumerate(params.steps, 1)]
    named += [(f"exclude[{i}]", m) for i, m in enumerate(params.exclude, 1)]
    check_events_known(run, [(field, m.event) for field, m in named])
    props = [(f"{field}.where.{key}", m, key) for field, m in named for key in m.where]
    if params.property_breakdown:
        assert params.by is not None
        props.append(("by", params.steps[0], params.by))
    check_properties_known(run, props)

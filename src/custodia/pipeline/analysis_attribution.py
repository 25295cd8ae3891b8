"""Running attribution on a workspace: journeys in SQL, the models over the grouped paths.

Reads ``touchpoints``, ``orders`` and ``profile_keys``; stores ``analysis_attribution`` (credit
per model and channel) and ``analysis_attribution_lift`` (holdout groups, when the touchpoints
record any). See docs/analytics-attribution.md.

Example::

    run = run_attribution(ws, AttributionParams(models=["last", "markov"], markov_order=2))
    run.summary["models"]["markov"]      # {"conversions": 412.0, "value": 583210.5}
"""

from __future__ import annotations

import pyarrow as pa

from custodia.analytics.attribution import (
    ATTRIBUTION_READS,
    AttributionParams,
    conversions_sql,
    holdout_sql,
    journey_rows,
)
from custodia.analytics.attribution_models import JourneyPaths
from custodia.analytics.attribution_results import (
    credit_table,
    journey_paths,
    journeys_summary,
    lift_table,
)
from custodia.core.tables import table_spec
from custodia.pipeline.analysis_runs import AnalysisOutput, AnalysisRun, Progress, run_analysis
from custodia.pipeline.sql_engines import EngineSession
from custodia.workspace import Workspace

__all__ = ["attribution_output", "run_attribution"]


def attribution_output(session: EngineSession, params: AttributionParams) -> AnalysisOutput:
    """Compute attribution in an engine session (the tables it reads must exist)."""
    rows, decay = journey_rows(session.run, params)
    paths = journey_paths(rows)
    credit = credit_table(paths, decay if decay is not None else rows.slice(0, 0), params)
    lift = lift_table(session.run(holdout_sql(params)))
    summary = journeys_summary(rows, session.run(conversions_sql(params)), credit, params)
    summary["holdout_channels"] = lift.column("channel").to_pylist()
    return AnalysisOutput(
        tables={"analysis_attribution": credit, "analysis_attribution_lift": lift},
        summary=summary,
    )


def run_attribution(
    ws: Workspace,
    params: AttributionParams,
    *,
    name: str = "attribution",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Run attribution as a recorded analysis; its tables replace the rows of ``name``."""
    return run_analysis(
        ws,
        kind="attribution",
        name=name,
        params=params,
        reads=list(ATTRIBUTION_READS),
        compute=lambda session: _output_or_empty(ws, session, params),
        engine=engine,
        progress=progress,
    )


def _output_or_empty(
    ws: Workspace, session: EngineSession, params: AttributionParams
) -> AnalysisOutput:
    """No touchpoints, orders or profiles yet: empty tables and a summary saying what is missing."""
    missing = [t for t in ATTRIBUTION_READS if not ws.lake.exists(table_spec(t).zone.value, t)]
    if not missing:
        return attribution_output(session, params)
    empty = JourneyPaths.from_lists([], [], [], [])
    tables = {
        "analysis_attribution": credit_table(empty, pa.table({}), params),
        "analysis_attribution_lift": lift_table(pa.table({})),
    }
    return AnalysisOutput(tables=tables, summary={"journeys": 0, "missing_tables": missing})

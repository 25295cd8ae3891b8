"""Running a heatmap (issue 8 item 7) as a recorded run stored in ``analysis_heatmap``.

Example::

    run = run_heatmap(ws, HeatmapParams(page="/p/*", timezone="Asia/Shanghai"))
    run.summary["top_elements"], run.summary["busiest_hour"]
"""

from __future__ import annotations

from custodia.analytics.event_stream import rows_table
from custodia.analytics.heatmaps import HeatmapParams, element_sql, heatmap_rows, hour_sql
from custodia.core.analysis_tables import ANALYSIS_HEATMAP
from custodia.core.tables import PROFILE_KEYS
from custodia.pipeline.analysis_runs import AnalysisOutput, AnalysisRun, Progress, run_analysis
from custodia.pipeline.sql_engines import EngineSession
from custodia.workspace import Workspace

__all__ = ["run_heatmap"]


def run_heatmap(
    ws: Workspace,
    params: HeatmapParams,
    *,
    name: str = "heatmap",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Clicks by element and attention by weekday x hour, stored as ``name``. No events (or
    none on the page) give an empty element list and a zero grid."""

    def compute(session: EngineSession) -> AnalysisOutput:
        linked = ws.lake.exists(PROFILE_KEYS.zone.value, PROFILE_KEYS.name)
        if not ws.lake.exists("raw", "events"):
            elements, hours = [], []
        else:
            elements = session.run(element_sql(params, linked=linked)).to_pylist()
            hours = session.run(hour_sql(params, linked=linked)).to_pylist()
        rows, summary = heatmap_rows(elements, hours, params)
        return AnalysisOutput(
            tables={ANALYSIS_HEATMAP.name: rows_table(ANALYSIS_HEATMAP, rows)}, summary=summary
        )

    return run_analysis(
        ws, kind="heatmap", name=name, params=params, reads=["events", PROFILE_KEYS.name],
        compute=compute, engine=engine, progress=progress,
    )  # fmt: skip

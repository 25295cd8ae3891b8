"""Running a path analysis (issue 8 item 5) as a recorded run stored in ``analysis_paths``.

The start or end event is checked against the event labels (after the cleaning rules, so a
cleaned name is the one to give); an unknown one is a ValidationError naming it with the
closest known labels.

Example::

    run = run_paths(ws, PathParams(start_event="Home", steps=4))
    run.summary["top_paths"][0]     # {"path": "Home > Product > ...", "sessions": ..., ...}
"""

from __future__ import annotations

import re

from custodia.analytics.event_stream import known_labels_sql, rows_table, unknown_event_error
from custodia.analytics.paths import PathParams, path_rows, path_rows_of
from custodia.core.analysis_tables import ANALYSIS_PATHS
from custodia.core.errors import TableNotFoundError
from custodia.core.tables import PROFILE_KEYS
from custodia.pipeline.analysis_runs import AnalysisOutput, AnalysisRun, Progress, run_analysis
from custodia.pipeline.sql_engines import EngineSession, dict_rows
from custodia.workspace import Workspace

__all__ = ["run_paths"]


def run_paths(
    ws: Workspace,
    params: PathParams,
    *,
    name: str = "paths",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Top paths from ``params.start_event`` (or to ``params.end_event``), stored as ``name``."""

    def compute(session: EngineSession) -> AnalysisOutput:
        _check_anchor(session, params)
        linked = ws.lake.exists(PROFILE_KEYS.zone.value, PROFILE_KEYS.name)
        found = path_rows_of(dict_rows(session), params, linked=linked)
        rows, summary = path_rows(found, params)
        table = rows_table(ANALYSIS_PATHS, rows)
        return AnalysisOutput(tables={ANALYSIS_PATHS.name: table}, summary=summary)

    return run_analysis(
        ws, kind="paths", name=name, params=params, reads=["events", PROFILE_KEYS.name],
        compute=compute, engine=engine, progress=progress,
    )  # fmt: skip


def _check_anchor(session: EngineSession, params: PathParams) -> None:
    try:
        raw = [str(r["label"]) for r in session.run(known_labels_sql()).to_pylist() if r["label"]]
    except TableNotFoundError:
        raw = []
    known = {_cleaned(label, params) for label in raw}
    if params.anchor not in known:
        field = "start_event" if params.forward else "end_event"
        raise unknown_event_error(field, params.anchor, known)


def _cleaned(label: str, params: PathParams) -> str:
    for rule in params.clean:
        label = re.sub(rule.pattern, rule.replacement, label)
    return label

"""Running RFM on a workspace: the tier file in force, the window resolved, the run recorded.

The tiers come from the run's parameters when given (``--tiers FILE``, an API body), else from
``HOME/analytics/rfm_tiers.yaml`` (written from the shipped file on the first run, for the team
to edit): when an edit breaks it, the run says why in its summary and the last valid copy stays
in force (:mod:`custodia.pipeline.file_in_force`). Results: ``analysis_rfm`` (per profile) and
``analysis_rfm_tiers`` (per tier). See docs/analytics-rfm.md.

Example::

    run = run_rfm(ws, RfmParams(window_days=180))
    run.summary["tiers"]        # [{"tier": "高价值复购客户", "profiles": 41, ...}, ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custodia.analytics.rfm import RFM_READS, RfmParams, rfm_results, rfm_scores_sql
from custodia.analytics.rfm_tiers import (
    RfmTierSet,
    load_tiers_file,
    parse_tiers,
    shipped_tiers_text,
)
from custodia.pipeline.analysis_runs import AnalysisOutput, AnalysisRun, Progress, run_analysis
from custodia.pipeline.file_in_force import FileInForce, InForce
from custodia.pipeline.sql_engines import EngineSession
from custodia.workspace import Workspace

__all__ = ["resolve_rfm_params", "rfm_output", "run_rfm", "tiers_in_force", "tiers_path"]


def tiers_path(ws: Workspace) -> Path:
    return ws.home / "analytics" / "rfm_tiers.yaml"


def _tiers_file(ws: Workspace) -> FileInForce[RfmTierSet]:
    return FileInForce(
        tiers_path(ws), shipped_tiers_text,
        lambda text, origin: parse_tiers(text, origin=origin), load_tiers_file,
    )  # fmt: skip


def tiers_in_force(ws: Workspace) -> InForce[RfmTierSet]:
    """The workspace's tiers: its file if valid, else the last valid copy, else the shipped."""
    return _tiers_file(ws).in_force()


def resolve_rfm_params(ws: Workspace, params: RfmParams) -> tuple[RfmParams, dict[str, Any]]:
    """``params`` with ``as_of`` (today) and ``tiers`` (in force) filled, and where the tiers
    came from (``tiers_origin``, ``tiers_error``) for the run's summary."""
    if params.tiers is not None:
        origin: dict[str, Any] = {"tiers_origin": "parameters"}
        return params.resolved(ws.clock.now().date(), params.tiers), origin
    file = _tiers_file(ws)
    file.ensure()
    found = file.in_force()
    origin = {"tiers_origin": found.origin}
    if found.error:
        origin["tiers_error"] = found.error
    return params.resolved(ws.clock.now().date(), found.value), origin


def rfm_output(session: EngineSession, params: RfmParams, extra: dict[str, Any]) -> AnalysisOutput:
    """Compute RFM for resolved ``params`` in an engine session."""
    assert params.tiers is not None and params.as_of is not None
    per_profile, per_tier, summary = rfm_results(session.run(rfm_scores_sql(params)), params.tiers)
    first, last = params.window
    summary = {"window": [first.isoformat(), last.isoformat()], **summary, **extra}
    return AnalysisOutput(
        tables={"analysis_rfm": per_profile, "analysis_rfm_tiers": per_tier}, summary=summary
    )


def run_rfm(
    ws: Workspace,
    params: RfmParams,
    *,
    name: str = "rfm",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Run RFM as a recorded analysis; its tables replace the rows of ``name``."""
    resolved, extra = resolve_rfm_params(ws, params)
    return run_analysis(
        ws,
        kind="rfm",
        name=name,
        params=resolved,
        reads=list(RFM_READS),
        compute=lambda session: rfm_output(session, resolved, extra),
        engine=engine,
        progress=progress,
    )

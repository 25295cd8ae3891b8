"""Running customer clusters on a workspace: RFM (and traits) per profile, K-means, stable labels.

The RFM measures and tiers come from the same SQL as ``custodia analyse rfm`` with the same
window and tier rules (:mod:`custodia.pipeline.analysis_rfm`); trait features are numeric
values of the traits map of ``analysis_profile_traits`` (the run named ``traits_name``). The
previous run of the same analysis name gives the centroids whose labels new clusters inherit.
Results: ``analysis_clusters`` (profile -> cluster) and ``analysis_cluster_profiles``.
See docs/analytics-clusters.md.

Example::

    run = run_clusters(ws, ClusterParams(k_min=2, k_max=6))
    run.summary["k"], run.summary["clusters"]
"""

from __future__ import annotations

import json
from typing import Any, Final

import numpy as np
import pyarrow as pa

from custodia.analytics.cluster_profiles import cluster_results
from custodia.analytics.clusters import (
    RFM_FEATURES,
    ClusterParams,
    PreviousCluster,
    fit_clusters,
    stable_labels,
)
from custodia.analytics.rfm import RFM_READS, rfm_results, rfm_scores_sql
from custodia.core.analysis_tables import ANALYSIS_TABLES
from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.sql_text import quote_literal
from custodia.pipeline.analysis_rfm import resolve_rfm_params
from custodia.pipeline.analysis_runs import AnalysisOutput, AnalysisRun, Progress, run_analysis
from custodia.pipeline.sql_engines import EngineSession
from custodia.workspace import Workspace

__all__ = ["clusters_output", "run_clusters"]

TRAITS_TABLE: Final = "analysis_profile_traits"


def run_clusters(
    ws: Workspace,
    params: ClusterParams,
    *,
    name: str = "clusters",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Cluster the profiles as a recorded analysis; its tables replace the rows of ``name``."""
    resolved, extra = resolve_rfm_params(ws, params)
    assert isinstance(resolved, ClusterParams)
    previous, previous_run = _previous(ws, name)
    reads = [*RFM_READS, TRAITS_TABLE] if resolved.trait_names() else list(RFM_READS)
    if resolved.trait_names() and not _has_traits(ws):
        raise ValidationError(
            "features", "known_trait",
            f"features: traits need a traits run first (custodia analyse traits); "
            f"{TRAITS_TABLE} is empty",
        )  # fmt: skip
    extra = {**extra, "labels_from": previous_run}
    return run_analysis(
        ws,
        kind="clusters",
        name=name,
        params=resolved,
        reads=reads,
        compute=lambda session: clusters_output(session, resolved, previous, extra),
        engine=engine,
        progress=progress,
    )


def clusters_output(
    session: EngineSession, params: ClusterParams, previous: list[PreviousCluster],
    extra: dict[str, Any],
) -> AnalysisOutput:  # fmt: skip
    """Compute clusters for resolved ``params`` in an engine session."""
    assert params.tiers is not None
    rfm_rows, _, _ = rfm_results(session.run(rfm_scores_sql(params)), params.tiers)
    first, last = params.window
    window = {"window": [first.isoformat(), last.isoformat()]}
    if rfm_rows.num_rows == 0:
        return _nobody(window | extra)
    features = params.feature_names()
    matrix = _matrix(session, params, rfm_rows, features)
    fit = fit_clusters(features, matrix, params)
    labels = stable_labels(fit, previous)
    assigned, profiles, summary = cluster_results(rfm_rows, features, matrix, fit, labels)
    return AnalysisOutput(
        tables={"analysis_clusters": assigned, "analysis_cluster_profiles": profiles},
        summary=window | summary | extra,
    )


def _nobody(summary: dict[str, Any]) -> AnalysisOutput:
    """No profile ordered in the window: empty tables, and a summary that says so."""
    tables = {
        name: spec.arrow_schema().empty_table()
        for name, spec in ((s.name, s) for s in ANALYSIS_TABLES)
        if name in ("analysis_clusters", "analysis_cluster_profiles")
    }
    return AnalysisOutput(tables=tables, summary=summary | {"profiles": 0, "k": 0, "clusters": []})


def _matrix(
    session: EngineSession, params: ClusterParams, rfm_rows: pa.Table, features: list[str]
) -> np.ndarray:
    """profiles x features in original units; a trait a profile lacks takes the median."""
    traits = _trait_values(session, params, rfm_rows) if params.trait_names() else {}
    columns = [
        rfm_rows.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        if name in RFM_FEATURES
        else traits[name]
        for name in features
    ]
    return np.column_stack(columns)


def _trait_values(
    session: EngineSession, params: ClusterParams, rfm_rows: pa.Table
) -> dict[str, np.ndarray]:
    names = params.trait_names()
    picks = ", ".join(
        f"TRY_CAST(json_extract_string(traits, {quote_literal('$.' + n)}) AS DOUBLE) AS t{i}"
        for i, n in enumerate(names)
    )
    rows = session.run(
        f"SELECT profile_id, {picks} FROM {TRAITS_TABLE} "
        f"WHERE analysis_name = {quote_literal(params.traits_name)}"
    )
    at = {p: i for i, p in enumerate(rows.column("profile_id").to_pylist())}
    index = np.array([at.get(p, -1) for p in rfm_rows.column("profile_id").to_pylist()])
    out = {}
    for i, name in enumerate(names):
        values = rows.column(f"t{i}").to_numpy(zero_copy_only=False).astype(np.float64)
        picked = values[np.clip(index, 0, None)] if values.size else np.full(index.size, np.nan)
        column = np.where(index >= 0, picked, np.nan)
        known = column[~np.isnan(column)]
        if rfm_rows.num_rows and known.size == 0:
            raise ValidationError(
                "features", "numeric_trait",
                f"features: {name} is not a numeric trait of the traits run "
                f"'{params.traits_name}'",
            )  # fmt: skip
        out[name] = np.where(np.isnan(column), np.median(known) if known.size else 0.0, column)
    return out


def _has_traits(ws: Workspace) -> bool:
    try:
        return bool(ws.query(f"SELECT 1 FROM {TRAITS_TABLE} LIMIT 1").num_rows > 0)
    except TableNotFoundError:
        return False


def _previous(ws: Workspace, name: str) -> tuple[list[PreviousCluster], str | None]:
    """The clusters of the last stored run of ``name`` (none on a first run)."""
    try:
        rows = ws.query_engine().query(
            "SELECT cluster, model_centroid, analysis_id FROM analysis_cluster_profiles "
            "WHERE analysis_name = ? ORDER BY cluster",
            [name],
        )
    except TableNotFoundError:
        return [], None
    found = [
        PreviousCluster(int(r["cluster"]), json.loads(r["model_centroid"]))
        for r in rows.to_pylist()
        if r["model_centroid"]
    ]
    run_ids = rows.column("analysis_id").to_pylist()
    return found, (run_ids[0] if run_ids else None)

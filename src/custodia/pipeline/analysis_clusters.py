"""Running customer clusters on a workspace: RFM (and traits) per profile, K-means, stable labels.

The RFM measures and tiers come from the same SQL as ``custodia analyse rfm`` with the same
window and tier rules (:mod:`custodia.pipeline.analysis_rfm`); trait features are numeric
values of the traits map of ``analysis_profile_traits`` (the run named ``traits_name``), whose
tags also give each cluster its typical tags (:mod:`custodia.analytics.cluster_tags`; without a
traits run the clusters are computed all the same, with no typical tags and a ``tags_note``). The
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
from custodia.analytics.cluster_tags import TypicalTag, typical_tags
from custodia.analytics.clusters import (
    RFM_FEATURES,
    ClusterParams,
    PreviousCluster,
    fit_clusters,
    stable_labels,
)
from custodia.analytics.rfm import RFM_READS, rfm_results, rfm_scores_sql
from custodia.core.analysis_tables import ANALYSIS_TABLES
from custodia.core.arrow_values import float_values
from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.sql_text import quote_literal
from custodia.pipeline.analysis_rfm import resolve_rfm_params
from custodia.pipeline.analysis_runs import AnalysisOutput, AnalysisRun, Progress, run_analysis
from custodia.pipeline.sql_engines import EngineSession
from custodia.workspace import Workspace

__all__ = ["clusters_output", "run_clusters"]

TRAITS_TABLE: Final = "analysis_profile_traits"
TAGS_NOT_COMPUTED: Final = (
    "typical tags: traits were not computed (no rows of the traits run '{name}'); "
    "run custodia analyse traits first"
)


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
    traits = _traits_run(ws, resolved.traits_name)
    if resolved.trait_names() and traits is None:
        raise ValidationError(
            "features", "known_trait",
            f"features: traits need a traits run first (custodia analyse traits); "
            f"{TRAITS_TABLE} is empty",
        )  # fmt: skip
    reads = [*RFM_READS, TRAITS_TABLE] if traits is not None else list(RFM_READS)
    extra = {**extra, "labels_from": previous_run, "tags_from": traits}
    if traits is None:
        extra["tags_note"] = TAGS_NOT_COMPUTED.format(name=resolved.traits_name)
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
    tags = None
    if extra.get("tags_from"):
        tags = _typical_tags(session, params, rfm_rows, labels[fit.assignments])
    assigned, profiles, summary = cluster_results(rfm_rows, features, matrix, fit, labels, tags)
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
        float_values(rfm_rows.column(name)) if name in RFM_FEATURES else traits[name]
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
        values = float_values(rows.column(f"t{i}"))
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


def _typical_tags(
    session: EngineSession, params: ClusterParams, rfm_rows: pa.Table, cluster_of: np.ndarray
) -> dict[int, list[TypicalTag]]:
    """Typical tags per cluster label: the engine counts the profiles carrying each tag in
    each cluster (the stored rows of the traits run: one per profile, kept current by its
    incremental runs), :func:`typical_tags` ranks them."""
    found, counted = np.unique(cluster_of, return_counts=True)
    sizes = dict(zip(found.tolist(), counted.tolist(), strict=True))
    members = pa.table(
        {"profile_id": rfm_rows.column("profile_id"), "label": pa.array(cluster_of, pa.int32())}
    )
    session.add_relation("cluster_members", members)
    counts = session.run(
        "SELECT m.label, t.tag, count(DISTINCT m.profile_id) AS profiles "
        "FROM cluster_members m JOIN (SELECT profile_id, unnest(tags) AS tag "
        f"FROM {TRAITS_TABLE} WHERE analysis_name = {quote_literal(params.traits_name)}) t "
        "ON t.profile_id = m.profile_id WHERE t.tag IS NOT NULL GROUP BY m.label, t.tag"
    )
    carriers = zip(
        *(counts.column(c).to_pylist() for c in ("label", "tag", "profiles")), strict=True
    )
    return typical_tags(carriers, sizes, params.tag_rule())


def _traits_run(ws: Workspace, name: str) -> dict[str, Any] | None:
    """What the stored rows of the traits run ``name`` are (None when it was never run)."""
    try:
        sql = (
            "SELECT count(*) AS profiles, max(as_of) AS as_of, max(computed_at) AS computed_at "
            f"FROM {TRAITS_TABLE} WHERE analysis_name = ?"
        )
        row = ws.query_engine().query(sql, [name]).to_pylist()[0]
    except TableNotFoundError:
        return None
    if not row["profiles"]:
        return None
    return {
        "name": name,
        "as_of": row["as_of"].isoformat(),
        "computed_at": row["computed_at"].isoformat(),
        "profiles": row["profiles"],
    }


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

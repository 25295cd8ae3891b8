"""``custodia analyse clusters``: K-means customer clusters on scaled RFM (and traits).

    custodia --home H analyse clusters [--k K | --k-min 2 --k-max 8] [--features rfm[,TRAIT...]]
                                       [--window-days N] [--as-of DATE] [--tiers FILE]
                                       [--top-tags 5] [--tag-min-share 0.2] [--tag-min-lift 1.2]
                                       [--name N] [--engine E] [--json]

Results: ``analysis_clusters`` (profile -> cluster) and ``analysis_cluster_profiles``; see
docs/analytics-clusters.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from custodia.cli.analyse_cmd import (
    EngineOption,
    JsonOption,
    NameOption,
    run_and_print,
    validated,
)
from custodia.cli.analyse_rfm_cmd import (
    AsOfOption,
    StatusOption,
    TiersOption,
    WindowOption,
    rfm_values,
)
from custodia.cli.output import print_rows, stderr_console
from custodia.pipeline.analysis_runs import AnalysisRun


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("clusters")(clusters)


def clusters(
    ctx: typer.Context,
    k: Annotated[int | None, typer.Option("--k", help="Number of clusters (else chosen).")] = None,
    k_min: Annotated[int, typer.Option("--k-min", help="Smallest k tried by silhouette.")] = 2,
    k_max: Annotated[int, typer.Option("--k-max", help="Largest k tried by silhouette.")] = 8,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="Comma-separated: rfm, recency, frequency, monetary, or numeric trait names.",
        ),
    ] = "rfm",
    top_tags: Annotated[
        int, typer.Option("--top-tags", help="Typical tags listed per cluster (0: none).")
    ] = 5,
    tag_min_share: Annotated[
        float, typer.Option("--tag-min-share", help="Share of a cluster a typical tag must reach.")
    ] = 0.2,
    tag_min_lift: Annotated[
        float,
        typer.Option("--tag-min-lift", help="Its share in the cluster over its share overall."),
    ] = 1.2,
    window_days: WindowOption = 365,
    as_of: AsOfOption = None,
    tiers: TiersOption = None,
    exclude_status: StatusOption = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """K-means clusters of the profiles, k by silhouette, labels stable between runs."""
    from custodia.analytics.clusters import ClusterParams
    from custodia.pipeline.analysis_clusters import run_clusters

    values = {
        **rfm_values(window_days, as_of, tiers, exclude_status),
        "k": k,
        "k_min": k_min,
        "k_max": k_max,
        "features": [f.strip() for f in features.split(",") if f.strip()],
        "top_tags": top_tags,
        "tag_min_share": tag_min_share,
        "tag_min_lift": tag_min_lift,
    }
    params = validated(ClusterParams, values)
    run_and_print(
        ctx,
        "clusters",
        lambda ws, bar: run_clusters(
            ws, params, name=name or "clusters", engine=engine, progress=bar
        ),
        render_clusters,
        json_out,
    )


def render_clusters(run: AnalysisRun) -> None:
    summary = run.summary
    rows = [
        [
            c["cluster"], c["profiles"], f"{c['share']:.1%}", c["typical_tier"],
            f"{c['recency_days']:.0f}", f"{c['frequency']:.2f}", f"{c['monetary']:,.2f}",
            tag_lines(c.get("typical_tags") or []),
        ]
        for c in summary["clusters"]
    ]  # fmt: skip
    silhouette = summary["silhouette"]
    title = (
        f"{summary['k']} clusters of {summary['profiles']} profiles "
        f"(k by {summary['chosen_by']}"
        + (f", silhouette {silhouette:.3f})" if silhouette is not None else ")")
    )
    header = [
        "cluster", "profiles", "share", "typical tier", "recency days", "orders", "monetary",
        "typical tags (share, lift)",
    ]  # fmt: skip
    print_rows(header, rows, title)
    if summary.get("tags_note"):
        stderr_console().print(summary["tags_note"], markup=False, highlight=False)


def tag_lines(tags: list[dict[str, Any]]) -> str:
    """One typical tag a line: ``女性 62% ×1.4`` (``-`` when there is none)."""
    from rich.markup import escape

    return "\n".join(f"{escape(t['tag'])} {t['share']:.0%} ×{t['lift']:.1f}" for t in tags) or "-"

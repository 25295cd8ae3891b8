"""``custodia analyse funnel``: conversion through ordered steps within a window.

    custodia --home H analyse funnel --step "Product Viewed" --step "Product Added" \\
        --step "Order Completed" [--mode sequential|strict|any] [--window 14d] \\
        [--exclude EVENT ...] [--by PROPERTY|profile.ATTRIBUTE|rfm.tier|clusters.cluster] \\
        [--by-analysis NAME] [--from DAY] [--to DAY] \\
        [--name N] [--engine E] [--json]

A step is ``EVENT`` or ``EVENT[prop=value,...]``. Results: ``analysis_funnel``; see
docs/analytics-funnel.md.
"""

from __future__ import annotations

from typing import Annotated

import typer

from custodia.cli.analyse_cmd import (
    EngineOption,
    JsonOption,
    NameOption,
    run_and_print,
    validated,
)
from custodia.cli.output import print_rows
from custodia.pipeline.analysis_runs import AnalysisRun

StepOption = Annotated[
    list[str],
    typer.Option("--step", help="A step: EVENT or EVENT[prop=value,...] (repeat, in order)."),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option("--exclude", help="An event that voids a conversion between steps (repeat)."),
]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC).")]


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("funnel")(funnel)


def funnel(
    ctx: typer.Context,
    step: StepOption,
    mode: Annotated[str, typer.Option("--mode", help="sequential, strict or any.")] = "sequential",
    window: Annotated[
        str, typer.Option("--window", help="Conversion window: 2h, 14d, 2w.")
    ] = "14d",
    exclude: ExcludeOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Breakdown: a step-1 property, profile.member_level, rfm.tier, clusters.cluster.",
        ),
    ] = None,
    by_analysis: Annotated[
        str | None,
        typer.Option(
            "--by-analysis", help="The analysis rfm.* / clusters.* reads (default: rfm, clusters)."
        ),
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """Conversion per step, time to convert and the largest drop-off (one SQL pass)."""
    from custodia.analytics.funnels import FunnelParams
    from custodia.pipeline.analysis_funnel import run_funnel

    values = {"steps": step, "mode": mode, "window": window, "exclude": exclude, "by": by,
              "by_analysis": by_analysis, "from": start, "to": end}  # fmt: skip
    params = validated(FunnelParams, values)
    run_and_print(
        ctx,
        "funnel",
        lambda ws, bar: run_funnel(ws, params, name=name or "funnel", engine=engine, progress=bar),
        render_funnel,
        json_out,
    )


def render_funnel(run: AnalysisRun) -> None:
    summary = run.summary
    largest = (summary["largest_dropoff"] or {}).get("step")
    rows = [
        [
            s["step"], s["step_label"], s["persons"], _share(s["conversion_from_previous"]),
            _share(s["conversion_overall"]), _seconds(s["median_seconds"]),
            "<- largest drop-off" if s["step"] == largest else "",
        ]
        for s in summary["per_step"]
    ]  # fmt: skip
    title = f"funnel ({summary['mode']}, window {summary['window']}): {summary['entered']} entered"
    headers = ["step", "event", "people", "from previous", "overall", "median time", ""]
    print_rows(headers, rows, title)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} s"

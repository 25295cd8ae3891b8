"""``custodia analyse heatmap``: clicks by page element, views and clicks by weekday x hour.

    custodia --home H analyse heatmap [--page PATH|GLOB] [--timezone Asia/Shanghai|UTC|...]
        [--from DAY] [--to DAY] [--name N] [--engine E] [--json]

Results: ``analysis_heatmap``; see docs/analytics-heatmap.md.
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
from custodia.cli.analyse_funnel_cmd import FromOption, ToOption
from custodia.cli.output import print_rows
from custodia.pipeline.analysis_runs import AnalysisRun

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("heatmap")(heatmap)


def heatmap(
    ctx: typer.Context,
    page: Annotated[
        str | None, typer.Option("--page", help="Page path, or a glob like /p/* (default: all).")
    ] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", help="Zone of weekday and hour (IANA name).")
    ] = "Asia/Shanghai",
    first_day: FromOption = None,
    last_day: ToOption = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """Click counts per page element and attention by weekday and hour."""
    from custodia.analytics.heatmaps import HeatmapParams
    from custodia.pipeline.analysis_heatmap import run_heatmap

    values = {"page": page, "timezone": timezone, "from": first_day, "to": last_day}
    params = validated(HeatmapParams, values)
    run_and_print(
        ctx,
        "heatmap",
        lambda ws, bar: run_heatmap(
            ws, params, name=name or "heatmap", engine=engine, progress=bar
        ),
        render_heatmap,
        json_out,
    )


def render_heatmap(run: AnalysisRun) -> None:
    summary = run.summary
    rows = [
        [e["element_id"], e["element_text"], e["clicks"], f"{e['click_share']:.1%}"]
        for e in summary["top_elements"]
    ]
    title = f"clicks on {summary['page']}: {summary['clicks']}; views: {summary['views']}"
    print_rows(["element", "text", "clicks", "share"], rows, title)
    busiest = summary["busiest_hour"]
    if busiest and busiest["views"]:
        day = _DAYS[busiest["weekday"] - 1]
        print_rows(
            ["weekday", "hour", "views"],
            [[day, f"{busiest['hour']:02d}:00", busiest["views"]]],
            f"busiest hour ({summary['timezone']})",
        )

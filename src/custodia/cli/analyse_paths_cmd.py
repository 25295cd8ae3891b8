"""``custodia analyse paths``: where sessions go after a start event, or come from before an end.

    custodia --home H analyse paths (--start EVENT | --end EVENT) [--steps 5]
        [--session-minutes 30] [--clean REGEX=REPL ...] [--keep-repeats] [--top 20]
        [--from DAY] [--to DAY] [--name N] [--engine E] [--json]

Results (Sankey nodes and links by step, top whole paths): ``analysis_paths``; see
docs/analytics-paths.md.
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

EventOption = Annotated[str | None, typer.Option(help="Event (or page/screen name), cleaned.")]


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("paths")(paths)


def paths(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option("--start", help="Paths after this event.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Paths leading to this event.")] = None,
    steps: Annotated[int, typer.Option("--steps", help="Steps after/before it.")] = 5,
    session_minutes: Annotated[
        int, typer.Option("--session-minutes", help="A gap this long ends a session.")
    ] = 30,
    clean: Annotated[
        list[str] | None,
        typer.Option("--clean", help="REGEX=REPLACEMENT applied to labels (repeat, in order)."),
    ] = None,
    keep_repeats: Annotated[
        bool, typer.Option("--keep-repeats", help="Keep a label repeated back to back.")
    ] = False,
    top: Annotated[int, typer.Option("--top", help="Whole paths kept.")] = 20,
    first_day: FromOption = None,
    last_day: ToOption = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """Top transitions and paths from a start or to an end event, sessionized (Sankey data)."""
    from custodia.analytics.paths import PathParams
    from custodia.pipeline.analysis_paths import run_paths

    values = {"start_event": start, "end_event": end, "steps": steps, "top": top,
              "session_minutes": session_minutes, "clean": clean,
              "collapse_repeats": not keep_repeats, "from": first_day, "to": last_day}  # fmt: skip
    params = validated(PathParams, values)
    run_and_print(
        ctx,
        "paths",
        lambda ws, bar: run_paths(ws, params, name=name or "paths", engine=engine, progress=bar),
        render_paths,
        json_out,
    )


def render_paths(run: AnalysisRun) -> None:
    summary = run.summary
    title = (
        f"paths {summary['direction']} {summary['anchor']!r}: {summary['sessions']} sessions "
        f"({summary['session_minutes']} min gap)"
    )
    rows = [[p["path"], p["sessions"], _share(p["share"])] for p in summary["top_paths"]]
    print_rows(["path", "sessions", "share"], rows, title)
    links = [[t["step"], t["source"], t["target"], t["sessions"]] for t in summary["top_links"]]
    print_rows(["step", "from", "to", "sessions"], links, "top transitions")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"

"""``custodia analyse rfm``: recency, frequency and monetary scores and named tiers per profile.

    custodia --home H analyse rfm [--window-days N] [--as-of DATE] [--tiers FILE]
                                  [--exclude-status S ...] [--name N] [--engine E] [--json]

Results: ``analysis_rfm`` (per profile) and ``analysis_rfm_tiers`` (per tier); see
docs/analytics-rfm.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from custodia.cli.analyse_cmd import (
    EngineOption,
    JsonOption,
    NameOption,
    run_and_print,
    validated,
)
from custodia.cli.output import print_rows, stderr_console
from custodia.pipeline.analysis_runs import AnalysisRun

WindowOption = Annotated[
    int, typer.Option("--window-days", help="Days of orders measured, ending on --as-of.")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Last day of the window, YYYY-MM-DD (default: today, UTC)."),
]
TiersOption = Annotated[
    Path | None,
    typer.Option(
        "--tiers", help="Tier file for this run (default: HOME/analytics/rfm_tiers.yaml)."
    ),
]
StatusOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude-status", help="Order status left out (repeat; default cancelled, refunded)."
    ),
]


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("rfm")(rfm)


def rfm_values(
    window_days: int, as_of: str | None, tiers: Path | None, exclude: list[str] | None
) -> dict[str, Any]:
    """The RFM options as parameter values (the tier file read and checked here)."""
    from custodia.analytics.rfm_tiers import load_tiers_file

    return {
        "window_days": window_days,
        "as_of": as_of,
        "exclude_statuses": exclude,
        "tiers": None if tiers is None else load_tiers_file(tiers),
    }


def rfm(
    ctx: typer.Context,
    window_days: WindowOption = 365,
    as_of: AsOfOption = None,
    tiers: TiersOption = None,
    exclude_status: StatusOption = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """RFM scores 1-5 (equal values, equal scores) and named tiers over a window of orders."""
    from custodia.analytics.rfm import RfmParams
    from custodia.pipeline.analysis_rfm import run_rfm

    params = validated(RfmParams, rfm_values(window_days, as_of, tiers, exclude_status))
    run_and_print(
        ctx,
        "rfm",
        lambda ws, bar: run_rfm(ws, params, name=name or "rfm", engine=engine, progress=bar),
        render_rfm,
        json_out,
    )


def render_rfm(run: AnalysisRun) -> None:
    summary = run.summary
    first, last = summary["window"]
    rows = [
        [t["tier"], t["tier_label"], t["profiles"], f"{t['share']:.1%}", f"{t['monetary']:,.2f}"]
        for t in summary["tiers"]
    ]
    title = f"RFM tiers, {first} .. {last}: {summary['profiles']} profiles"
    print_rows(["tier", "label", "profiles", "share", "monetary"], rows, title)
    if "tiers_error" in summary:
        stderr_console().print(
            f"tier file not in force ({summary['tiers_origin']} used): {summary['tiers_error']}"
        )

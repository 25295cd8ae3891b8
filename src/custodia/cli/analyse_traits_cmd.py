"""``custodia analyse traits``: computed traits and tags per profile (incremental by default).

    custodia --home H analyse traits [--full] [--as-of DATE] [--name N] [--engine E] [--json]

Spec: HOME/analytics/traits.yaml (written from the shipped one on the first run). Results:
``analysis_profile_traits``; see docs/analytics-traits.md.
"""

from __future__ import annotations

from typing import Annotated

import typer

from custodia.cli.analyse_cmd import EngineOption, JsonOption, NameOption, run_and_print
from custodia.cli.output import print_rows, stderr_console
from custodia.pipeline.analysis_runs import AnalysisRun

FullOption = Annotated[
    bool, typer.Option("--full", help="Recompute every profile, not only those due.")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Day the windows end on, YYYY-MM-DD (default: today, UTC)."),
]


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("traits")(traits)


def traits(
    ctx: typer.Context,
    full: FullOption = False,
    as_of: AsOfOption = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """Compute the traits and tags of every profile due (all with --full); store them."""
    from custodia.analytics.traits_spec import TraitsParams
    from custodia.cli.analyse_cmd import validated
    from custodia.pipeline.analysis_traits import run_traits

    params = validated(TraitsParams, {"as_of": as_of, "full": full})
    run_and_print(
        ctx,
        "computing traits",
        lambda ws, bar: run_traits(ws, params, name=name or "traits", engine=engine, progress=bar),
        _render,
        json_out,
    )


def _render(run: AnalysisRun) -> None:
    summary = run.summary
    if summary.get("spec_error"):
        stderr_console().print(f"traits file not in force: {summary['spec_error']}")
    print_rows(
        ("tag", "profiles"),
        [(t["tag"], t["profiles"]) for t in summary.get("tags", [])][:30],
        (
            f"traits as of {summary['as_of']} ({summary['mode']}): "
            f"{summary['profiles_computed']} profiles computed, "
            f"{summary['profiles_removed']} removed"
        ),
    )

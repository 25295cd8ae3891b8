"""``custodia analyse attribution``: credited conversions and value per channel per model.

    custodia --home H analyse attribution [--models first,last,linear,position,time_decay,
        markov,shapley] [--markov-order 1..3] [--lookback 30d] [--half-life 7d]
        [--interactions click,impression] [--name N] [--engine E] [--json]

Results: ``analysis_attribution`` (model x channel) and ``analysis_attribution_lift`` (holdout
groups); see docs/analytics-attribution.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from custodia.cli.analyse_cmd import EngineOption, JsonOption, NameOption, run_and_print, validated
from custodia.cli.output import print_rows, stdout_console
from custodia.pipeline.analysis_runs import AnalysisRun

ModelsOption = Annotated[
    str | None,
    typer.Option("--models", help="Comma-separated: first,last,linear,position,time_decay,"
                 "markov,shapley (default: all)."),
]  # fmt: skip
OrderOption = Annotated[int, typer.Option("--markov-order", help="Markov chain order, 1 to 3.")]
LookbackOption = Annotated[
    str, typer.Option("--lookback", help="Touches count this long before an order (30d, 36h).")
]
HalfLifeOption = Annotated[
    str, typer.Option("--half-life", help="Time decay: a touch this much older weighs half.")
]
InteractionsOption = Annotated[
    str | None,
    typer.Option("--interactions", help="Comma-separated touchpoint interactions that count "
                 "(default: all but 'holdout')."),
]  # fmt: skip


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("attribution")(attribution)


def _listed(text: str | None) -> list[str] | None:
    return None if text is None else [p.strip() for p in text.split(",") if p.strip()]


def attribution_params(values: dict[str, Any]) -> Any:
    """AttributionParams from option values; a bad one names its option's field and rule."""
    from custodia.analytics.attribution import AttributionParams

    return validated(AttributionParams, values)


def attribution(
    ctx: typer.Context,
    models: ModelsOption = None,
    markov_order: OrderOption = 1,
    lookback: LookbackOption = "30d",
    half_life: HalfLifeOption = "7d",
    interactions: InteractionsOption = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """Credit conversions and value to marketing channels (heuristic, Markov, Shapley models)."""
    from custodia.pipeline.analysis_attribution import run_attribution

    params = attribution_params(
        {
            "models": _listed(models),
            "markov_order": markov_order,
            "lookback": lookback,
            "half_life": half_life,
            "interactions": _listed(interactions),
        }
    )
    run_and_print(
        ctx,
        "attribution",
        lambda ws, bar: run_attribution(
            ws, params, name=name or "attribution", engine=engine, progress=bar
        ),
        render_attribution,
        json_out,
    )


def render_attribution(run: AnalysisRun) -> None:
    """Conversions credited per channel, one column per model, then the journeys in brief."""
    summary = run.summary
    credit = summary.get("credit", [])
    models = list(dict.fromkeys(r["model"] for r in credit))
    channels = sorted({r["channel"] for r in credit})
    cell = {(r["model"], r["channel"]): r["conversions"] for r in credit}
    rows = [[c, *(f"{cell.get((m, c), 0.0):,.1f}" for m in models)] for c in channels]
    title = (
        f"Conversions credited per channel: {summary.get('attributed_conversions', 0)} of "
        f"{summary.get('conversions', 0)} conversions had touches within the lookback"
    )
    print_rows(["channel", *models], rows, title)
    stdout_console().print(
        f"journeys {summary.get('journeys', 0)} ({summary.get('converting_journeys', 0)} "
        f"converting), {summary.get('distinct_paths', 0)} distinct paths"
    )

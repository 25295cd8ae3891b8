"""``custodia analyse retention`` and ``custodia analyse repurchase``.

    custodia --home H analyse retention [--cohort first|recurring] [--period day|week|month]
        [--cumulative] [--event E | --orders] [--periods N] [--since D] [--until D]
        [--name N] [--engine E] [--json]
    custodia --home H analyse repurchase [--by tier|member_level|rfm_tier|all]
        [--bucket month|quarter] [--recent-months N] [--baseline previous_year|preceding]
        [--as-of D] [--horizon-days N] [--limited-prefix P ...] [--rfm-name N] [--name N]
        [--engine E] [--json]

Results: ``analysis_retention``; ``analysis_repurchase`` and ``analysis_repurchase_interests``
(docs/analytics-retention.md).
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
from custodia.cli.output import print_rows
from custodia.core.errors import ValidationError
from custodia.pipeline.analysis_runs import AnalysisRun


def register(analyse_app: typer.Typer) -> None:
    analyse_app.command("retention")(retention)
    analyse_app.command("repurchase")(repurchase)


def retention(
    ctx: typer.Context,
    cohort: Annotated[
        str, typer.Option("--cohort", help="first (by first activity) or recurring.")
    ] = "first",
    period: Annotated[str, typer.Option("--period", help="day, week or month (UTC).")] = "week",
    cumulative: Annotated[
        bool, typer.Option("--cumulative", help="Offset k counts returns in periods 1..k.")
    ] = False,
    event: Annotated[
        str | None, typer.Option("--event", help="Activity is this event (default: orders).")
    ] = None,
    orders: Annotated[bool, typer.Option("--orders", help="Activity is orders (default).")] = False,
    periods: Annotated[int, typer.Option("--periods", help="Offsets after the cohort.")] = 12,
    since: Annotated[str | None, typer.Option("--since", help="First cohort, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last cohort, YYYY-MM-DD.")] = None,
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """Cohort retention of profiles: counts and rates per cohort and period offset."""
    from custodia.analytics.retention import RetentionParams
    from custodia.pipeline.analysis_retention import run_retention

    if orders and event is not None:
        raise ValidationError("event", "exclusive", "event: give --event or --orders, not both")
    values: dict[str, Any] = {
        "cohort": cohort, "period": period, "cumulative": cumulative, "event": event,
        "periods": periods, "since": since, "until": until,
    }  # fmt: skip
    params = validated(RetentionParams, values)
    run_and_print(
        ctx,
        "retention",
        lambda ws, bar: run_retention(
            ws, params, name=name or "retention", engine=engine, progress=bar
        ),
        render_retention,
        json_out,
    )


def render_retention(run: AnalysisRun) -> None:
    s = run.summary
    rows = [
        [a["period_offset"], a["cohorts"], a["profiles"], f"{a['retention_rate']:.1%}"]
        for a in s["average"]
    ]
    kind = "cumulative " if s["cumulative"] else ""
    title = (
        f"{kind}retention of {s['cohort']} cohorts by {s['period']} ({s['activity']}): "
        f"{s['cohorts']} cohorts, {s['profiles']} profiles"
    )
    print_rows(["offset", "cohorts", "profiles", "retention"], rows, title)


def repurchase(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option("--by", help="tier (= member_level), member_level, rfm_tier or all.")
    ] = "member_level",
    bucket: Annotated[
        str, typer.Option("--bucket", help="month or quarter (in which a spell starts).")
    ] = "month",
    recent_months: Annotated[
        int, typer.Option("--recent-months", help="Months compared, up to --as-of.")
    ] = 6,
    baseline: Annotated[
        str,
        typer.Option("--baseline", help="previous_year (same months) or preceding months."),
    ] = "previous_year",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Last day, YYYY-MM-DD (default: last order).")
    ] = None,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", help="Restricted mean gap: mean of min(gap, N).")
    ] = 150,
    limited_prefix: Annotated[
        list[str] | None,
        typer.Option("--limited-prefix", help="Name prefix of limited editions (repeat)."),
    ] = None,
    rfm_name: Annotated[
        str, typer.Option("--rfm-name", help="RFM analysis read by --by rfm_tier.")
    ] = "rfm",
    name: NameOption = None,
    engine: EngineOption = "duckdb",
    json_out: JsonOption = False,
) -> None:
    """Repurchase gaps per tier over time, and the interests whose share fell most."""
    from custodia.analytics.repurchase import RepurchaseParams
    from custodia.pipeline.analysis_retention import run_repurchase

    values: dict[str, Any] = {
        "by": by, "bucket": bucket, "recent_months": recent_months, "baseline": baseline,
        "as_of": as_of, "horizon_days": horizon_days, "limited_prefixes": limited_prefix,
        "rfm_name": rfm_name,
    }  # fmt: skip
    params = validated(RepurchaseParams, values)
    run_and_print(
        ctx,
        "repurchase",
        lambda ws, bar: run_repurchase(
            ws, params, name=name or "repurchase", engine=engine, progress=bar
        ),
        render_repurchase,
        json_out,
    )


_BASIS_LABELS = {
    "km_median": "KM median",
    "km_restricted_mean": "KM mean ≤{h}d",
    "mean": "mean seen",
}


def _gap(entry: dict[str, Any], window: str) -> str:
    """The window's figure the change is based on (``gap_change_basis``)."""
    found, basis = entry.get(window), entry.get("gap_change_basis")
    if found is None or basis is None:
        return ""
    value = found[f"{basis}_gap_days"]
    return "" if value is None else f"{round(value, 1):g}"


def render_repurchase(run: AnalysisRun) -> None:
    s = run.summary
    drops = s["interest_drops"]["by_group"]
    rows = []
    for group, entry in s["gaps"].items():
        drop = drops.get(group)
        fell = "" if drop is None else (
            f"{drop['interest']} {drop['baseline_share']:.1%} -> {drop['recent_share']:.1%}"
        )  # fmt: skip
        change, basis = entry.get("gap_change"), entry.get("gap_change_basis")
        label = _BASIS_LABELS.get(basis or "", "").format(h=s.get("horizon_days"))
        rows.append([
            group, _gap(entry, "baseline"), _gap(entry, "recent"),
            "" if change is None else f"x{change:.2f}", label, fell,
        ])  # fmt: skip
    w = s.get("windows", {})
    title = (
        f"days to the next purchase by {s['by']} (spells counted in the {s['bucket']} they "
        f"start; censoring-aware Kaplan-Meier where identified): baseline "
        f"{w.get('baseline_start', '-')} .. {w.get('baseline_end', '-')}, recent "
        f"{w.get('recent_start', '-')} .. {w.get('as_of', '-')}"
    )
    headers = ["tier", "gap before", "gap recent", "change", "figure", "largest share drop"]
    print_rows(headers, rows, title)

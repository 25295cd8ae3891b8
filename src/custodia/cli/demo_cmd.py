"""``custodia demo``: generate the demo brand's sources and run every pipeline stage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.cli.progress import progress_bar, progress_bars
from custodia.core.errors import WorkspaceError
from custodia.settings import Settings
from custodia.workspace import MARKER, Workspace

if TYPE_CHECKING:
    from custodia.pipeline.cleanse_run import CleansingReport
    from custodia.pipeline.demo_run import DemoReport
    from custodia.pipeline.quality_run import QualityReport

DEMO_FOLDER = "demo"  # the folder under HOME/sources; the same name as custodia.pipeline.demo_run

demo_app = typer.Typer(help="The demo brand: generate its sources and load them end to end.")

Customers = Annotated[int, typer.Option("--customers", min=50, max=2_000_000, help="Customers.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    customers: Customers = 2_000,
    seed: Seed = 7,
    serve: Annotated[bool, typer.Option("--serve", help="Start the server afterwards.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Generate the demo data and run every pipeline stage, then print a summary."""
    if ctx.invoked_subcommand is not None:
        return
    from custodia.pipeline.demo_run import run_demo

    settings = state(ctx).settings()
    ws = _open_or_create(settings, quiet=json_out)
    with ws, progress_bars("generate", "load", enabled=not json_out) as (gen, load):
        report = run_demo(
            ws, customers=customers, seed=seed, generate_progress=gen, load_progress=load
        )
    if json_out:
        print_json(report.model_dump(mode="json"))
    else:
        _print_summary(report)
    if serve:
        from custodia.cli.serve_cmd import run_server

        run_server(settings, settings.host, settings.port)


@demo_app.command("generate")
def generate(
    ctx: typer.Context,
    customers: Customers = 2_000,
    seed: Seed = 7,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write (default HOME/sources/demo).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Write the demo sources (CSV, JSON lines, SQLite CRM, event batches) without loading them."""
    from custodia.pipeline.demo_run import generate_demo_sources

    target = out or state(ctx).settings().home / "sources" / DEMO_FOLDER
    with progress_bar("generate", enabled=not json_out) as gen:
        manifest = generate_demo_sources(target, customers=customers, seed=seed, progress=gen)
    if json_out:
        print_json(manifest.model_dump(mode="json"))
        return
    table = Table(title=f"Demo sources in {target}")
    for col in ("source", "entity", "format", "records"):
        table.add_column(col, justify="right" if col == "records" else "left")
    for src in manifest.sources:
        table.add_row(src.name, src.entity, src.format, f"{src.records:,}")
    stdout_console().print(table)


def _open_or_create(settings: Settings, *, quiet: bool) -> Workspace:
    if (settings.home / MARKER).exists():
        return Workspace.open(settings)
    if settings.home.exists() and any(settings.home.iterdir()):
        raise WorkspaceError(f"{settings.home} is not empty and not a Custodia workspace")
    ws, token = Workspace.create(settings)
    if not quiet:
        console = stdout_console()
        console.print(f"[green]Created workspace[/] {ws.home}. Admin API token (shown once):")
        console.print(token.token, markup=False, highlight=False)
    return ws


def _print_summary(report: DemoReport) -> None:
    """One row per source and target table: what came in, what landed raw, what was staged."""
    table = Table(title=f"Demo load, run {report.load.run_id}")
    headers = ("source", "format", "in", "raw", "rejected", "staged into", "new", "updated")
    for col in headers:
        numeric = col in {"in", "raw", "rejected", "new", "updated"}
        table.add_column(
            col, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold"
        )
    for src in report.load.sources:
        first = (src.source, src.format, f"{src.rows_in:,}", f"{src.rows_landed:,}",
                 f"{src.rows_rejected:,}")  # fmt: skip
        targets = src.targets or []
        if not targets:
            table.add_row(*first, "(raw only)", "", "")
        for index, target in enumerate(targets):
            lead = first if index == 0 else ("", "", "", "", "")
            table.add_row(
                *lead, target.table, f"{target.rows_inserted:,}", f"{target.rows_updated:,}"
            )
    console = stdout_console()
    console.print(table)
    if report.text_tags is not None:
        tagged = report.text_tags
        console.print(
            f"Text mining tagged {tagged.rows_tagged:,} interactions (complaint type, sentiment, "
            "products): custodia text tag --full re-tags them."
        )
    if report.identity is not None:
        ident = report.identity
        console.print(
            f"Identity resolution: {ident.records_in_scope:,} records -> "
            f"{ident.profiles_total:,} profiles ({ident.records_flagged:,} records with a rejected "
            "identifier)."
            + (f" Probabilistic matching skipped: {ident.probabilistic_skipped}"
               if ident.probabilistic_skipped else "")
        )  # fmt: skip
    if report.identity_accuracy is not None:
        acc = report.identity_accuracy
        console.print(
            f"  against the ground truth: precision {acc.precision:.4f}, recall {acc.recall:.4f}, "
            f"F1 {acc.f1:.4f} over {acc.attached:,} of {acc.records:,} source records; "
            f"profiles holding two ID numbers: {acc.profiles_with_two_resident_ids}\n"
            f"  leaving out {acc.attached - acc.observable_records:,} records known only by a "
            f"browser id that never logs in: precision {acc.observable_precision:.4f}, "
            f"recall {acc.observable_recall:.4f}, F1 {acc.observable_f1:.4f}"
        )
    if report.cleansing is not None:
        _print_cleansing(report.cleansing)
    if report.quality is not None:
        _print_quality(report.quality)
    console.print(
        f"Sources and their mapping file: {report.sources_dir}\n"
        "Next: custodia catalog | custodia quality explain repurchase_rate_by_region"
        ' | custodia sql "select channel, count(*) from orders group by 1"'
        " | custodia profile show member_id:M0000001 | custodia serve"
    )


def _print_cleansing(cleansing: CleansingReport) -> None:
    changed = sum(r.rows_changed for r in cleansing.standardize)
    duplicates = sum(r.duplicates for r in cleansing.deduplicate)
    filled = cleansing.fill.records_filled if cleansing.fill is not None else 0
    stdout_console().print(
        f"Cleansing: {changed:,} records standardized, {duplicates:,} duplicates found, "
        f"{filled:,} records with gaps filled from golden profiles (custodia cleanse)"
    )


def _print_quality(quality: QualityReport) -> None:
    console = stdout_console()
    overall = {s.table: s.score for s in quality.scores if s.dimension == "overall"}
    statuses = [r.status for r in quality.rules]
    console.print(
        f"Quality: {len(statuses)} rules, {statuses.count('breach')} over their threshold, "
        f"{statuses.count('fail')} with some failures; overall score "
        f"{overall.get('*', 0) * 100:.1f}/100; alerts opened: "
        + (", ".join(a.rule for a in quality.alerts_opened) or "none")
        + " (custodia quality run | quality alerts)"
    )
    view = quality.customer_completeness
    if view is not None:
        curated = (
            f" -> {view.filled_overall:.1%} once cleansing filled their gaps from the golden "
            "profiles (customer_records_filled)"
            if view.filled_overall is not None else ""
        )  # fmt: skip
        console.print(
            f"  customer attributes filled: {view.records_overall:.1%} over "
            f"{view.record_count:,} source records as delivered{curated}; "
            f"{view.profiles_overall:.1%} over {view.profile_count:,} golden profiles"
        )

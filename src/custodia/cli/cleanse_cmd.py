"""``custodia cleanse``: deduplicate, standardize and fill gaps, with before/after counts.

Commands::

    custodia --home H cleanse [--json]
    custodia --home H cleanse --check FILE     # validate a cleansing file, change nothing
    custodia --home H cleanse --set FILE       # validate it and make it HOME/quality/cleansing.yaml
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stderr_console, stdout_console
from custodia.cli.progress import progress_bar

if TYPE_CHECKING:
    from custodia.pipeline.cleanse_run import CleansingReport


def register(app: typer.Typer) -> None:
    app.command("cleanse")(cleanse)


def cleanse(
    ctx: typer.Context,
    check: Annotated[Path | None, typer.Option("--check", help="Only validate FILE.")] = None,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="Validate FILE and install it.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Run the cleansing steps of HOME/quality/cleansing.yaml (one recorded run, kind cleanse)."""
    from custodia.pipeline.cleanse_run import run_cleansing
    from custodia.pipeline.cleansing_spec import install_cleansing, load_cleansing_file

    path = check or set_file
    if path is not None:
        spec = load_cleansing_file(path)
        if set_file is not None:
            with state(ctx).open_workspace() as ws:
                install_cleansing(ws, path.read_text(encoding="utf-8"), origin=path.name)
        dumped = spec.model_dump(mode="json")
        _print_valid(path, dumped, installed=set_file is not None, json_out=json_out)
        return
    with state(ctx).open_workspace() as ws, progress_bar("cleanse", enabled=not json_out) as bar:
        report = run_cleansing(ws, progress=bar)
    if json_out:
        print_json(report.model_dump(mode="json"))
        return
    print_report(report)


def _print_valid(path: Path, spec: dict[str, object], *, installed: bool, json_out: bool) -> None:
    if json_out:
        print_json({"file": path.name, "valid": True, "installed": installed, "spec": spec})
        return
    done = "valid and installed" if installed else "valid"
    stdout_console().print(f"{path.name}: {done}")


def print_report(report: CleansingReport) -> None:
    """One table per step: duplicates, non-standard values, gaps; before and after."""
    console = stdout_console()
    if report.error:
        stderr_console().print(
            f"[bold red]cleansing.yaml is not in force[/]: {report.error}\n"
            f"Using {report.origin} until it is fixed."
        )
    dedupe = Table(title=f"Duplicates, run {report.run_id}")
    for col in ("rule", "table", "action", "in scope", "groups", "duplicates", "rows", "deleted"):
        dedupe.add_column(col, overflow="fold")
    for d in report.deduplicate:
        dedupe.add_row(
            d.rule, d.table, d.action, f"{d.rows_in_scope:,}", f"{d.groups:,}",
            f"{d.duplicates:,}", f"{d.rows_before:,} -> {d.rows_after:,}", f"{d.deleted:,}",
        )  # fmt: skip
    console.print(dedupe)
    standard = Table(title="Standardized values (non-standard before -> after)")
    for col in ("table.column", "standardizer", "values", "non-standard", "rewritten"):
        standard.add_column(col, overflow="fold")
    for s in report.standardize:
        for c in s.columns:
            standard.add_row(
                f"{s.table}.{c.column}", c.standardizer, f"{c.values:,}",
                f"{c.nonstandard_before:,} -> {c.nonstandard_after:,}", f"{c.changed:,}",
            )  # fmt: skip
    console.print(standard)
    _print_fill(report)


def _print_fill(report: CleansingReport) -> None:
    if report.fill is None:
        stdout_console().print("Gaps: not filled (no customer records or profiles yet).")
        return
    fill = Table(title=f"Gaps filled from profiles into {report.fill.table}")
    for col in ("column", "missing before", "filled", "missing after"):
        fill.add_column(col)
    for c in report.fill.columns:
        fill.add_row(c.column, f"{c.missing_before:,}", f"{c.filled:,}", f"{c.missing_after:,}")
    stdout_console().print(fill)

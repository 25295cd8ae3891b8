"""``custodia lineage``: where a table's or a column's data comes from."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.lineage.lineage_view import TableLineage

lineage_app = typer.Typer(help="Lineage: the sources, mappings and runs behind every table.")


def register(app: typer.Typer) -> None:
    app.add_typer(lineage_app, name="lineage")


@lineage_app.command("show")
def show(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="TABLE or TABLE.COLUMN, e.g. orders.total_amount")],
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs.")] = 10,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Upstream sources and files, the mapping expression of each column, and recent runs."""
    from custodia.pipeline.lineage_report import lineage_report

    with state(ctx).open_workspace() as ws:
        view = lineage_report(ws, target, max_runs=runs)
    if json_out:
        print_json(view.model_dump(mode="json"))
        return
    console = stdout_console()
    _print_upstream(console, view)
    _print_columns(console, view)
    _print_runs(console, view)
    _print_values(console, view)


def _print_upstream(console: Console, view: TableLineage) -> None:
    table = Table(title=f"Upstream of {view.dataset}")
    for col in ("source", "format", "files", "runs", "last run"):
        table.add_column(col, overflow="fold")
    for src in view.upstream:
        files = ", ".join(src.files[:5]) + (
            f" (+{len(src.files) - 5})" if len(src.files) > 5 else ""
        )
        table.add_row(src.source, src.format or "", files, str(src.runs), src.last_run_id)
    console.print(table)


def _print_columns(console: Console, view: TableLineage) -> None:
    title = f"Column {view.column}" if view.column else "Columns"
    table = Table(title=f"{title}: how each source sets it")
    for col in ("column", "source", "expression", "source fields", "run"):
        table.add_column(col, overflow="fold")
    for name, origins in view.columns.items():
        for origin in origins:
            table.add_row(
                name,
                origin.source,
                origin.expression,
                ", ".join(origin.input_fields),
                origin.run_id,
            )
    console.print(table)


def _print_runs(console: Console, view: TableLineage) -> None:
    table = Table(title="Recent runs")
    for col in ("run", "job", "status", "finished", "version", "rows", "sources", "error"):
        table.add_column(col, overflow="fold")
    for run in view.runs:
        table.add_row(
            run.run_id, run.job, run.status,
            run.finished_at.isoformat(timespec="seconds") if run.finished_at else "",
            "" if run.table_version is None else str(run.table_version),
            "" if run.rows_written is None else f"{run.rows_written:,}",
            ", ".join(run.sources), run.error or "",
        )  # fmt: skip
    console.print(table)


def _print_values(console: Console, view: TableLineage) -> None:
    table = Table(title="Stored rows by source and run")
    columns = ("source", "run", "rows") + (("non-null",) if view.column else ())
    for col in columns:
        table.add_column(col)
    for value in view.values:
        cells = [value.source, value.run_id or "", f"{value.rows:,}"]
        if view.column:
            cells.append(f"{value.non_null or 0:,}")
        table.add_row(*cells)
    console.print(table)

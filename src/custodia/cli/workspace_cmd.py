"""``custodia init`` and ``custodia tables``: create a workspace, show its catalog."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from custodia.catalog import TableInfo, describe_tables
from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.workspace import Workspace

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("tables")(tables)


def init(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Create the workspace and print its admin API token (shown once, stored only as a hash)."""
    ws, token = Workspace.create(state(ctx).settings())
    with ws:
        if json_out:
            print_json(
                {"home": str(ws.home), "workspace_id": ws.info.workspace_id, "token": token.token}
            )
            return
        console = stdout_console()
        console.print(f"[green]Created workspace[/] {ws.home} ({ws.info.workspace_id})")
        console.print("Admin API token (shown once, keep it safe):")
        console.print(token.token, markup=False, highlight=False)


def tables(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Only these tables.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """The catalog: each table, zone, row count, Delta version, columns and classification."""
    with state(ctx).open_workspace() as ws:
        infos = describe_tables(ws, names or None)
    if json_out:
        print_json([info.model_dump() for info in infos])
        return
    _print_catalog(infos, detailed=bool(names))


def _print_catalog(infos: list[TableInfo], detailed: bool) -> None:
    console = stdout_console()
    summary = Table(title="Custodia tables")
    for col in ("table", "zone", "home", "domain", "rows", "version", "columns", "L3", "L2"):
        summary.add_column(
            col, justify="right" if col in {"rows", "version"} else "left", no_wrap=col == "table"
        )
    for info in infos:
        tiers = [c.tier for c in info.columns]
        summary.add_row(
            info.name,
            info.zone,
            info.home,
            info.domain,
            "-" if info.rows is None else f"{info.rows:,}",
            "-" if info.version is None else str(info.version),
            str(len(info.columns)),
            str(tiers.count("L3")),
            str(tiers.count("L2")),
        )
    console.print(summary)
    if not detailed:
        return
    for info in infos:
        cols = Table(title=f"{info.name}: {info.description}", title_justify="left")
        for col in ("column", "type", "tier", "personal", "description"):
            cols.add_column(col)
        for c in info.columns:
            cols.add_row(c.name, c.type, c.tier, "yes" if c.personal else "", c.description)
        console.print(cols)

"""``custodia source``: create and list the collector's sources (each with its write key)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.collect.sources import SourceRegistry

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]

source_app = typer.Typer(help="Collector sources: the write keys tracking SDKs send events with.")


def register(app: typer.Typer) -> None:
    app.add_typer(source_app, name="source")


@source_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Source name: a-z, 0-9, '_' and '-'.")],
    rate_limit: Annotated[
        int | None,
        typer.Option("--rate-limit", min=1, help="Events per second the collector accepts."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Create a source and print its write key (shown once, stored only as a hash)."""
    with state(ctx).open_workspace() as ws:
        created = SourceRegistry(ws.store, ws.clock).create(
            name, created_by="custodia source create", rate_limit_per_second=rate_limit
        )
    if json_out:
        print_json({**created.source.as_json(), "write_key": created.write_key})
        return
    console = stdout_console()
    console.print(f"[green]Created source[/] {created.source.name}")
    console.print("Write key (shown once, keep it safe):")
    console.print(created.write_key, markup=False, highlight=False)


@source_app.command("list")
def list_sources(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Every source with its key prefix, rate limit and state (never the key)."""
    with state(ctx).open_workspace() as ws:
        sources = SourceRegistry(ws.store, ws.clock).list()
    if json_out:
        print_json([s.as_json() for s in sources])
        return
    table = Table(title="Collector sources")
    for col in ("source", "key", "rate limit/s", "created", "state"):
        table.add_column(col)
    for s in sources:
        table.add_row(
            s.name,
            f"wk_{s.write_key_prefix}_…",
            "-" if s.rate_limit_per_second is None else f"{s.rate_limit_per_second:,}",
            s.created_at.isoformat(timespec="seconds"),
            "enabled" if s.enabled else "disabled",
        )
    stdout_console().print(table)

"""``custodia sql``: read-only SQL over the canonical tables, with Delta time travel."""

from __future__ import annotations

from typing import Annotated

import typer

from custodia.cli.context import state
from custodia.cli.output import OutputFormat, print_arrow


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)


def sql(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help="A SELECT query, e.g. 'select count(*) from events'.")
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """Run read-only SQL (DuckDB). Time travel: ``FROM events VERSION AS OF 3`` or
    ``TIMESTAMP AS OF '2026-11-24 10:00:00'``. Writes, ATTACH, COPY and file reads are refused."""
    with state(ctx).open_workspace() as ws:
        result = ws.query(query)
    print_arrow(result, fmt)

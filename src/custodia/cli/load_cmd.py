"""``custodia load``: move what the collector logged into the lakehouse ``events`` table now.

``custodia serve`` does this continuously; this command loads everything logged so far (for
example after the server stopped) and waits for a running server's loader to finish its chunk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.cli.progress import progress_bar
from custodia.pipeline.event_loader import EventLoader
from custodia.storage.event_log_shards import EventLogShards

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.command("load")(load)


def load(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Load the event log into `events`; invalid messages go to the quarantine."""
    with state(ctx).open_workspace() as ws, EventLogShards(ws.settings.event_log_path) as log:
        retention = timedelta(hours=ws.settings.event_log_retention_hours)
        loader = EventLoader(ws, log, retention=retention)
        with progress_bar("load", enabled=not json_out) as progress:
            report = loader.load(progress=progress)
        status = log.status("lake-loader")
    summary = {**report.summary(), "pending_entries": status.pending_entries}
    if json_out:
        print_json(summary)
        return
    table = Table(title="Event load")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, "-" if value is None else str(value))
    stdout_console().print(table)

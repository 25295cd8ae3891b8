"""``custodia runs``: the pipeline run history with per-step row counts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.core.errors import ValidationError
from custodia.storage.store_runs import RunLog


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)


def runs(
    ctx: typer.Context,
    run_id: Annotated[str | None, typer.Argument(help="Show the steps of this run.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many recent runs.")] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Recent pipeline runs, or one run's steps (rows in, stored, rejected)."""
    with state(ctx).open_workspace() as ws:
        log = RunLog(ws.store, ws.clock)
        if run_id is None:
            records = log.list_runs(limit=limit)
            if json_out:
                print_json([asdict(r) for r in records])
                return
            table = Table(title="Pipeline runs")
            for col in ("run", "kind", "status", "started", "finished"):
                table.add_column(col)
            for r in records:
                table.add_row(r.run_id, r.kind, r.status, str(r.started_at), str(r.finished_at))
            stdout_console().print(table)
            return
        if log.get_run(run_id) is None:
            raise ValidationError("run_id", "exists", f"no run '{run_id}' in this workspace")
        steps = log.list_steps(run_id)
        if json_out:
            print_json([asdict(s) for s in steps])
            return
        table = Table(title=f"Steps of {run_id}")
        for col in ("step", "source", "rows in", "stored", "rejected"):
            table.add_column(col)
        for s in steps:
            table.add_row(
                s.step, s.source or "", str(s.rows_in), str(s.rows_stored), str(s.rows_rejected)
            )
        stdout_console().print(table)

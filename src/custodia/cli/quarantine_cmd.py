"""``custodia quarantine``: what was kept out of the tables and why, and replaying it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.collect.mapping_spec import load_mapping_file
from custodia.collect.quarantine_read import (
    STATUSES,
    QuarantineFilter,
    list_quarantine,
    quarantine_summary,
)

quarantine_app = typer.Typer(
    help="The quarantine: events, lines and records kept with their reason, and their replay."
)

SourceOpt = Annotated[str | None, typer.Option("--source", help="Only this source.")]
RuleOpt = Annotated[str | None, typer.Option("--rule", help="Only this rule.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def list_entries(
    ctx: typer.Context,
    source: SourceOpt = None,
    rule: RuleOpt = None,
    status: Annotated[
        str | None, typer.Option("--status", help=f"Only one status: {', '.join(STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many entries to list.")] = 50,
    summary: Annotated[
        bool, typer.Option("--summary", help="Counts per source, rule and status instead.")
    ] = False,
    payload: Annotated[
        bool, typer.Option("--payload", help="Include the payloads (personal data).")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """The newest quarantine entries (or counts), without payloads unless asked."""
    flt = QuarantineFilter(source=source, rule=rule, status=status)
    with state(ctx).open_workspace() as ws:
        engine = ws.query_engine()
        if summary:
            rows = quarantine_summary(engine, flt)
        else:
            rows = list_quarantine(engine, flt, limit=limit, with_payload=payload)
    if json_out:
        print_json(rows)
        return
    columns = (
        ("source", "rule", "status", "entries")
        if summary
        else ("source", "kind", "rule", "field", "reason", "source_file", "position", "status")
        + (("payload",) if payload else ())
    )
    table = Table(title="Quarantine" + (" (counts)" if summary else ""))
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row[c]) for c in columns])
    stdout_console().print(table)


@quarantine_app.command("replay")
def replay(
    ctx: typer.Context,
    source: SourceOpt = None,
    rule: RuleOpt = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="Mapping file to replay lines and records with (default: the mapping of each "
            "source's last load, as recorded in lineage).",
        ),
    ] = None,
    root: Annotated[
        Path | None,
        typer.Option(
            "--root", help="Folder the mapping's paths are relative to (default: its own)."
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Re-validate open entries against the current plans and mappings; load what passes."""
    from custodia.pipeline.quarantine_replay import replay_quarantine

    mappings = load_mapping_file(mapping) if mapping is not None else None
    folder = root or (mapping.parent if mapping is not None else None)
    with state(ctx).open_workspace() as ws:
        report = replay_quarantine(ws, source=source, rule=rule, mappings=mappings, root=folder)
    if json_out:
        print_json(report.model_dump(mode="json"))
        return
    console = stdout_console()
    if report.run_id is None:
        console.print("Nothing open in the quarantine matches.")
        return
    table = Table(title=f"Replay, run {report.run_id}")
    for col in ("source", "rule", "replayed", "still open"):
        table.add_column(col, justify="right" if col in {"replayed", "still open"} else "left")
    for count in report.counts:
        table.add_row(count.source, count.rule, f"{count.replayed:,}", f"{count.still_open:,}")
    console.print(table)
    console.print(
        f"{report.replayed:,} of {report.examined:,} entries replayed; "
        f"{report.events_stored:,} new events, {report.records_landed:,} lines landed."
    )

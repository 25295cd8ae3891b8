"""``custodia ingest``: load a file or a database table through a source of a mapping file.

::

    custodia --home H ingest file PATH --source NAME --mapping MAP.yaml [--encoding E] [--json]
    custodia --home H ingest db URL --table T --source NAME --mapping MAP.yaml
                                    [--incremental COLUMN] [--json]

Rows that cannot be read or mapped are quarantined (see ``custodia quarantine``); the command
fails only when the whole input is unusable (no such file, an unreadable mapping, no table).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.cli.progress import progress_bar

if TYPE_CHECKING:
    from custodia.pipeline.load_report import LoadReport

ingest_app = typer.Typer(help="Load files and database tables through a mapping file.")

SourceName = Annotated[str, typer.Option("--source", help="Source name in the mapping file.")]
MappingPath = Annotated[
    Path,
    typer.Option(
        "--mapping", exists=True, dir_okay=False, readable=True, help="Mapping file (YAML)."
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")


@ingest_app.command("file")
def ingest_file_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A file, or a glob such as 'exports/*.csv'.")],
    source: SourceName,
    mapping: MappingPath,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding (e.g. gbk); detected when left out."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Load a CSV, TSV, JSON Lines, Parquet or Excel file through SOURCE of the mapping."""
    from custodia.collect.mapping_spec import load_mapping_file
    from custodia.pipeline.ingest import ingest_file

    mappings = load_mapping_file(mapping)
    with state(ctx).open_workspace() as ws, progress_bar("ingest", enabled=not json_out) as bar:
        report = ingest_file(ws, mappings, source, path, encoding=encoding, progress=bar)
    _print(report, json_out, f"{path}")


@ingest_app.command("db")
def ingest_db_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="SQLAlchemy URL, e.g. postgresql://u@host/db.")],
    table: Annotated[str, typer.Option("--table", help="Table (or schema.table) to read.")],
    source: SourceName,
    mapping: MappingPath,
    incremental: Annotated[
        str | None,
        typer.Option(
            "--incremental", help="Cursor column: load only rows changed since the last run."
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Load a database table through SOURCE of the mapping (all of it, or incrementally)."""
    from custodia.collect.mapping_spec import load_mapping_file
    from custodia.pipeline.ingest import ingest_db
    from custodia.storage.sql_source import redact_url

    mappings = load_mapping_file(mapping)
    with state(ctx).open_workspace() as ws, progress_bar("ingest", enabled=not json_out) as bar:
        report = ingest_db(
            ws, mappings, source, url, table=table, incremental=incremental, progress=bar
        )
    _print(report, json_out, f"{redact_url(url)} {table}")


def _print(report: LoadReport, json_out: bool, what: str) -> None:
    if json_out:
        print_json(report.model_dump(mode="json"))
        return
    src = report.sources[0]
    table = Table(title=f"Ingest of {what} as {src.source}, run {report.run_id}")
    for col in ("read", "landed raw", "unreadable", "target", "new", "updated", "unmapped"):
        table.add_column(col, justify="left" if col == "target" else "right")
    lead = (f"{src.rows_in:,}", f"{src.rows_landed:,}", f"{src.rows_rejected:,}")
    if not src.targets:
        table.add_row(*lead, "(raw only)", "", "", "")
    for index, target in enumerate(src.targets):
        table.add_row(
            *(lead if index == 0 else ("", "", "")),
            target.table,
            f"{target.rows_inserted:,}",
            f"{target.rows_updated:,}",
            f"{target.rows_unmapped:,}",
        )
    console = stdout_console()
    console.print(table)
    if src.watermark is not None:
        console.print(f"Watermark now {src.watermark} ({src.rows_skipped:,} rows already loaded)")
    if src.rows_rejected or src.rows_unmapped:
        console.print("Quarantined rows: custodia sql \"select rule, reason, count(*) from "
                      f"quarantine where source = '{src.source}' group by all\"")  # fmt: skip

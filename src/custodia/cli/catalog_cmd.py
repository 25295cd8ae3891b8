"""``custodia catalog``: every table with owner, classification, size, freshness, quality and
lineage; with a TABLE, each of its columns.

Commands::

    custodia --home H catalog [--json]          # the overview, one row per table
    custodia --home H catalog TABLE [--json]    # one table: its columns, sources and load runs
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from custodia.catalog import Catalog, CatalogTable, catalog_overview, catalog_table
from custodia.catalog.models import CatalogColumn, QualitySummary, TableQuality
from custodia.cli.context import state
from custodia.cli.output import print_json, stderr_console, stdout_console

WIDE = 120
_OVERVIEW = ("table", "domain", "owner", "tier", "rows", "version", "newest", "loaded", "quality",
             "alerts", "sources")  # fmt: skip
_OPTIONAL = {"domain", "owner", "sources"}


def register(app: typer.Typer) -> None:
    app.command("catalog")(catalog)


def catalog(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Argument(help="Show this table's columns.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """The data catalog: owner, tier, rows, version, freshness, quality and sources per table."""
    with state(ctx).open_workspace() as ws:
        shown = catalog_overview(ws) if table is None else catalog_table(ws, table)
    if json_out:
        print_json(shown.model_dump(mode="json"))
    elif isinstance(shown, Catalog):
        print_overview(shown)
    else:
        print_table_detail(shown)


def print_overview(catalog: Catalog) -> None:
    """One row per table, then the workspace-wide quality line. Terminals narrower than
    ``WIDE`` columns leave out domain, owner and sources (``--json`` always has everything)."""
    if catalog.overrides_error:
        stderr_console().print(
            f"[bold yellow]catalog.yaml not applied[/]: {catalog.overrides_error}", markup=True
        )
    console = stdout_console()
    shown = [c for c in _OVERVIEW if console.width >= WIDE or c not in _OPTIONAL]
    table = Table(title="Custodia catalog", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in shown:
        table.add_column(
            name,
            justify="right" if name in {"rows", "version", "quality"} else "left",
            no_wrap=name not in _OPTIONAL,
            overflow="fold" if name in _OPTIONAL else "ellipsis",
        )
    for entry in catalog.tables:
        row = _overview_row(entry)
        table.add_row(*[row[_OVERVIEW.index(name)] for name in shown])
    console.print(table)
    if catalog.quality is not None:
        console.print(
            f"Workspace quality {_score(catalog.quality.overall)} "
            f"(run {catalog.quality.run_id}, {_alerts(catalog.quality.open_alerts)})"
        )


def _overview_row(entry: CatalogTable) -> list[str]:
    quality = entry.quality
    return [
        entry.name,
        entry.domain,
        entry.owner,
        entry.classification.tier,
        _count(entry.rows),
        _count(entry.version),
        age(entry.freshness.age_seconds),
        age(entry.freshness.loaded_age_seconds),
        _score(quality.overall if quality else None),
        str(quality.open_alerts) if quality and quality.open_alerts else "",
        _first(entry.lineage.sources, 3),
    ]


def print_table_detail(entry: CatalogTable) -> None:
    """The table's facts, its columns, its upstream sources and its recent load runs."""
    console = stdout_console()
    for line in _detail_lines(entry):
        console.print(line, markup=False, highlight=False)
    _print_columns(console, entry)
    _print_upstream(console, entry)
    _print_runs(console, entry)


def _detail_lines(entry: CatalogTable) -> list[str]:
    fresh = entry.freshness
    return [
        f"{entry.name} ({entry.zone}, {entry.home}, {entry.domain}): {entry.description}",
        f"owner: {entry.owner}" + (f"   tags: {', '.join(entry.tags)}" if entry.tags else ""),
        f"classification: {entry.classification.tier} {entry.classification.tier_label}, "
        f"personal columns: {', '.join(entry.classification.personal_columns) or 'none'}",
        f"rows: {_count(entry.rows)}   Delta version: {_count(entry.version)}",
        f"newest {fresh.time_column or '-'}: {fresh.newest or '-'} ({age(fresh.age_seconds)} ago)"
        f"   newest load: {fresh.newest_loaded_at or '-'} ({age(fresh.loaded_age_seconds)} ago)",
        _quality_line(entry.quality),
        f"lineage: {entry.lineage.command}  |  GET {entry.lineage.path}",
    ]


def _quality_line(quality: TableQuality | None) -> str:
    if quality is None:
        return "quality: - (no rule measures this table; see custodia quality rules)"
    return (
        f"quality: {_column_score(quality)}; run {quality.run_id}, {_alerts(quality.open_alerts)}"
    )


def _print_columns(console: Console, entry: CatalogTable) -> None:
    table = Table(title=f"Columns of {entry.name}", title_justify="left")
    for name in ("column", "type", "tier", "personal", "quality", "set by", "description"):
        table.add_column(name, overflow="fold")
    for col in entry.columns:
        table.add_row(
            col.name, col.type, col.tier, "yes" if col.personal else "",
            _column_score(col.quality), _set_by(col), col.description,
        )  # fmt: skip
    console.print(table)


def _print_upstream(console: Console, entry: CatalogTable) -> None:
    table = Table(title="Sources and load runs", title_justify="left")
    for name in ("source", "format", "files", "last rows", "last run", "status", "finished"):
        table.add_column(name, overflow="fold")
    status = {run.run_id: run for run in entry.lineage.runs}
    for src in entry.lineage.upstream:
        run = status.get(src.last_run_id)
        table.add_row(
            src.source, src.format or "", str(src.files), _count(src.last_rows), src.last_run_id,
            run.status if run else "", f"{src.last_run_at:%Y-%m-%d %H:%M:%S}",
        )  # fmt: skip
    console.print(table)


def _print_runs(console: Console, entry: CatalogTable) -> None:
    table = Table(title="Recent runs that wrote the table", title_justify="left")
    for name in ("run", "job", "status", "finished", "version", "rows"):
        table.add_column(name, overflow="fold")
    for run in entry.lineage.runs:
        finished = f"{run.finished_at:%Y-%m-%d %H:%M:%S}" if run.finished_at else ""
        version = "" if run.table_version is None else str(run.table_version)
        table.add_row(run.run_id, run.job, run.status, finished, version, _count(run.rows_written))
    console.print(table)


def _set_by(column: CatalogColumn) -> str:
    """Each source's mapping expression; columns every load fills say so once."""
    mapped = [f"{o.source}: {' '.join(o.expression.split())}" for o in column.origins
              if o.kind != "run"]  # fmt: skip
    if not mapped and column.origins:
        return "(run metadata)"
    return "; ".join(mapped)


def _first(names: list[str], most: int) -> str:
    extra = f" (+{len(names) - most})" if len(names) > most else ""
    return ", ".join(names[:most]) + extra


def _column_score(quality: QualitySummary | None) -> str:
    if quality is None:
        return ""
    dims = ", ".join(f"{d} {_score(s)}" for d, s in quality.dimensions.items())
    return f"{_score(quality.overall)} ({dims})"


def _alerts(count: int) -> str:
    return f"{count} open alert{'' if count == 1 else 's'}"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def age(seconds: float | None) -> str:
    """A duration in the largest whole unit: ``45s``, ``12m``, ``5h``, ``24d``.

    >>> age(90_000)
    '1d'
    """
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"

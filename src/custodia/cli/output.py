"""Rendering for the CLI: rich tables for people, CSV and JSON for machines, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, NoReturn

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from custodia.storage.engine import rows_as_json


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def stdout_console() -> Console:
    return Console(soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one red error line on stderr and exit."""
    first_line = message.strip().splitlines()[0] if message.strip() else "error"
    stderr_console().print(f"[bold red]error:[/] {first_line}", markup=True, highlight=False)
    sys.exit(code)


def print_json(data: Any) -> None:
    """Machine-readable JSON on stdout (UTF-8, Chinese kept as is)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_arrow(table: pa.Table, fmt: OutputFormat, title: str | None = None) -> None:
    """Print a query result as a rich table, CSV or a JSON array of row objects."""
    rows = rows_as_json(table)
    if fmt is OutputFormat.JSON:
        print_json(rows)
    elif fmt is OutputFormat.CSV:
        print_csv(table.column_names, [[row[c] for c in table.column_names] for row in rows])
    else:
        print_rows(
            table.column_names, [[row[c] for c in table.column_names] for row in rows], title
        )


def print_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _scalar(v) for v in row])
    sys.stdout.write(buf.getvalue())


def print_rows(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None) -> None:
    table = Table(title=title, show_lines=False)
    for name in header:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*["∅" if v is None else _scalar(v) for v in row])
    stdout_console().print(table)


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)

"""Read Parquet files and Excel workbooks into columnar record chunks.

Parquet keeps its own types and is read in row batches. Excel (``.xlsx``/``.xlsm``, through
openpyxl in read-only mode, cached formula values) takes the first non-empty row of the sheet as
the header; empty rows are skipped; a cell beyond the header's last column that holds a value
makes its row a :class:`ReadProblem` (``excel_extra_cells``), since the value has no field to go
to. Excel positions are the row numbers Excel shows; the source file is ``book.xlsx#Sheet``.

Example::

    for item in read_excel_chunks(Path("members.xlsx"), "members.xlsx", sheet="会员"):
        ...
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from custodia.collect.records import ReadProblem, RecordChunk, unique_field_names
from custodia.core.arrow_values import table_from_columns, value_as_text
from custodia.core.errors import ValidationError

__all__ = ["read_excel_chunks", "read_parquet_chunks"]

CHUNK_ROWS = 50_000


def read_parquet_chunks(
    path: Path, source_file: str, *, chunk_rows: int = 100_000
) -> Iterator[RecordChunk]:
    """The rows of one Parquet file, in batches, positions counted from 1."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError):
        raise ValidationError(
            "file", "parquet", f"{source_file}: not a readable Parquet file"
        ) from None
    position = 1
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        table = pa.Table.from_batches([batch])
        yield RecordChunk.of(table, source_file, first_position=position)
        position += table.num_rows


def read_excel_chunks(
    path: Path, source_file: str, *, sheet: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[RecordChunk | ReadProblem]:
    """The rows of one worksheet (the first one unless ``sheet`` names another)."""
    workbook = _open_workbook(path, source_file)
    try:
        worksheet = _worksheet(workbook, sheet, source_file)
        located = f"{source_file}#{worksheet.title}"
        rows = worksheet.iter_rows(values_only=True)
        header = _header(rows)
        if header is None:
            return
        yield from _data_chunks(rows, header, located, chunk_rows)
    finally:
        workbook.close()


def _open_workbook(path: Path, source_file: str) -> Any:
    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ValidationError(
            "file", "excel", f"{source_file}: not a readable Excel workbook (.xlsx)"
        ) from None


def _worksheet(workbook: Any, sheet: str | None, source_file: str) -> Any:
    if sheet is None:
        return workbook.worksheets[0]
    if sheet not in workbook.sheetnames:
        raise ValidationError("sheet", "exists", f"{source_file}: no sheet named '{sheet}'")
    return workbook[sheet]


class _Header:
    """The header row: field names and the Excel row number it sits on."""

    def __init__(self, names: list[str], row_number: int) -> None:
        self.names = names
        self.row_number = row_number


def _header(rows: Iterator[tuple[Any, ...]]) -> _Header | None:
    for number, row in enumerate(rows, start=1):
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            names = ["" if c is None else value_as_text(c) for c in cells]
            return _Header(unique_field_names(names), number)
    return None


def _data_chunks(
    rows: Iterator[tuple[Any, ...]], header: _Header, located: str, chunk_rows: int
) -> Iterator[RecordChunk | ReadProblem]:
    width = len(header.names)
    columns: list[list[Any]] = [[] for _ in range(width)]
    positions: list[int] = []
    for number, row in enumerate(rows, start=header.row_number + 1):
        if all(cell is None for cell in row):
            continue
        if any(cell is not None for cell in row[width:]):
            yield _extra_cells(row, width, number, located)
            continue
        for index in range(width):
            columns[index].append(row[index] if index < len(row) else None)
        positions.append(number)
        if len(positions) >= chunk_rows:
            yield _chunk(header.names, columns, positions, located)
            columns, positions = [[] for _ in range(width)], []
    if positions:
        yield _chunk(header.names, columns, positions, located)


def _extra_cells(row: tuple[Any, ...], width: int, number: int, located: str) -> ReadProblem:
    raw = "\t".join("" if cell is None else value_as_text(cell) for cell in row)
    filled = max(i for i, cell in enumerate(row) if cell is not None) + 1
    reason = f"the row has values in {filled} columns, the header has {width}"
    return ReadProblem(located, number, "excel_extra_cells", raw, reason)


def _chunk(
    names: list[str], columns: list[list[Any]], positions: list[int], located: str
) -> RecordChunk:
    table = table_from_columns(names, columns)
    return RecordChunk(table, located, pa.array(positions, pa.int64()))

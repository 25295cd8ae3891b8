"""Read CSV exports fast and columnar, keeping every broken row for the quarantine.

Parsing is Arrow's C++ CSV reader (single-threaded, so the number of each broken row is known and
every record keeps its exact position), streaming in blocks so memory stays bounded by a block.
Every column is read as text: a phone number keeps its leading zero and a code stays a code;
types are the mapping's business. Empty cells are null.

What goes to the quarantine instead of failing the file:
- a row with more or fewer fields than the header (``csv_extra_fields``, ``csv_missing_fields``);
- a line that is not valid text in the file's encoding (``encoding``), when the file does not
  decode cleanly; the other lines still load.

Positions are record numbers (1 = the first row after the header), counting broken rows too, so
they match what a spreadsheet shows minus the header line. Header names that repeat or are empty
get a suffix (``name_2``, ``column_3``).

Example::

    for item in read_csv_chunks(Path("pos/a.csv"), "pos/a.csv", encoding="gbk"):
        ...  # RecordChunk or ReadProblem
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from custodia.collect.records import ReadProblem, RecordChunk, unique_field_names
from custodia.collect.text_encoding import EncodingScan, decode_lines, scan_encoding
from custodia.core.errors import ValidationError

__all__ = ["read_csv_chunks"]

BLOCK_BYTES = 8 << 20
_SENTINEL = "__custodia_undecodable_line_"
CsvInput = Path | io.BytesIO


def read_csv_chunks(
    path: Path,
    source_file: str,
    *,
    encoding: str | None = None,
    delimiter: str = ",",
    block_bytes: int = BLOCK_BYTES,
) -> Iterator[RecordChunk | ReadProblem]:
    """The records of one CSV file with a header row, in chunks of about ``block_bytes``.

    ``encoding`` is detected when not given (see :mod:`custodia.collect.text_encoding`).
    """
    scan = scan_encoding(path, encoding)
    if scan.clean:
        parser = _Parser(source_file, delimiter, scan.encoding, block_bytes)
        yield from parser.read(path)
        return
    yield from _read_with_bad_lines(path, source_file, scan, delimiter, block_bytes)


class _Parser:
    """One pass of Arrow's CSV reader over a file or buffer, collecting broken rows."""

    def __init__(
        self,
        source_file: str,
        delimiter: str,
        encoding: str,
        block_bytes: int,
        bad_lines: dict[int, str] | None = None,
        file_encoding: str | None = None,
    ) -> None:
        self.source_file = source_file
        self.delimiter = delimiter
        self.encoding = encoding  # of the bytes the CSV reader sees
        self.file_encoding = file_encoding or encoding  # of the file, for messages
        self.block_bytes = block_bytes
        self.bad_lines = bad_lines or {}
        self.problems: list[ReadProblem] = []
        self.broken: list[int] = []

    def read(self, source: CsvInput) -> Iterator[RecordChunk | ReadProblem]:
        names = self._header(source)
        if names is None:
            return
        reader = self._open(source, {name: pa.string() for name in names})
        unique = unique_field_names(names)
        next_position = 1
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid:
                raise self._unreadable() from None
            table = pa.Table.from_batches([batch]).rename_columns(unique)
            positions = _positions(next_position, table.num_rows, self.broken)
            if len(positions):
                next_position = int(positions[-1]) + 1
            yield from self._drain()
            if table.num_rows:
                yield RecordChunk(table, self.source_file, pa.array(positions, pa.int64()))
        yield from self._drain()

    def _header(self, source: CsvInput) -> list[str] | None:
        """The header's column names as the CSV reader sees them (``None``: empty file)."""
        try:
            reader = self._open(source, {}, block_bytes=1 << 20, handler=False)
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return None
            raise self._unreadable() from None
        names = list(reader.schema.names)
        _rewind(source)
        return names

    def _open(
        self,
        source: CsvInput,
        types: dict[str, pa.DataType],
        *,
        block_bytes: int | None = None,
        handler: bool = True,
    ) -> Any:
        read = pacsv.ReadOptions(
            use_threads=False,
            block_size=block_bytes or self.block_bytes,
            encoding="utf8" if self.encoding == "utf-8" else self.encoding,
        )
        parse = pacsv.ParseOptions(
            delimiter=self.delimiter,
            newlines_in_values=True,
            invalid_row_handler=self._invalid_row if handler else _skip,
        )
        convert = pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        )
        _rewind(source)
        return pacsv.open_csv(
            str(source) if isinstance(source, Path) else source,
            read_options=read,
            parse_options=parse,
            convert_options=convert,
        )

    def _invalid_row(self, row: Any) -> str:
        position = int(row.number) - 1 if row.number is not None else 0
        self.broken.append(position)
        text = str(row.text)
        if text.startswith(_SENTINEL):
            self.problems.append(self._undecodable(position, text))
        else:
            self.problems.append(self._field_count(position, text, row))
        return "skip"

    def _field_count(self, position: int, text: str, row: Any) -> ReadProblem:
        actual, expected = int(row.actual_columns), int(row.expected_columns)
        rule = "csv_extra_fields" if actual > expected else "csv_missing_fields"
        reason = f"the row has {actual} fields, the header has {expected}"
        return ReadProblem(self.source_file, position, rule, text, reason)

    def _undecodable(self, position: int, text: str) -> ReadProblem:
        line = int(text[len(_SENTINEL) :].split("_", 1)[0])
        reason = (
            f"line {line} is not valid {self.file_encoding} text (give the file's encoding with "
            "--encoding if it is another)"
        )
        return ReadProblem(self.source_file, position, "encoding", self.bad_lines[line], reason)

    def _drain(self) -> Iterator[ReadProblem]:
        problems, self.problems = self.problems, []
        yield from problems

    def _unreadable(self) -> ValidationError:
        # Arrow's message quotes the offending data: never pass it on.
        return ValidationError(
            "file", "csv", f"{self.source_file}: not a readable CSV file (e.g. an unclosed quote)"
        )


def _skip(_row: Any) -> str:
    return "skip"


def _positions(first: int, count: int, broken: list[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The first ``count`` record numbers from ``first`` on that are not broken rows."""
    skipped = np.fromiter((b for b in broken if b >= first), dtype=np.int64)
    candidates = np.arange(first, first + count + len(skipped), dtype=np.int64)
    if len(skipped):
        candidates = candidates[~np.isin(candidates, skipped)]
    return candidates[:count]


def _read_with_bad_lines(
    path: Path, source_file: str, scan: EncodingScan, delimiter: str, block_bytes: int
) -> Iterator[RecordChunk | ReadProblem]:
    """A file some of whose lines do not decode: load the others, quarantine those.

    Each undecodable line is replaced by a marker row the CSV reader rejects, so it is reported
    at its exact record position. This path reads the file into memory; it is taken only for
    files that are not clean text.
    """
    if scan.encoding.startswith("utf-16"):
        raise ValidationError(
            "encoding", "decodable", f"{source_file}: not valid {scan.encoding} text"
        )
    data = path.read_bytes()
    encoding = scan.encoding if scan.declared else _fewest_bad_lines(data)
    text, bad_lines = _mark_bad_lines(data, encoding, delimiter, source_file)
    parser = _Parser(source_file, delimiter, "utf-8", block_bytes, bad_lines, encoding)
    yield from parser.read(io.BytesIO(text.encode("utf-8")))


def _fewest_bad_lines(data: bytes) -> str:
    counts = {
        enc: sum(1 for _n, text, _raw in decode_lines(data, enc) if text is None)
        for enc in ("utf-8", "gb18030")
    }
    return min(counts, key=lambda enc: counts[enc])


def _mark_bad_lines(
    data: bytes, encoding: str, delimiter: str, source_file: str
) -> tuple[str, dict[int, str]]:
    lines: list[str] = []
    bad: dict[int, str] = {}
    width = 0
    for number, text, raw in decode_lines(data, encoding):
        if number == 1:
            if text is None:
                raise ValidationError(
                    "encoding", "decodable", f"{source_file}: the header is not {encoding} text"
                )
            text = text.removeprefix("\ufeff")
            width = text.count(delimiter) + 1
        if text is None:
            bad[number] = raw.decode(encoding, errors="backslashreplace").rstrip("\r")
            text = f"{_SENTINEL}{number}_" + delimiter * (width + 1)
        lines.append(text)
    return "\n".join(lines), bad


def _rewind(source: CsvInput) -> None:
    if isinstance(source, io.BytesIO):
        source.seek(0)

"""Read batch source files, keeping where each record came from.

Readers yield records in columnar chunks (:class:`RecordChunk`: the source's fields as Arrow,
the file they came from, each row's position there) and :class:`ReadProblem` for a part of a
file that cannot be a record. Readers never stop at a bad line or row: the caller quarantines
the problem and the rest of the file loads.

Formats: CSV/TSV (:mod:`custodia.collect.csv_reader`: encoding detection, broken rows),
JSON Lines (:mod:`custodia.collect.jsonl_reader`), Parquet and Excel
(:mod:`custodia.collect.sheet_readers`), and Segment batch files (below). Databases are read by
:mod:`custodia.storage.sql_source`.

Example::

    for item in read_file_chunks(root, "pos/*.csv", SourceFormat.CSV, encoding="gbk"):
        ...
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import msgspec

from custodia.collect.csv_reader import read_csv_chunks
from custodia.collect.jsonl_reader import read_jsonl_chunks
from custodia.collect.mapping_spec import SourceFormat
from custodia.collect.records import ReadProblem, RecordChunk, SourceRecord
from custodia.collect.sheet_readers import read_excel_chunks, read_parquet_chunks
from custodia.core.errors import ValidationError

__all__ = [
    "ReadProblem",
    "RecordChunk",
    "SegmentFile",
    "SourceRecord",
    "infer_format",
    "read_csv",
    "read_file_chunks",
    "read_jsonl",
    "read_segment_files",
    "source_files",
]

FILE_FORMATS = {SourceFormat.CSV, SourceFormat.JSONL, SourceFormat.PARQUET, SourceFormat.EXCEL}
_SUFFIXES = {
    ".csv": SourceFormat.CSV,
    ".tsv": SourceFormat.CSV,
    ".txt": SourceFormat.CSV,
    ".jsonl": SourceFormat.JSONL,
    ".ndjson": SourceFormat.JSONL,
    ".parquet": SourceFormat.PARQUET,
    ".pq": SourceFormat.PARQUET,
    ".xlsx": SourceFormat.EXCEL,
    ".xlsm": SourceFormat.EXCEL,
}


def source_files(root: Path, pattern: str) -> list[Path]:
    """The files a path or glob names under ``root``, sorted; an error when there are none."""
    files = sorted(p for p in root.glob(pattern) if p.is_file())
    if not files:
        raise ValidationError("path", "exists", f"no source file matches '{pattern}' in {root}")
    return files


def infer_format(path: str) -> SourceFormat | None:
    """The file format a name suggests (``.csv``, ``.tsv``, ``.jsonl``, ``.parquet``,
    ``.xlsx``), or ``None``.

    >>> infer_format("exports/会员.xlsx")
    <SourceFormat.EXCEL: 'excel'>
    """
    return _SUFFIXES.get(Path(path).suffix.lower())


def read_file_chunks(
    root: Path,
    pattern: str,
    fmt: SourceFormat,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Iterator[RecordChunk | ReadProblem]:
    """Every record of the files ``pattern`` names under ``root``, file by file.

    ``delimiter`` defaults to a tab for ``.tsv`` files and a comma otherwise.
    """
    if fmt not in FILE_FORMATS:
        raise ValidationError("format", "file_format", f"'{fmt.value}' is not a file format")
    for path in source_files(root, pattern):
        rel = path.relative_to(root).as_posix()
        if fmt is SourceFormat.CSV:
            sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
            yield from read_csv_chunks(path, rel, encoding=encoding, delimiter=sep)
        elif fmt is SourceFormat.JSONL:
            yield from read_jsonl_chunks(path, rel, encoding=encoding)
        elif fmt is SourceFormat.PARQUET:
            yield from read_parquet_chunks(path, rel)
        else:
            yield from read_excel_chunks(path, rel, sheet=sheet)


def read_csv(root: Path, pattern: str) -> Iterator[SourceRecord | ReadProblem]:
    """CSV exports with a header row, record by record (see :func:`read_file_chunks`)."""
    yield from _records(read_file_chunks(root, pattern, SourceFormat.CSV))


def read_jsonl(root: Path, pattern: str) -> Iterator[SourceRecord | ReadProblem]:
    """JSON Lines, record by record; blank lines are skipped."""
    yield from _records(read_file_chunks(root, pattern, SourceFormat.JSONL))


def _records(items: Iterator[RecordChunk | ReadProblem]) -> Iterator[SourceRecord | ReadProblem]:
    for item in items:
        if isinstance(item, ReadProblem):
            yield item
        else:
            yield from item.records()


@dataclass(frozen=True)
class SegmentFile:
    """One Segment-style batch file (a ``POST /v1/batch`` body): its bytes and ``sentAt``."""

    source_file: str
    payload: bytes
    sent_at: str | None


class _BatchShape(msgspec.Struct):
    batch: msgspec.Raw = msgspec.Raw(b"null")  # absent: as null
    sentAt: Any = None  # noqa: N815 (the wire's name)


_SHAPE: Final = msgspec.json.Decoder(_BatchShape)


def read_segment_files(root: Path, pattern: str) -> Iterator[SegmentFile | ReadProblem]:
    """Files shaped like a ``POST /v1/batch`` body: ``{"batch": [...], "sentAt": ..., ...}``.

    The messages are not decoded here (the event loader's row builder does it in one pass); a
    file that is not JSON, or whose ``batch`` is not an array, is a problem. Bytes that are not
    UTF-8 are replaced (U+FFFD), as a text reader would."""
    for path in source_files(root, pattern):
        rel = path.relative_to(root).as_posix()
        payload = path.read_bytes()
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            payload = payload.decode("utf-8", errors="replace").encode("utf-8")
        try:
            shape = _SHAPE.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            try:
                body = json.loads(payload)
            except json.JSONDecodeError:
                text = payload.decode()
                yield ReadProblem(rel, 0, "invalid_json", text, "file is not valid JSON")
                continue
            if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
                yield _not_a_batch(rel, payload)
                continue
            shape = _BatchShape(msgspec.Raw(b"[]"), body.get("sentAt"))
        if not bytes(shape.batch).lstrip().startswith(b"["):
            yield _not_a_batch(rel, payload)
            continue
        sent_at = shape.sentAt if isinstance(shape.sentAt, str) else None
        yield SegmentFile(rel, payload, sent_at)


def _not_a_batch(rel: str, payload: bytes) -> ReadProblem:
    text = payload.decode("utf-8", errors="replace")
    return ReadProblem(rel, 0, "batch_must_be_array", text, "`batch` must be an array")

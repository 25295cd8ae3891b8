"""Read JSON Lines files: one object per line, in columnar chunks, bad lines kept aside.

Each line is parsed on its own, so one broken line (``invalid_json``), a line that is JSON but
not an object (``not_an_object``) or a line that is not valid text in the file's encoding
(``encoding``) becomes a :class:`ReadProblem` and the rest of the file loads. Blank lines are
skipped. Positions are line numbers. Nested objects and arrays stay nested (Arrow structs and
lists) so mappings can reach into them (``shipping.city``, ``unnest(items)``); a field whose
values disagree in type across records is kept as text.

Example::

    for item in read_jsonl_chunks(Path("orders.jsonl"), "orders.jsonl"):
        ...
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from custodia.collect.records import ReadProblem, RecordChunk
from custodia.collect.text_encoding import normalize_encoding
from custodia.core.arrow_values import table_from_columns

__all__ = ["read_jsonl_chunks"]

CHUNK_ROWS = 50_000


def read_jsonl_chunks(
    path: Path, source_file: str, *, encoding: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[RecordChunk | ReadProblem]:
    """The objects of one JSON Lines file (UTF-8 unless ``encoding`` says otherwise)."""
    codec = normalize_encoding(encoding or "utf-8")
    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            item = _parse_line(raw, number, source_file, codec)
            if item is None:
                continue
            if isinstance(item, ReadProblem):
                yield item
                continue
            rows.append(item)
            positions.append(number)
            if len(rows) >= chunk_rows:
                yield _chunk(rows, positions, source_file)
                rows, positions = [], []
    if rows:
        yield _chunk(rows, positions, source_file)


def _parse_line(
    raw: bytes, number: int, source_file: str, codec: str
) -> dict[str, Any] | ReadProblem | None:
    try:
        line = raw.decode(codec)
    except UnicodeDecodeError:
        text = raw.decode(codec, errors="backslashreplace")
        reason = f"line {number} is not valid {codec} text"
        return ReadProblem(source_file, number, "encoding", text, reason)
    if number == 1:
        line = line.removeprefix("\ufeff")
    if not line.strip():
        return None
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return ReadProblem(source_file, number, "invalid_json", line, "line is not JSON")
    except RecursionError:
        return ReadProblem(source_file, number, "too_deep", line, "line nests too deeply")
    if not isinstance(data, dict):
        reason = "line is JSON but not an object"
        return ReadProblem(source_file, number, "not_an_object", line, reason)
    return data


def _chunk(rows: list[dict[str, Any]], positions: list[int], source_file: str) -> RecordChunk:
    return RecordChunk(_rows_table(rows), source_file, pa.array(positions, pa.int64()))


def _rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as a table with every field any row has (absent fields are null), typed per field."""
    names = list(dict.fromkeys(key for row in rows for key in row))
    return table_from_columns(names, [[row.get(name) for row in rows] for name in names])

"""Writing the demo's files byte-for-byte reproducibly (fixed line endings, encodings, order).

Example::

    rows = write_csv(out / "a.csv", ["id", "name"], [("1", "王芳")])   # returns 1
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8",
) -> int:
    """Write a CSV with ``\\n`` line endings and minimal quoting; returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    counter = itertools.count()
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(row for row, _ in zip(rows, counter, strict=False))
    return next(counter)


def write_csv_columns(
    path: Path, header: Sequence[str], columns: Sequence[Sequence[str]], *, encoding: str = "utf-8"
) -> int:
    """Write string columns as CSV fast; falls back to :func:`write_csv` if any field needs quotes.

    Joining is much faster than ``csv.writer`` for millions of rows; the fast path is taken only
    when the joined text proves that no field holds a comma, a quote or a line break.
    """
    rows = len(columns[0]) if columns else 0
    lines = [",".join(fields) for fields in zip(*columns, strict=True)]
    text = "\n".join([",".join(header), *lines]) + "\n"
    separators = (len(header) - 1) * (rows + 1)
    if '"' in text or "\r" in text or text.count(",") != separators or text.count("\n") != rows + 1:
        return write_csv(path, header, zip(*columns, strict=True), encoding=encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return rows


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write one compact UTF-8 JSON object per line; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        chunk: list[str] = []
        for record in records:
            chunk.append(encode(record))
            count += 1
            if len(chunk) == _LINES_PER_WRITE:
                handle.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            handle.write("\n".join(chunk) + "\n")
    return count


_LINES_PER_WRITE = 5_000


def money(value: float) -> str:
    """Two-decimal text for a currency amount, as exports show it."""
    return f"{value:.2f}"

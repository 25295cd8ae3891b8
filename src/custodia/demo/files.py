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


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Write one compact UTF-8 JSON object per line; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")
            count += 1
    return count


def money(value: float) -> str:
    """Two-decimal text for a currency amount, as exports show it."""
    return f"{value:.2f}"

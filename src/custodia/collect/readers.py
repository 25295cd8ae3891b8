"""Read batch source files record by record, keeping where each record came from.

Each reader yields :class:`SourceRecord`: the record as a dict, the file it came from (relative to
the source folder) and its position there. Readers never stop at a bad line: a line that is not
valid JSON becomes a :class:`ReadProblem` naming the file, the line and the rule, and reading goes
on (the caller quarantines it).

Example::

    for item in read_jsonl(root, "ecommerce/orders*.jsonl"):
        ...
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custodia.core.errors import ValidationError


@dataclass(frozen=True)
class SourceRecord:
    """One record read from a source, with its location for lineage."""

    data: dict[str, Any]
    source_file: str
    position: int


@dataclass(frozen=True)
class ReadProblem:
    """A part of a file that could not be read as a record.

    ``raw`` keeps the original text for the quarantine; it is never put into a message.
    """

    source_file: str
    position: int
    rule: str
    raw: str = ""
    reason: str = ""


def source_files(root: Path, pattern: str) -> list[Path]:
    """The files a path or glob names under ``root``, sorted; an error when there are none."""
    files = sorted(p for p in root.glob(pattern) if p.is_file())
    if not files:
        raise ValidationError("path", "exists", f"no source file matches '{pattern}' in {root}")
    return files


def read_csv(root: Path, pattern: str) -> Iterator[SourceRecord | ReadProblem]:
    """CSV exports with a header row (UTF-8, a BOM is tolerated); empty cells become None."""
    for path in source_files(root, pattern):
        rel = path.relative_to(root).as_posix()
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for position, row in enumerate(csv.DictReader(fh), start=1):
                if None in row:
                    raw = json.dumps(row, ensure_ascii=False, default=str)
                    reason = "the row has more fields than the header"
                    yield ReadProblem(rel, position, "csv_extra_fields", raw, reason)
                    continue
                yield SourceRecord(
                    {k: (v if v != "" else None) for k, v in row.items()}, rel, position
                )


def read_jsonl(root: Path, pattern: str) -> Iterator[SourceRecord | ReadProblem]:
    """JSON Lines: one object per line; blank lines are skipped."""
    for path in source_files(root, pattern):
        rel = path.relative_to(root).as_posix()
        with path.open(encoding="utf-8") as fh:
            for position, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    yield ReadProblem(rel, position, "invalid_json", line, "line is not JSON")
                    continue
                if not isinstance(data, dict):
                    reason = "line is JSON but not an object"
                    yield ReadProblem(rel, position, "not_an_object", line, reason)
                    continue
                yield SourceRecord(data, rel, position)


@dataclass(frozen=True)
class SegmentBatch:
    """One Segment-style batch file: its messages and batch-level fields."""

    source_file: str
    messages: list[Any]
    context: dict[str, Any] | None
    integrations: dict[str, Any] | None
    sent_at: str | None


def read_segment_batches(root: Path, pattern: str) -> Iterator[SegmentBatch | ReadProblem]:
    """Files shaped like a ``POST /v1/batch`` body: ``{"batch": [...], "sentAt": ..., ...}``."""
    for path in source_files(root, pattern):
        rel = path.relative_to(root).as_posix()
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            yield ReadProblem(rel, 0, "invalid_json", text, "file is not valid JSON")
            continue
        if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
            yield ReadProblem(rel, 0, "batch_must_be_array", text, "`batch` must be an array")
            continue
        context = body.get("context")
        integrations = body.get("integrations")
        yield SegmentBatch(
            rel,
            body["batch"],
            context if isinstance(context, dict) else None,
            integrations if isinstance(integrations, dict) else None,
            body.get("sentAt") if isinstance(body.get("sentAt"), str) else None,
        )

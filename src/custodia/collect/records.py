"""What readers produce: records in columnar chunks, and the parts of a file that are not records.

Readers hand records over as :class:`RecordChunk` (an Arrow table of the source's own fields, the
file they came from and each row's position there) so that landing and mapping stay vectorised;
:class:`SourceRecord` is the one-record view for callers that want dicts. A part of a file that
cannot be read as a record is a :class:`ReadProblem`; readers never stop at one.

Example::

    chunk = RecordChunk.of(pa.table({"id": ["1", "2"]}), "pos/a.csv", first_position=1)
    list(chunk.records())[1].position   # 2
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

__all__ = ["ReadProblem", "RecordChunk", "SourceRecord", "unique_field_names"]


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


@dataclass(frozen=True)
class RecordChunk:
    """Consecutive records of one file or table, columnar.

    ``table`` holds the source's fields only; ``positions`` (int64) says where each row was in
    the file (row or line number). ``key_scope`` is what the raw landing key is derived from
    together with the position: the file name for files, the table and the start of the read
    for incremental database reads (so two increments never share a key).
    """

    table: pa.Table
    source_file: str
    positions: pa.Array
    key_scope: str = ""

    @classmethod
    def of(
        cls, table: pa.Table, source_file: str, *, first_position: int, key_scope: str = ""
    ) -> RecordChunk:
        """A chunk whose rows sit at consecutive positions from ``first_position``."""
        end = first_position + table.num_rows
        return cls(table, source_file, pa.array(range(first_position, end), pa.int64()), key_scope)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    @property
    def scope(self) -> str:
        return self.key_scope or self.source_file

    def records(self) -> Iterator[SourceRecord]:
        """The rows as :class:`SourceRecord` (slow path, for small data and tests)."""
        for row, position in zip(self.table.to_pylist(), self.positions.to_pylist(), strict=True):
            yield SourceRecord(row, self.source_file, int(position))


def unique_field_names(names: list[str]) -> list[str]:
    """Header names made usable as field names: trimmed, empty ones named ``column_<n>``,
    repeats suffixed ``_2``, ``_3``.

    >>> unique_field_names(["id", " 姓名 ", "", "id"])
    ['id', '姓名', 'column_3', 'id_2']
    """
    seen: set[str] = set()
    unique = []
    for index, name in enumerate(names, start=1):
        base = name.strip() or f"column_{index}"
        candidate, n = base, 1
        while candidate in seen:
            n += 1
            candidate = f"{base}_{n}"
        seen.add(candidate)
        unique.append(candidate)
    return unique

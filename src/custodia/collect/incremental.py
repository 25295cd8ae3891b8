"""Incremental reads by a cursor column: what the watermark remembers and what a read may skip.

A database source read incrementally asks for rows whose cursor (``updated_at``, an increasing
id) is at or after the last high-water mark. The boundary is closed so that a row written later
with the same cursor value is not missed; rows at the boundary that were already loaded are
recognised by a fingerprint of their content and dropped, so an unchanged table loads nothing
(dlt does the same with its primary-key/hash de-duplication).

The watermark is stored as opaque text in the operational store (``Watermarks``), one per source
and table: ``{"column": ..., "value": ..., "seen": [fingerprints at value]}``.

Example::

    previous = WatermarkState.from_text(marks.get("erp", "customers"), column="updated_at")
    tracker = IncrementalTracker("updated_at", previous)
    for chunk in chunks:
        chunk = tracker.apply(chunk)          # drops rows already loaded at the boundary
    marks.set("erp", "customers", tracker.state().to_text())
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from custodia.core.arrow_values import value_as_text
from custodia.core.errors import ValidationError

__all__ = ["IncrementalTracker", "WatermarkState", "row_fingerprint"]


@dataclass(frozen=True)
class WatermarkState:
    """The high-water mark of one incremental source table."""

    column: str
    value: str | None
    seen: frozenset[str] = field(default_factory=frozenset)

    def to_text(self) -> str:
        return json.dumps(
            {"column": self.column, "value": self.value, "seen": sorted(self.seen)},
            ensure_ascii=False,
        )

    @classmethod
    def from_text(cls, text: str | None, *, column: str) -> WatermarkState | None:
        """The stored state, or ``None`` when there is none yet. A state kept for another
        cursor column is an error: the two cannot be compared."""
        if text is None:
            return None
        try:
            data = json.loads(text)
            state = cls(str(data["column"]), data["value"], frozenset(data.get("seen", [])))
        except (ValueError, KeyError, TypeError):
            raise ValidationError(
                "incremental", "watermark", "the stored watermark is not readable"
            ) from None
        if state.column != column:
            raise ValidationError(
                "incremental",
                "column",
                f"the watermark was kept for column '{state.column}', not '{column}'",
            )
        return state


def row_fingerprint(row: dict[str, Any]) -> str:
    """A digest of a row's content (field order does not matter)."""
    text = json.dumps(row, sort_keys=True, ensure_ascii=False, default=value_as_text)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class IncrementalTracker:
    """Follows the cursor through the chunks of one read (ordered by the cursor, NULLs first)."""

    def __init__(self, column: str, previous: WatermarkState | None) -> None:
        self.column = column
        self.previous = previous
        self._max: str | None = previous.value if previous else None
        self._seen: set[str] = set(previous.seen) if previous else set()
        self._past_boundary = previous is None or not previous.seen
        self.rows_skipped = 0

    def apply(self, chunk: pa.Table) -> pa.Table:
        """Record the chunk's high-water mark, and return it without rows already loaded."""
        if self.column not in chunk.column_names:
            raise ValidationError(
                "incremental", "column", f"the read returned no column '{self.column}'"
            )
        self._track_max(chunk)
        return self._drop_seen(chunk)

    def state(self) -> WatermarkState | None:
        """The mark to store after the load; ``None`` when no row has had a cursor value yet."""
        if self._max is None:
            return None
        return WatermarkState(self.column, self._max, frozenset(self._seen))

    def _track_max(self, chunk: pa.Table) -> None:
        column = chunk.column(self.column)
        valid = column.drop_null()
        if len(valid) == 0:
            return
        last = valid[len(valid) - 1]
        text = value_as_text(last.as_py())
        at_last = pc.fill_null(pc.equal(column, last), False)
        fingerprints = {row_fingerprint(r) for r in chunk.filter(at_last).to_pylist()}
        if text != self._max:
            self._max, self._seen = text, set()
        self._seen |= fingerprints

    def _drop_seen(self, chunk: pa.Table) -> pa.Table:
        if self._past_boundary or self.previous is None:
            return chunk
        values = chunk.column(self.column)
        keep = [True] * chunk.num_rows
        for index in range(chunk.num_rows):
            value = values[index].as_py()
            if value is None or value_as_text(value) != self.previous.value:
                self._past_boundary = True
                break
            row = {name: chunk.column(name)[index].as_py() for name in chunk.column_names}
            if row_fingerprint(row) in self.previous.seen:
                keep[index] = False
        dropped = keep.count(False)
        self.rows_skipped += dropped
        return chunk.filter(pa.array(keep)) if dropped else chunk

"""Incremental reads: the watermark moves to the highest cursor value, rows already loaded at the
boundary are skipped, rows new at the boundary are not."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from custodia.collect.incremental import IncrementalTracker, WatermarkState, row_fingerprint
from custodia.core.errors import ValidationError


def _chunk(rows: list[tuple[str, datetime | None]]) -> pa.Table:
    return pa.table(
        {"id": [r[0] for r in rows], "updated_at": [r[1] for r in rows]},
        schema=pa.schema([("id", pa.string()), ("updated_at", pa.timestamp("us"))]),
    )


T1, T2, T3 = datetime(2026, 3, 1, 9), datetime(2026, 3, 2, 9), datetime(2026, 3, 3, 9)


def test_first_read_keeps_everything_and_remembers_the_boundary_rows() -> None:
    tracker = IncrementalTracker("updated_at", None)
    first = tracker.apply(_chunk([("c0", None), ("c1", T1), ("c2", T2)]))
    second = tracker.apply(_chunk([("c3", T2)]))
    assert first.num_rows == 3 and second.num_rows == 1
    state = tracker.state()
    assert state is not None
    assert state.value == "2026-03-02T09:00:00"
    expected = {
        row_fingerprint({"id": "c2", "updated_at": T2}),
        row_fingerprint({"id": "c3", "updated_at": T2}),
    }
    assert state.seen == expected


def test_next_read_skips_only_boundary_rows_it_already_has() -> None:
    previous = IncrementalTracker("updated_at", None)
    previous.apply(_chunk([("c1", T1), ("c2", T2)]))
    state = previous.state()
    tracker = IncrementalTracker("updated_at", state)
    chunk = tracker.apply(_chunk([("c2", T2), ("c9", T2), ("c4", T3)]))
    assert chunk.column("id").to_pylist() == ["c9", "c4"]  # c9 arrived later with the same time
    assert tracker.rows_skipped == 1
    new_state = tracker.state()
    assert new_state is not None and new_state.value == "2026-03-03T09:00:00"


def test_an_unchanged_table_loads_nothing_and_keeps_its_mark() -> None:
    first = IncrementalTracker("updated_at", None)
    first.apply(_chunk([("c1", T1), ("c2", T2)]))
    state = first.state()
    again = IncrementalTracker("updated_at", state)
    assert again.apply(_chunk([("c2", T2)])).num_rows == 0
    assert again.state() == state


def test_a_changed_row_at_the_boundary_loads_again() -> None:
    first = IncrementalTracker("updated_at", None)
    first.apply(_chunk([("c2", T2)]))
    again = IncrementalTracker("updated_at", first.state())
    changed = pa.table(
        {"id": ["c2"], "updated_at": pa.array([T2], pa.timestamp("us")), "name": ["new"]}
    )
    assert again.apply(changed).num_rows == 1


def test_state_round_trips_as_text_and_refuses_another_column() -> None:
    state = WatermarkState("updated_at", "2026-03-02T09:00:00", frozenset({"abc"}))
    assert WatermarkState.from_text(state.to_text(), column="updated_at") == state
    assert WatermarkState.from_text(None, column="updated_at") is None
    with pytest.raises(ValidationError, match="kept for column 'updated_at', not 'id'"):
        WatermarkState.from_text(state.to_text(), column="id")
    with pytest.raises(ValidationError, match="not readable"):
        WatermarkState.from_text("{oops", column="id")


def test_no_cursor_values_means_no_mark() -> None:
    tracker = IncrementalTracker("updated_at", None)
    tracker.apply(_chunk([("c0", None)]))
    assert tracker.state() is None
    with pytest.raises(ValidationError, match="no column 'version'"):
        IncrementalTracker("version", None).apply(_chunk([("c0", T1)]))

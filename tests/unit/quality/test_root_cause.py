"""Root cause logic on hand-built series: where a metric moved, since when, and which group of
rows it comes from; and the tail probabilities it is judged with."""

from __future__ import annotations

import math
from datetime import date

import pytest

from custodia.quality.metrics import MetricSpec
from custodia.quality.periods import shift
from custodia.quality.root_cause import Cell, decompose, find_changes, judged_periods
from custodia.quality.tails import binomial_tail, normal_tail, poisson_tail

MONTHS = [shift(date(2025, 11, 1), "month", k) for k in range(12)]  # 2025-11 .. 2026-10
END = date(2026, 10, 31)


def counts_metric(**extra: object) -> MetricSpec:
    return MetricSpec.model_validate({
        "name": "orders_per_store", "table": "orders", "value": "count(*)",
        "dimensions": ["store_id"], "drill": ["source"], **extra,
    })  # fmt: skip


def store_cells(stop_at: date | None = date(2026, 7, 1)) -> list[Cell]:
    """Three stores of about 30 receipts a month; S2 has none from ``stop_at`` on."""
    cells = []
    for k, month in enumerate(MONTHS):
        for store, level in (("S1", 30), ("S2", 28), ("S3", 33)):
            if store == "S2" and stop_at is not None and month >= stop_at:
                continue
            cells.append(Cell(month, (store,), ("pos",), level + (k % 3) - 1))
    return cells


def test_a_store_that_stops_is_found_with_the_month_it_stopped() -> None:
    changes = find_changes(counts_metric(), store_cells(), latest_day=END)
    top = changes[0]
    assert top.segment == {"store_id": "S2"}
    assert (top.since, top.until, top.periods) == (date(2026, 7, 1), date(2026, 10, 1), 4)
    assert top.observed == 0 and top.expected == 28 * 4 and top.change == -1
    assert top.significant and top.p_value < 1e-9
    assert [c.segment["store_id"] for c in changes if c.significant] == ["S2"]
    judged = [f for f in top.figures if f.expected is not None]
    assert [f.period for f in judged] == MONTHS[-4:] and all(f.value == 0 for f in judged)


def test_steady_series_have_no_significant_change() -> None:
    changes = find_changes(counts_metric(), store_cells(stop_at=None), latest_day=END)
    assert not any(c.significant for c in changes)


def test_a_partial_last_period_is_not_judged() -> None:
    assert judged_periods(date(2026, 10, 31), "month", 2) == [date(2026, 9, 1), date(2026, 10, 1)]
    assert judged_periods(date(2026, 10, 17), "month", 2) == [date(2026, 8, 1), date(2026, 9, 1)]
    assert judged_periods(date(2026, 10, 17), "day", 1) == [date(2026, 10, 17)]
    # the data of a half-loaded October: S1 looks like it dropped, but October is not judged
    cells = [c for c in store_cells(stop_at=None) if c.period < date(2026, 10, 1)]
    cells.append(Cell(date(2026, 10, 1), ("S1",), ("pos",), 10))
    changes = find_changes(counts_metric(), cells, latest_day=date(2026, 10, 15))
    assert not any(c.significant for c in changes)


def test_direction_up_finds_rises_only() -> None:
    cells = [*store_cells(stop_at=None), Cell(MONTHS[-1], ("S3",), ("pos",), 90)]
    up = find_changes(counts_metric(direction="up"), cells, latest_day=END)
    assert up[0].segment == {"store_id": "S3"} and up[0].significant and up[0].change > 1
    down = find_changes(counts_metric(), store_cells(), latest_day=END)
    assert all(c.change < 0 for c in down)


def test_too_little_history_is_no_change() -> None:
    cells = [Cell(m, ("S1",), ("pos",), 30) for m in MONTHS[-3:]]
    assert find_changes(counts_metric(), cells, latest_day=END) == []


def test_decompose_names_the_group_that_stopped() -> None:
    metric = counts_metric(dimensions=["channel"], drill=["source", "store_id"])
    cells = [
        Cell(c.period, ("pos",), ("pos_receipts", c.segment[0]), c.numerator) for c in store_cells()
    ]
    change = find_changes(metric, cells, latest_day=END)[0]
    assert change.segment == {"channel": "pos"} and change.since == date(2026, 7, 1)
    parts = decompose(metric, cells, change)
    top = parts[0]
    assert top.group == {"source": "pos_receipts", "store_id": "S2"}
    assert top.stopped and top.observed == 0 and top.expected == 28 * 4
    assert top.last_period == date(2026, 6, 1)
    assert top.share is not None and top.share > 0.9
    assert all(not p.stopped for p in parts[1:])


def test_a_rate_is_decomposed_by_restoring_each_group() -> None:
    """A repurchase rate of 200 members: 20 buy again each month, 6 of them at store S2 until
    S2's rows stop."""
    metric = MetricSpec.model_validate({
        "name": "repurchase", "table": "orders", "value": "count(*) FILTER (WHERE bought)",
        "denominator": "count(*)", "dimensions": ["region"], "drill": ["store_id"],
    })  # fmt: skip
    cells = []
    for month in MONTHS:
        stopped = month >= date(2026, 7, 1)
        s2 = 0 if stopped else 6
        cells += [
            Cell(month, ("SH",), ("S1",), 14, 14),
            Cell(month, ("SH",), ("S2",), s2, s2),
            Cell(month, ("SH",), (None,), 0, 200 - 14 - s2),
        ]
    change = find_changes(metric, cells, latest_day=END)[0]
    assert change.segment == {"region": "SH"} and change.since == date(2026, 7, 1)
    assert change.expected == pytest.approx(0.1) and change.observed == pytest.approx(0.07)
    assert change.significant
    parts = decompose(metric, cells, change)
    assert parts[0].group == {"store_id": "S2"} and parts[0].stopped
    # S2's 4 x 6 rows restored in numerator and denominator: 80 / 824 instead of 56 / 800
    assert parts[0].effect == pytest.approx(80 / 824 - 56 / 800)
    assert {p.group["store_id"] for p in parts} == {"S2"}  # S1 and the non-buyers did not move


def test_amounts_are_judged_robustly() -> None:
    metric = counts_metric(value="sum(total_amount)")
    assert not metric.counts_rows
    cells = [Cell(m, ("S1",), ("pos",), 10_000.0 + 137 * (k % 4)) for k, m in enumerate(MONTHS)]
    assert not any(c.significant for c in find_changes(metric, cells, latest_day=END))
    cells[-1] = Cell(MONTHS[-1], ("S1",), ("pos",), 4_000.0)
    top = find_changes(metric, cells, latest_day=END)[0]
    assert top.significant and top.since == MONTHS[-1]
    # split by till: T2's takings collapsed, T1's wobbled as usual
    tills = [Cell(c.period, c.segment, ("T1",), c.numerator / 2) for c in cells[:-1]]
    tills += [Cell(c.period, c.segment, ("T2",), c.numerator / 2) for c in cells[:-1]]
    tills += [Cell(MONTHS[-1], ("S1",), ("T1",), 4_900.0), Cell(MONTHS[-1], ("S1",), ("T2",), 10.0)]
    metric = counts_metric(value="sum(total_amount)", drill=["till"])
    parts = decompose(metric, tills, find_changes(metric, tills, latest_day=END)[0])
    assert parts[0].group == {"till": "T2"} and parts[0].p_value < 1e-6


def test_tails_match_known_values() -> None:
    assert poisson_tail(0, 22.0, lower=True) == pytest.approx(math.exp(-22))
    assert poisson_tail(1072, 1104.0, lower=True) == pytest.approx(0.17168, rel=1e-3)
    assert poisson_tail(30, 10.0, lower=False) == pytest.approx(2.50995e-07, rel=1e-4)
    assert poisson_tail(0, 5.0, lower=False) == 1.0
    assert binomial_tail(3, 10, 0.5, lower=True) == pytest.approx(176 / 1024)
    assert binomial_tail(7, 10, 0.5, lower=False) == pytest.approx(176 / 1024)
    assert binomial_tail(31, 489, 0.11, lower=True) == pytest.approx(2.888e-4, rel=1e-3)
    assert normal_tail(-1.96) == pytest.approx(0.025, rel=1e-2) == normal_tail(1.96)
    # large samples use the normal law and stay in (0, 1)
    assert 0 < poisson_tail(9_000, 10_000.0, lower=True) < 1e-20

"""Root cause of a metric change, as pure logic: where the metric moved against its own history,
and which group of rows (a source, a store) the move comes from.

Input is a metric measured per period, segment (the metric's ``dimensions``) and drill group
(its ``drill`` columns): :class:`Cell` rows, each an additive numerator and, for rates, an
additive denominator. Two steps:

1. :func:`find_changes`: for every segment and every period ``start`` in the judged window, the
   periods from ``start`` to the last judged one are pooled and compared with the median of the
   ``lookback`` periods before ``start`` (periods without rows count as zero once the segment has
   been seen). Counts are judged with a Poisson law, proportions with a binomial one, other
   figures (sums of money, ratios above one) with a robust z-score (median and MAD). Each segment
   keeps its most unlikely ``start``: that is when the change began. The latest period is judged
   only when the data reaches its last day, so a month still being loaded is not a drop.
2. :func:`decompose`: the segment's change over those periods is split by drill group: each
   group is restored to its own expected level (median of its history) and the metric recomputed;
   the difference is the group's effect. Groups are ranked by how unlikely their own change is
   (a store whose rows stopped is the most unlikely of all), then by effect.

Example::

    changes = find_changes(metric, cells, latest_day=date(2026, 10, 31))
    top = changes[0]                  # SegmentChange(segment={'store_id': 'SH001'}, ...)
    decompose(metric, cells, top)[0]  # Contribution(group={'source': 'pos_receipts'}, ...)
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel

from custodia.quality.metrics import MetricSpec
from custodia.quality.periods import period_start, shift
from custodia.quality.tails import binomial_tail, normal_tail, poisson_tail

__all__ = [
    "Cell",
    "Contribution",
    "PeriodFigure",
    "SegmentChange",
    "cells_from_rows",
    "decompose",
    "find_changes",
    "judged_periods",
]

NONE_LABEL = "(none)"
_MIN_HISTORY = 3


@dataclass(frozen=True)
class Cell:
    """One period, segment and drill group of a metric (labels are text; None is no value)."""

    period: date
    segment: tuple[str | None, ...]
    group: tuple[str | None, ...]
    numerator: float
    denominator: float | None = None


class PeriodFigure(BaseModel):
    """The segment's metric in one period, and the expected level where a change is judged."""

    period: date
    value: float | None
    numerator: float
    denominator: float | None = None
    expected: float | None = None


class SegmentChange(BaseModel):
    """A segment whose metric moved, from ``since`` to ``until`` (whole periods)."""

    segment: dict[str, str]
    since: date
    until: date
    periods: int
    observed: float
    """The metric over the changed periods: rows (or sums) for counts, the pooled rate for rates."""
    expected: float
    change: float
    """Relative change: observed / expected - 1 (-0.6 is a 60% drop)."""
    p_value: float
    """How likely a change this large is by chance, given the segment's history (multiplied by
    the number of segments watched, so that watching many segments does not raise noise)."""
    significant: bool
    figures: list[PeriodFigure] = []


class Contribution(BaseModel):
    """One drill group's part in a segment's change."""

    group: dict[str, str]
    observed: float
    expected: float
    observed_denominator: float | None = None
    expected_denominator: float | None = None
    effect: float
    """How much of the segment's gap restoring this group alone closes (metric units)."""
    share: float | None
    """effect / the segment's whole gap (None when there is no gap)."""
    p_value: float
    stopped: bool
    """The group had rows before and has none at all in the changed periods."""
    last_period: date | None
    """The last period in which the group has rows."""


# -- periods ---------------------------------------------------------------------------------


def judged_periods(latest_day: date, grain: str, window: int) -> list[date]:
    """The ``window`` latest whole periods of the data, oldest first."""
    last = period_start(latest_day, grain)
    if shift(last, grain, 1).toordinal() - 1 != latest_day.toordinal():
        last = shift(last, grain, -1)  # the data does not reach the period's end yet
    return [shift(last, grain, -k) for k in range(window - 1, -1, -1)]


# -- step 1: where did the metric change? ---------------------------------------------------


Series = dict[date, tuple[float, float]]


def find_changes(
    metric: MetricSpec, cells: Iterable[Cell], *, latest_day: date
) -> list[SegmentChange]:
    """Every segment's most unlikely change in the judged window, most unlikely first."""
    periods = judged_periods(latest_day, metric.grain, metric.window)
    segments = _by_segment(cells)
    out = []
    for segment, series in sorted(segments.items(), key=lambda kv: _key(kv[0])):
        best = _best_change(metric, series, periods, tests=len(segments))
        if best is not None:
            labels = dict(zip(metric.dimensions, (_label(v) for v in segment), strict=True))
            out.append(best.model_copy(update={"segment": labels}))
    return sorted(out, key=lambda c: (not c.significant, c.p_value, -abs(c.change)))


def _by_segment(cells: Iterable[Cell]) -> dict[tuple[str | None, ...], Series]:
    out: dict[tuple[str | None, ...], Series] = defaultdict(dict)
    for cell in cells:
        num, den = out[cell.segment].get(cell.period, (0.0, 0.0))
        out[cell.segment][cell.period] = (num + cell.numerator, den + (cell.denominator or 0.0))
    return out


def _best_change(
    metric: MetricSpec, series: Series, periods: Sequence[date], *, tests: int
) -> SegmentChange | None:
    candidates = []
    for start in periods:
        change = _pooled_change(metric, series, start, periods[-1], tests)
        if change is not None and _in_direction(metric, change.change):
            candidates.append(change)
    if not candidates:
        return None
    best = min(candidates, key=lambda c: (not c.significant, c.p_value, -abs(c.change)))
    return best.model_copy(update={"figures": _figures(metric, series, best, periods)})


def _in_direction(metric: MetricSpec, change: float) -> bool:
    if metric.direction == "down":
        return change < 0
    if metric.direction == "up":
        return change > 0
    return change != 0


def _pooled_change(
    metric: MetricSpec, series: Series, start: date, end: date, tests: int
) -> SegmentChange | None:
    history = _history(metric, series, start)
    if len(history) < _MIN_HISTORY:
        return None
    span = _span(metric.grain, start, end)
    pooled = [series.get(p, (0.0, 0.0)) for p in span]
    judged = _judge(metric, history, pooled)
    if judged is None:
        return None
    observed, expected, raw_p = judged
    p_value = min(1.0, raw_p * tests)
    change = observed / expected - 1 if expected else 0.0
    significant = abs(change) >= metric.min_change and p_value <= metric.max_p_value
    return SegmentChange(
        segment={}, since=start, until=end, periods=len(span), observed=observed,
        expected=expected, change=change, p_value=p_value, significant=significant,
    )  # fmt: skip


def _history(metric: MetricSpec, series: Series, start: date) -> list[tuple[float, float]]:
    """The lookback periods before ``start`` since the series began (missing ones are zero)."""
    first = min(series) if series else start
    before = [shift(start, metric.grain, -k) for k in range(1, metric.lookback + 1)]
    return [series.get(p, (0.0, 0.0)) for p in before if p >= first]


def _span(grain: str, start: date, end: date) -> list[date]:
    out = [start]
    while out[-1] < end:
        out.append(shift(out[-1], grain, 1))
    return out


def _judge(
    metric: MetricSpec,
    history: Sequence[tuple[float, float]],
    pooled: Sequence[tuple[float, float]],
) -> tuple[float, float, float] | None:
    """(observed, expected, p-value) of the pooled periods against the history, or None."""
    if metric.is_rate:
        return _judge_rate(metric, history, pooled)
    expected = float(statistics.median(n for n, _ in history)) * len(pooled)
    observed = sum(n for n, _ in pooled)
    if expected == 0:
        return None
    if metric.counts_rows:
        return observed, expected, _count_tail(observed, expected)
    values = [n for n, _ in history]
    return observed, expected, _robust_p(values, observed / len(pooled), len(pooled))


def _judge_rate(
    metric: MetricSpec,
    history: Sequence[tuple[float, float]],
    pooled: Sequence[tuple[float, float]],
) -> tuple[float, float, float] | None:
    rates = [n / d for n, d in history if d > 0]
    num, den = sum(n for n, _ in pooled), sum(d for _, d in pooled)
    if len(rates) < _MIN_HISTORY or den <= 0:
        return None
    expected, observed = float(statistics.median(rates)), num / den
    if metric.counts_rows and 0 < expected < 1 and all(r <= 1 for r in rates):
        lower = observed < expected
        return observed, expected, binomial_tail(round(num), round(den), expected, lower=lower)
    if expected == 0:
        return None
    return observed, expected, _robust_p(rates, observed, len(pooled))


def _count_tail(observed: float, expected: float) -> float:
    return poisson_tail(round(observed), expected, lower=observed < expected)


def _robust_p(history: Sequence[float], mean: float, periods: int) -> float:
    """Tail probability of a pooled mean against a history, scaled by the history's MAD."""
    centre = float(statistics.median(history))
    mad = float(statistics.median(abs(v - centre) for v in history))
    scale = max(1.4826 * mad, 0.05 * abs(centre), 1e-9) / math.sqrt(periods)
    return normal_tail((mean - centre) / scale)


def _figures(
    metric: MetricSpec, series: Series, change: SegmentChange, periods: Sequence[date]
) -> list[PeriodFigure]:
    shown = [shift(periods[0], metric.grain, -k) for k in range(metric.lookback, 0, -1)]
    first = min(series)
    expected = change.expected / change.periods if not metric.is_rate else change.expected
    out = []
    for period in [*shown, *periods]:
        if period < first:
            continue
        num, den = series.get(period, (0.0, 0.0))
        value = (num / den if den else None) if metric.is_rate else num
        judged = change.since <= period <= change.until
        out.append(PeriodFigure(
            period=period, value=value, numerator=num,
            denominator=den if metric.is_rate else None, expected=expected if judged else None,
        ))  # fmt: skip
    return out


# -- step 2: which group of rows did it? ----------------------------------------------------


def decompose(
    metric: MetricSpec, cells: Iterable[Cell], change: SegmentChange, *, limit: int = 10
) -> list[Contribution]:
    """The drill groups of ``change``'s segment, the most unlikely (then largest) first."""
    wanted = tuple(change.segment.get(d) for d in metric.dimensions)
    groups: dict[tuple[str | None, ...], Series] = defaultdict(dict)
    for cell in cells:
        if tuple(_label(v) for v in cell.segment) == wanted:
            num, den = groups[cell.group].get(cell.period, (0.0, 0.0))
            groups[cell.group][cell.period] = (num + cell.numerator,
                                               den + (cell.denominator or 0.0))  # fmt: skip
    span = _span(metric.grain, change.since, change.until)
    parts = {g: _group_part(metric, s, change.since, span) for g, s in groups.items()}
    totals = _totals(parts.values())
    gap = _metric(metric, *totals[2:]) - _metric(metric, *totals[:2])
    out = [
        _contribution(metric, group, part, totals, gap)
        for group, part in sorted(parts.items(), key=lambda kv: _key(kv[0]))
    ]
    down = change.change < 0
    aligned = [c for c in out if ((c.effect > 0) == down and (c.observed or c.expected))
               or c.stopped]  # fmt: skip
    return sorted(aligned, key=lambda c: (c.p_value, -abs(c.effect)))[:limit]


@dataclass(frozen=True)
class _Part:
    observed: float
    observed_den: float
    expected: float
    expected_den: float
    last_period: date | None
    history: tuple[float, ...]
    periods: int

    def p_value(self, counts: bool) -> float:
        """How unlikely the group's own change is: Poisson for counts, else robust."""
        if counts:
            return _count_tail(self.observed, self.expected)
        if len(self.history) < _MIN_HISTORY or not self.expected:
            return 1.0
        return _robust_p(self.history, self.observed / self.periods, self.periods)


def _group_part(metric: MetricSpec, series: Series, start: date, span: Sequence[date]) -> _Part:
    history = _history(metric, series, start)
    seen = [p for p, (n, _) in series.items() if n]
    return _Part(
        observed=sum(series.get(p, (0.0, 0.0))[0] for p in span),
        observed_den=sum(series.get(p, (0.0, 0.0))[1] for p in span),
        expected=float(statistics.median(n for n, _ in history)) * len(span) if history else 0.0,
        expected_den=float(statistics.median(d for _, d in history)) * len(span)
        if history else 0.0,
        last_period=max(seen) if seen else None,
        history=tuple(n for n, _ in history), periods=len(span),
    )  # fmt: skip


def _totals(parts: Iterable[_Part]) -> tuple[float, float, float, float]:
    listed = list(parts)
    return (
        sum(p.observed for p in listed),
        sum(p.observed_den for p in listed),
        sum(p.expected for p in listed),
        sum(p.expected_den for p in listed),
    )


def _metric(metric: MetricSpec, num: float, den: float) -> float:
    if not metric.is_rate:
        return num
    return num / den if den else 0.0


def _contribution(
    metric: MetricSpec,
    group: tuple[str | None, ...],
    part: _Part,
    totals: tuple[float, float, float, float],
    gap: float,
) -> Contribution:
    num, den = totals[0], totals[1]
    restored = _metric(metric, num - part.observed + part.expected,
                       den - part.observed_den + part.expected_den)  # fmt: skip
    effect = restored - _metric(metric, num, den)
    p_value = part.p_value(metric.counts_rows)
    return Contribution(
        group=dict(zip(metric.drill, (_label(v) for v in group), strict=True)),
        observed=part.observed, expected=part.expected,
        observed_denominator=part.observed_den if metric.is_rate else None,
        expected_denominator=part.expected_den if metric.is_rate else None,
        effect=effect, share=effect / gap if gap else None, p_value=p_value,
        stopped=part.observed == 0 and part.expected > 0, last_period=part.last_period,
    )  # fmt: skip


def _label(value: str | None) -> str:
    return NONE_LABEL if value is None else value


def _key(labels: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple(_label(v) for v in labels)


def cells_from_rows(metric: MetricSpec, rows: Iterable[Mapping[str, object]]) -> list[Cell]:
    """Cells from the rows of :func:`custodia.quality.metric_sql.metric_sql`."""
    out = []
    for row in rows:
        den = row.get("den")
        out.append(Cell(
            period=row["period"],  # type: ignore[arg-type]
            segment=tuple(_text(row[f"dim_{i}"]) for i in range(len(metric.dimensions))),
            group=tuple(_text(row[f"drill_{i}"]) for i in range(len(metric.drill))),
            numerator=float(row["num"] or 0),  # type: ignore[arg-type]
            denominator=None if den is None else float(den),  # type: ignore[arg-type]
        ))  # fmt: skip
    return out


def _text(value: object) -> str | None:
    return None if value is None else str(value)

"""From query rows to rule results: how many rows (or sources, keys, days) each rule checked and
how many failed, per source and day.

Row, unique, max_per_key and custom_sql queries count for themselves. Freshness and volume need
a judgement outside SQL: freshness compares each source's newest row with ``now``; volume
compares each period's count in the judged window with the median of the ``lookback`` periods
before it, per source and ``by`` group, counting missing periods as zero (a store that stopped
uploading has no rows at all, which is exactly the anomaly); a count is an anomaly when it is
outside the ratio bounds and also unlikely under a Poisson law with the expected mean, so small
counts do not raise noise. The periods are those of the data: the window ends on the latest
period any group has rows in.

Example::

    results = evaluate(query, rows, now=clock.now())
    [(r.rule, r.source, r.day, r.checked, r.failed) for r in results]
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from custodia.quality.models import Dimension, parse_duration
from custodia.quality.periods import shift
from custodia.quality.rule_sql import CompiledQuery
from custodia.quality.tails import poisson_tail

__all__ = ["Anomaly", "RuleResult", "evaluate"]

Row = Mapping[str, Any]


class Anomaly(BaseModel):
    """One group and day a volume or freshness rule judged bad (no personal data: groups are
    sources and business codes such as store ids)."""

    source: str
    group: dict[str, str] = {}
    day: date | None = None
    observed: float
    expected: float
    note: str


class RuleResult(BaseModel):
    """One rule's counts for one source and day ('' and None when the rule has no such split)."""

    rule: str
    table: str
    column: str
    dimension: Dimension
    source: str
    day: date | None
    checked: int
    failed: int
    anomalies: list[Anomaly] = []

    @property
    def pass_rate(self) -> float | None:
        return None if self.checked == 0 else 1 - self.failed / self.checked


def evaluate(query: CompiledQuery, rows: Sequence[Row], *, now: datetime) -> list[RuleResult]:
    """The results of one compiled query, given the rows it returned."""
    if query.kind == "rows":
        return _row_results(query, rows)
    rule = query.rules[0]
    if query.kind == "freshness":
        return _freshness(rule, rows, now)
    if query.kind == "volume":
        return _volume(rule, rows)
    return [
        _result(rule, r.get("source") or "", r.get("day"), r["checked"], r["failed"]) for r in rows
    ]


def _result(
    rule: Any,
    source: str,
    day: date | None,
    checked: int | None,
    failed: int | None,
    anomalies: list[Anomaly] | None = None,
) -> RuleResult:
    return RuleResult(
        rule=rule.name,
        table=rule.table,
        column=rule.scored_column,
        dimension=rule.measured_dimension,
        source=source,
        day=day,
        checked=int(checked or 0),
        failed=int(failed or 0),
        anomalies=anomalies or [],
    )


def _row_results(query: CompiledQuery, rows: Sequence[Row]) -> list[RuleResult]:
    out = []
    for i, rule in enumerate(query.rules):
        for row in rows:
            checked = row[f"r{i}_checked"]
            if checked:
                out.append(_result(rule, row["source"], row["day"], checked, row[f"r{i}_failed"]))
    return out


def _freshness(rule: Any, rows: Sequence[Row], now: datetime) -> list[RuleResult]:
    limit = parse_duration(rule.max_age)
    out = []
    for row in rows:
        newest = row["newest"]
        if newest is None:
            continue
        age = now - _aware(newest)
        stale = age > limit
        anomalies = (
            [Anomaly(source=row["source"], day=_as_date(newest), observed=_hours(age),
                     expected=_hours(limit), note="newest row older than max_age (hours)")]
            if stale else []
        )  # fmt: skip
        out.append(_result(rule, row["source"], None, 1, int(stale), anomalies))
    return out


def _volume(rule: Any, rows: Sequence[Row]) -> list[RuleResult]:
    counts: dict[tuple[str, tuple[str, ...]], dict[date, int]] = defaultdict(dict)
    for row in rows:
        group = tuple(str(row[f"by_{c}"]) for c in rule.by)
        counts[(row["source"], group)][row["day"]] = int(row["n"])
    if not counts:
        return []
    latest = max(day for series in counts.values() for day in series)
    window = [shift(latest, rule.period, -k) for k in range(rule.window - 1, -1, -1)]
    judged: dict[tuple[str, date], list[int | Anomaly]] = defaultdict(list)
    for (source, group), series in sorted(counts.items()):
        for start in window:
            verdict = _judge_period(rule, source, group, series, start)
            if verdict is not None:
                judged[(source, start)].append(verdict)
    return [
        _result(rule, source, day, len(verdicts), sum(isinstance(v, Anomaly) for v in verdicts),
                [v for v in verdicts if isinstance(v, Anomaly)])
        for (source, day), verdicts in sorted(judged.items())
    ]  # fmt: skip


def _judge_period(
    rule: Any, source: str, group: tuple[str, ...], series: Mapping[date, int], start: date
) -> int | Anomaly | None:
    """0 when the period is normal, an Anomaly when not, None when there is too little history.

    Missing periods count as zero, but only after the group's first period with rows.
    """
    first_seen = min(series)
    before = [shift(start, rule.period, -k) for k in range(1, rule.lookback + 1)]
    history = [series.get(p, 0) for p in before if p >= first_seen]
    if len(history) < 3:
        return None
    expected = float(statistics.median(history))
    observed = series.get(start, 0)
    if expected == 0:
        return 0
    ratio = observed / expected
    low = ratio < rule.min_ratio and poisson_tail(observed, expected, lower=True) < rule.max_p_value
    high = (
        rule.max_ratio is not None and ratio > rule.max_ratio
        and poisson_tail(observed, expected, lower=False) < rule.max_p_value
    )  # fmt: skip
    if not (low or high):
        return 0
    return Anomaly(
        source=source, group=dict(zip(rule.by, group, strict=True)), day=start,
        observed=observed, expected=expected,
        note=f"rows per {rule.period} {'above' if high else 'below'} the usual range",
    )  # fmt: skip


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _as_date(value: datetime) -> date:
    return _aware(value).date()


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)

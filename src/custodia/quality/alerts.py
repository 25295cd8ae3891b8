"""Thresholds: which rules crossed theirs in a run, and what that does to the open alerts.

A rule's threshold is judged on the run's totals for the rule (or per source with
``per_source``). An alert is keyed by rule (and source), so it deduplicates: while the metric
stays bad, later runs update the open alert (``occurrences``, latest value) instead of opening
another; when a run measures the metric back under its threshold, the alert resolves itself.
A rule that was not measured in a run (no rows, or removed) leaves its alert as it is.

Example::

    breaches, measured = judge_thresholds(ruleset.rules, results)
    plan = plan_alerts(open_alert_keys, breaches, measured)
    plan.opened, plan.continued, plan.resolved
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from custodia.quality.evaluate import RuleResult
from custodia.quality.models import Severity

__all__ = ["AlertPlan", "Breach", "alert_key", "judge_thresholds", "plan_alerts"]


class Breach(BaseModel):
    """A rule's measurement that crossed its threshold in this run."""

    key: str
    rule: str
    table: str
    column: str
    source: str
    severity: Severity
    checked: int
    failed: int
    failure_rate: float
    threshold: str

    def summary(self) -> str:
        where = f" in source {self.source}" if self.source else ""
        return (
            f"{self.rule} on {self.table}{'.' + self.column if self.column else ''}{where}: "
            f"{self.failed} of {self.checked} failed ({self.failure_rate:.1%}); "
            f"threshold {self.threshold}"
        )


def alert_key(rule: str, source: str = "") -> str:
    return f"{rule}@{source}" if source else rule


@dataclass(frozen=True)
class AlertPlan:
    opened: list[Breach]
    continued: list[Breach]
    resolved: list[str]


def judge_thresholds(
    rules: Iterable[object], results: Sequence[RuleResult]
) -> tuple[list[Breach], set[str]]:
    """The breaches of the run and every alert key that was measured (breached or not)."""
    by_rule: dict[str, list[RuleResult]] = defaultdict(list)
    for result in results:
        by_rule[result.rule].append(result)
    breaches: list[Breach] = []
    measured: set[str] = set()
    for rule in rules:
        threshold = getattr(rule, "threshold", None)
        if threshold is None or not by_rule.get(rule.name):  # type: ignore[attr-defined]
            continue
        for source, group in _split(by_rule[rule.name], threshold.per_source):  # type: ignore[attr-defined]
            key = alert_key(rule.name, source)  # type: ignore[attr-defined]
            measured.add(key)
            breach = _judge(rule, threshold, key, source, group)
            if breach is not None:
                breaches.append(breach)
    return breaches, measured


def plan_alerts(
    open_keys: Iterable[str], breaches: Sequence[Breach], measured: set[str]
) -> AlertPlan:
    """Which breaches open a new alert, which update an open one, which open alerts resolve."""
    already = set(open_keys)
    breached = {b.key for b in breaches}
    return AlertPlan(
        opened=[b for b in breaches if b.key not in already],
        continued=[b for b in breaches if b.key in already],
        resolved=sorted(k for k in already if k in measured and k not in breached),
    )


def _split(results: list[RuleResult], per_source: bool) -> list[tuple[str, list[RuleResult]]]:
    if not per_source:
        return [("", results)]
    groups: dict[str, list[RuleResult]] = defaultdict(list)
    for result in results:
        groups[result.source].append(result)
    return sorted(groups.items())


def _judge(
    rule: object, threshold: object, key: str, source: str, results: list[RuleResult]
) -> Breach | None:
    checked = sum(r.checked for r in results)
    failed = sum(r.failed for r in results)
    if checked == 0:
        return None
    rate = failed / checked
    max_rate = getattr(threshold, "max_failure_rate", None)
    max_failed = getattr(threshold, "max_failed", None)
    over_rate = max_rate is not None and rate > max_rate
    over_count = max_failed is not None and failed > max_failed
    if not (over_rate or over_count):
        return None
    bounds = []
    if max_rate is not None:
        bounds.append(f"max failure rate {max_rate:.1%}")
    if max_failed is not None:
        bounds.append(f"max failed {max_failed}")
    first = results[0]
    return Breach(
        key=key, rule=first.rule, table=first.table, column=first.column, source=source,
        severity=getattr(rule, "severity", Severity.WARNING), checked=checked, failed=failed,
        failure_rate=rate, threshold=", ".join(bounds),
    )  # fmt: skip

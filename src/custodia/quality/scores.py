"""Quality scores: rule results rolled up per table, column, source and day, per dimension.

A dimension's score in a scope is the mean pass rate of the rules measuring that dimension there
(each rule weighs the same, whether it counts rows, sources or days); the ``overall`` score is the
weighted mean of the dimension scores present (weights from the rule file, default 1). Scores are
0..1. Scopes: the whole workspace (table ``*``), each table, each table's column, source and day.
An empty string means "all" for column and source; ``day`` None means all days.

Example::

    for s in score_results(results):
        print(s.table, s.column, s.source, s.day, s.dimension, round(s.score, 3))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from pydantic import BaseModel

from custodia.quality.evaluate import RuleResult
from custodia.quality.models import Dimension

__all__ = ["ALL_TABLES", "OVERALL", "Score", "score_results"]

OVERALL = "overall"
ALL_TABLES = "*"


class Score(BaseModel):
    table: str
    column: str = ""
    source: str = ""
    day: date | None = None
    dimension: str
    score: float
    rules: int
    checked: int
    failed: int


Scope = tuple[str, str, str, date | None]
_SCOPES: tuple[Callable[[RuleResult], Scope | None], ...] = (
    lambda r: (ALL_TABLES, "", "", None),
    lambda r: (r.table, "", "", None),
    lambda r: (r.table, r.column, "", None) if r.column else None,
    lambda r: (r.table, "", r.source, None) if r.source else None,
    lambda r: (r.table, "", "", r.day) if r.day else None,
)


def score_results(
    results: Iterable[RuleResult], weights: Mapping[Dimension, float] | None = None
) -> list[Score]:
    """Every scope's dimension scores and overall score."""
    # scope -> dimension -> rule -> [checked, failed]
    tally: dict[Scope, dict[str, dict[str, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0, 0]))
    )
    for result in results:
        for scope_of in _SCOPES:
            scope = scope_of(result)
            if scope is not None:
                counts = tally[scope][result.dimension.value][result.rule]
                counts[0] += result.checked
                counts[1] += result.failed
    scores: list[Score] = []
    for scope, dimensions in tally.items():
        scores.extend(_scope_scores(scope, dimensions, weights or {}))
    return scores


def _scope_scores(
    scope: Scope,
    dimensions: Mapping[str, Mapping[str, list[int]]],
    weights: Mapping[Dimension, float],
) -> list[Score]:
    table, column, source, day = scope
    out: list[Score] = []
    for dimension, rules in sorted(dimensions.items()):
        rates = [1 - failed / checked for checked, failed in rules.values() if checked]
        if not rates:
            continue
        out.append(
            Score(table=table, column=column, source=source, day=day, dimension=dimension,
                  score=sum(rates) / len(rates), rules=len(rates),
                  checked=sum(c for c, _ in rules.values()),
                  failed=sum(f for _, f in rules.values()))
        )  # fmt: skip
    if out:
        weight = {s.dimension: weights.get(Dimension(s.dimension), 1.0) for s in out}
        total = sum(weight.values()) or 1.0
        out.append(
            Score(table=table, column=column, source=source, day=day, dimension=OVERALL,
                  score=sum(s.score * weight[s.dimension] for s in out) / total,
                  rules=sum(s.rules for s in out), checked=sum(s.checked for s in out),
                  failed=sum(s.failed for s in out))
        )  # fmt: skip
    return out


def breakdown_of(column: str, source: str, day: date | None) -> str:
    """Which scope a score row belongs to: ``table``, ``column``, ``source`` or ``day``."""
    if day is not None:
        return "day"
    if column:
        return "column"
    return "source" if source else "table"

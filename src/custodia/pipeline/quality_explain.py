"""``quality explain METRIC``: from a metric that moved to the source files and load runs behind it.

METRIC is a metric of ``HOME/quality/metrics.yaml`` (:mod:`custodia.quality.metrics`) or a
volume rule of the rule file. The metric is measured on the workspace's engine per period,
segment and drill group (one query); :mod:`custodia.quality.root_cause` finds the segment and
the period where it moved against its own history and splits the move by drill group; for the
groups that explain it, :mod:`custodia.pipeline.source_trace` follows lineage to the group's
last rows, files and load runs. The answer is a chain, each step with its figures:

    metric -> segment (and since when) -> table -> source -> group -> files and runs

Example::

    explanation = explain_metric(ws, "repurchase_rate_by_region")
    [step.text for step in explanation.chain]
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from custodia.core.errors import NotFoundError
from custodia.pipeline.quality_metrics_file import metrics_in_force
from custodia.pipeline.quality_rules_file import rules_in_force
from custodia.pipeline.source_trace import GroupTrace, trace_group
from custodia.quality.metric_sql import first_day_needed, latest_day_sql, metric_sql
from custodia.quality.metrics import MetricSpec, metric_from_rule
from custodia.quality.root_cause import (
    Cell,
    Contribution,
    SegmentChange,
    cells_from_rows,
    decompose,
    find_changes,
)
from custodia.storage.engine import QueryEngine
from custodia.workspace import Workspace

__all__ = ["ChainStep", "Explanation", "explain_metric", "explainable_names"]

MAX_SEGMENTS = 5
MAX_TRACES = 2


class ChainStep(BaseModel):
    """One link of the explanation: what it is, its name and a sentence with the figures."""

    level: str
    """metric | segment | table | source | group | files"""
    name: str
    text: str


class Explanation(BaseModel):
    metric: str
    origin: str
    """``metrics.yaml`` or ``rule`` (a volume rule)."""
    description: str
    table: str
    grain: str
    latest_day: date | None
    change: SegmentChange | None
    """The segment and periods where the metric moved (the most unlikely change)."""
    other_changes: list[SegmentChange] = []
    contributions: list[Contribution] = []
    traces: list[GroupTrace] = []
    chain: list[ChainStep] = []
    sql: str = ""


def explainable_names(ws: Workspace) -> dict[str, str]:
    """Every METRIC explain accepts, with its description."""
    names = {m.name: m.description for m in metrics_in_force(ws).metrics}
    for rule in rules_in_force(ws).ruleset.rules:
        if rule.check == "volume":
            names.setdefault(rule.name, rule.description or "volume rule")
    return names


def explain_metric(ws: Workspace, name: str) -> Explanation:
    """Explain the latest change of metric (or volume rule) ``name``."""
    metric, origin = _resolve(ws, name)
    engine = ws.query_engine()
    latest = _latest_day(engine, metric)
    base = Explanation(metric=metric.name, origin=origin, description=metric.description,
                       table=metric.table, grain=metric.grain, latest_day=latest,
                       change=None)  # fmt: skip
    if latest is None:
        step = _metric_step(metric, None, why="no rows to measure yet")
        return base.model_copy(update={"chain": [step]})
    sql = metric_sql(metric, since=first_day_needed(metric, latest))
    cells = cells_from_rows(metric, engine.query(sql).to_pylist())
    changes = find_changes(metric, cells, latest_day=latest)
    if not changes:
        return base.model_copy(update={"sql": sql, "chain": [_metric_step(metric, None)]})
    return _explained(ws, engine, metric, base, cells, changes, sql)


def _explained(
    ws: Workspace,
    engine: QueryEngine,
    metric: MetricSpec,
    base: Explanation,
    cells: list[Cell],
    changes: list[SegmentChange],
    sql: str,
) -> Explanation:
    change = changes[0]
    parts = decompose(metric, cells, change)
    traces = [
        trace_group(ws, engine, metric.table, source, filters)
        for source, filters in _traced_groups(metric, change, parts)
    ]
    chain = [_metric_step(metric, change), _segment_step(metric, change)]
    chain += _group_steps(metric, parts, traces)
    return base.model_copy(update={
        "change": change, "other_changes": changes[1:MAX_SEGMENTS], "contributions": parts,
        "traces": traces, "chain": chain, "sql": sql,
    })  # fmt: skip


def _resolve(ws: Workspace, name: str) -> tuple[MetricSpec, str]:
    metrics = metrics_in_force(ws)
    try:
        return metrics.metric(name), "metrics.yaml"
    except KeyError:
        pass
    ruleset = rules_in_force(ws).ruleset
    try:
        return metric_from_rule(ruleset.rule(name)), "rule"
    except KeyError:
        known = ", ".join(sorted(explainable_names(ws)))
        raise NotFoundError(f"no metric or volume rule {name}; known: {known}") from None


def _latest_day(engine: QueryEngine, metric: MetricSpec) -> date | None:
    """Where the data ends: the table's own time column for a ``rows_sql`` metric (whose
    periods are already period starts), else the metric's time column."""
    probe = metric
    if metric.rows_sql:
        probe = metric.model_copy(update={"rows_sql": None, "where": None, "time_column": None})
    rows = engine.query(latest_day_sql(probe)).to_pylist()
    day = rows[0]["day"] if rows else None
    return day if isinstance(day, date) else None


def _traced_groups(
    metric: MetricSpec, change: SegmentChange, parts: list[Contribution]
) -> list[tuple[str, dict[str, str]]]:
    """(source, column filters) of the groups worth tracing: those whose own change is
    significant, at least the first one, at most MAX_TRACES."""
    out: list[tuple[str, dict[str, str]]] = []
    for part in parts:
        labels = {**change.segment, **part.group}
        source = labels.pop("source", None)
        if source is None or source == "(none)":
            continue
        if out and part.p_value > metric.max_p_value:
            break
        out.append((source, labels))
        if len(out) == MAX_TRACES:
            break
    return out


# -- the chain, in words ---------------------------------------------------------------------


def _metric_step(
    metric: MetricSpec,
    change: SegmentChange | None,
    *,
    why: str = "no change against its history in the judged periods",
) -> ChainStep:
    what = f"{metric.value} / {metric.denominator}" if metric.is_rate else metric.value
    text = f"{metric.description or metric.name}: {what} per {metric.grain}"
    if metric.dimensions:
        text += f" by {', '.join(metric.dimensions)}"
    if change is None:
        text += f"; {why}"
    return ChainStep(level="metric", name=metric.name, text=text)


def _segment_step(metric: MetricSpec, change: SegmentChange) -> ChainStep:
    name = ", ".join(f"{k}={v}" for k, v in change.segment.items()) or "all rows"
    verdict = "a significant" if change.significant else "the largest, not significant,"
    text = (
        f"{name}: {verdict} {_pct(change.change)} change since {_period(metric, change.since)} "
        f"({change.periods} {metric.grain}s to {_period(metric, change.until)}): "
        f"{_figure(metric, change.observed)} against an expected "
        f"{_figure(metric, change.expected)} (p={change.p_value:.2g})"
    )
    return ChainStep(level="segment", name=name, text=text)


def _group_steps(
    metric: MetricSpec, parts: list[Contribution], traces: list[GroupTrace]
) -> list[ChainStep]:
    steps = [
        ChainStep(
            level="table",
            name=metric.table,
            text=f"rows of {metric.table} split by {', '.join(metric.drill)}",
        )
    ]
    for part in parts[:3]:
        name = ", ".join(f"{k}={v}" for k, v in part.group.items())
        stopped = " - no rows at all since then" if part.stopped else ""
        last = f"; last rows in {_period(metric, part.last_period)}" if part.last_period else ""
        share = f", {part.share:.0%} of the change" if part.share is not None else ""
        steps.append(ChainStep(level="group", name=name, text=(
            f"{name}: {part.observed:,.0f} where {part.expected:,.0f} were expected"
            f"{stopped}{last} (restoring it moves the metric by "
            f"{_change(metric, part.effect)}{share}, p={part.p_value:.2g})"
        )))  # fmt: skip
    for trace in traces:
        steps.append(ChainStep(level="source", name=trace.source, text=trace.note))
        for item in trace.files[:1]:
            steps.append(ChainStep(level="files", name=item.file, text=(
                f"{item.file}: {item.rows} rows, {_day(item.first_at)}..{_day(item.last_at)}, "
                f"loaded by run {item.run_id}"
            )))  # fmt: skip
    return steps


def _pct(value: float) -> str:
    return f"{value:+.0%}"


def _figure(metric: MetricSpec, value: float) -> str:
    return f"{value:.1%}" if metric.is_rate else f"{value:,.0f}"


def _change(metric: MetricSpec, value: float) -> str:
    return f"{value * 100:+.1f} points" if metric.is_rate else f"{value:+,.0f}"


def _period(metric: MetricSpec, day: date | None) -> str:
    if day is None:
        return "-"
    return day.strftime("%Y-%m") if metric.grain == "month" else day.isoformat()


def _day(value: object) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else "-"

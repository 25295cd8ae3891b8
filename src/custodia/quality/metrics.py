"""Business metrics that ``quality explain`` can drill into: named, engine-neutral SQL measures
with a time grain, the segments they are watched in and the columns a change is decomposed by.

A metric file (``HOME/quality/metrics.yaml``) lists metrics. Each counts rows of a canonical
``table`` (or of ``rows_sql``, a query over the canonical tables, for measures such as a
repurchase rate that need more than one table), per ``grain`` period of ``time_column``:

=============  ===================================================================
field          meaning
=============  ===================================================================
value          aggregate SQL over the rows, e.g. ``count(*)``, ``sum(total_amount)``
denominator    aggregate SQL; when given the metric is the rate ``value / denominator``
dimensions     the segments watched (``store_id``, ``channel``, ``region``): a drop is
               found per segment, against the segment's own history
drill          the columns a drop is decomposed by (``source``, ``store_id``): which group
               of rows is missing. ``source`` leads to the source's files and load runs
direction      ``down`` (default), ``up`` or ``both``: which changes count
lookback       periods before a change whose median is the expected level
window         the latest periods in which a change may start
=============  ===================================================================

``value`` and ``denominator`` must add up over drill groups (counts and sums do; a distinct
count does not), since a segment's figure is the sum of its groups'.

A volume rule is also a metric (:func:`metric_from_rule`): rows per period, per ``by`` group.

Example::

    metrics = parse_metrics(Path("metrics.yaml").read_text("utf-8"), origin="metrics.yaml")
    metrics.metric("pos_orders_per_store").dimensions     # ('store_id',)
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pydantic
import sqlglot
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlglot import exp

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import table_spec
from custodia.core.yaml_document import item_error, item_lines, load_yaml_mapping

__all__ = ["MetricSet", "MetricSpec", "metric_from_rule", "parse_metrics"]

Grain = Literal["day", "week", "month"]
_NAME = r"^[a-z][a-z0-9_]{0,79}$"
_COLUMN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


class MetricSpec(BaseModel):
    """One metric (see the module docstring for each field)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    description: str = ""
    table: str
    """The canonical table the metric's rows come from: its lineage is what explain follows."""
    rows_sql: str | None = None
    """A read-only query giving the rows to measure instead of ``table`` (same column rules)."""
    where: str | None = None
    time_column: str | None = None
    """Column whose period a row counts in (default: the table's time column)."""
    grain: Grain = "month"
    value: str = "count(*)"
    denominator: str | None = None
    dimensions: tuple[str, ...] = Field(default=(), max_length=4)
    drill: tuple[str, ...] = Field(default=("source",), max_length=4)
    direction: Literal["down", "up", "both"] = "down"
    lookback: int = Field(default=6, ge=3, le=366)
    window: int = Field(default=6, ge=1, le=366)
    min_change: float = Field(default=0.2, gt=0, le=10)
    """Smallest relative change (0.2 = 20%) from the expected level that counts."""
    max_p_value: float = Field(default=0.01, gt=0, le=1)
    """A change counts only if it is also this unlikely under the segment's history."""
    line: int | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _columns_named(self) -> MetricSpec:
        for column in (*self.dimensions, *self.drill, self.time_column or "t"):
            if re.fullmatch(_COLUMN, column) is None:
                raise ValueError(f"'{column}' is not a plain column name")
        overlap = set(self.dimensions) & set(self.drill)
        if overlap:
            raise ValueError(f"{', '.join(sorted(overlap))} is both a dimension and a drill")
        return self

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None

    @property
    def counts_rows(self) -> bool:
        """``value`` (and ``denominator``) count rows, so their changes follow counting laws."""
        return all(_is_count(sql) for sql in (self.value, self.denominator) if sql is not None)

    @property
    def resolved_time_column(self) -> str:
        if self.time_column:
            return self.time_column
        time_column = table_spec(self.table).time_column
        if time_column is None:
            raise ValidationError("time_column", "given", f"metric {self.name}: name a time_column")
        return time_column


class MetricSet(BaseModel):
    """A whole metric file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    metrics: tuple[MetricSpec, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> MetricSet:
        names = [m.name for m in self.metrics]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"metric name {twice[0]} is used twice")
        return self

    def metric(self, name: str) -> MetricSpec:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)


def metric_from_rule(rule: Any) -> MetricSpec:
    """A volume rule as a metric: its rows per period, per ``by`` group, decomposed by source."""
    if rule.check != "volume":
        raise ValidationError(
            "metric", "volume_rule", f"rule {rule.name} is a {rule.check} rule; explain follows "
            "volume rules and metrics (see `custodia quality explain --list`)",
        )  # fmt: skip
    return MetricSpec(
        name=rule.name, description=rule.description or f"rows of {rule.table} per {rule.period}",
        table=rule.table, where=rule.where, time_column=rule.column, grain=rule.period,
        dimensions=rule.by, drill=("source",),
        direction="both" if rule.max_ratio is not None else "down",
        lookback=rule.lookback, window=rule.window, min_change=1 - rule.min_ratio,
        max_p_value=rule.max_p_value,
    )  # fmt: skip


def parse_metrics(text: str, *, origin: str = "metrics.yaml") -> MetricSet:
    """Validate metric-file text; the first problem raises a ValidationError naming the line
    and the metric."""
    document, node = load_yaml_mapping(text, origin=origin, field="metrics")
    lines = item_lines(node, "metrics")
    try:
        metrics = MetricSet.model_validate(document)
    except pydantic.ValidationError as exc:
        raise item_error(
            exc, document, {"metrics": lines}, origin=origin, fallback="metrics"
        ) from None
    located = tuple(
        m.model_copy(update={"line": line}) for m, line in zip(metrics.metrics, lines, strict=False)
    )
    for metric in located:
        _check_against_model(metric, f"{origin}{_at(metric.line)}, metric {metric.name}")
    return metrics.model_copy(update={"metrics": located})


def _at(line: int | None) -> str:
    return f" line {line}" if line else ""


def _check_against_model(metric: MetricSpec, where: str) -> None:
    try:
        spec = table_spec(metric.table)
    except TableNotFoundError as exc:
        raise ValidationError("table", "known_table", f"{where}: {exc}") from None
    for field, sql in (("value", metric.value), ("denominator", metric.denominator)):
        if sql is not None:
            _parse(sql, field, where, query=False)
    if metric.where:
        _parse(metric.where, "where", where, query=False)
    if metric.rows_sql is not None:
        known = _output_columns(_parse(metric.rows_sql, "rows_sql", where, query=True))
    else:
        known = set(spec.column_names)
        if metric.time_column is None and spec.time_column is None:
            raise ValidationError("time_column", "given", f"{where}: name a time_column")
    wanted = (*metric.dimensions, *metric.drill, metric.time_column or spec.time_column or "")
    for column in wanted:
        if known and column not in known:
            raise ValidationError(
                "column", "known_column", f"{where}: '{column}' is not a column of its rows"
            )


def _parse(sql: str, field: str, where: str, *, query: bool) -> exp.Expr:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        raise ValidationError(field, "sql", f"{where}: {field} is not valid SQL") from None
    if query != isinstance(tree, exp.Query):
        wanted = "a SELECT query" if query else "an expression, not a query"
        raise ValidationError(field, "sql", f"{where}: {field} must be {wanted}")
    return tree


def _is_count(sql: str) -> bool:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return False
    if isinstance(tree, exp.Filter):
        tree = tree.this
    return isinstance(tree, exp.Count)


def _output_columns(tree: exp.Expr) -> set[str]:
    """Names the query's outer SELECT gives its columns (empty when it selects ``*``)."""
    selects = list(tree.selects) if isinstance(tree, exp.Query) else []
    if any(isinstance(s, exp.Star) or isinstance(s.this, exp.Star) for s in selects):
        return set()
    return {s.alias_or_name for s in selects}

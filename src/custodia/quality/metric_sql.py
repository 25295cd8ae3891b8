"""A metric compiled to one query: its numerator (and denominator) per period, segment and drill
group, which is all :mod:`custodia.quality.root_cause` needs.

Written in DuckDB's SQL and transpiled by sqlglot for Spark
(:func:`custodia.quality.rule_sql.in_dialect`), like the quality rules. Output columns:
``period`` (DATE), ``dim_<i>`` and ``drill_<i>`` (text), ``num``, ``den`` (NULL for counts).

Example::

    sql = metric_sql(metric, since=date(2025, 11, 1))
    latest = latest_day_sql(metric)      # SELECT max(day) ... : where the data ends
"""

from __future__ import annotations

from datetime import date

from custodia.core.sql_text import quote_ident
from custodia.quality.metrics import MetricSpec
from custodia.quality.periods import period_start, shift

__all__ = ["first_day_needed", "latest_day_sql", "metric_sql"]


def metric_sql(metric: MetricSpec, *, since: date | None = None) -> str:
    """The metric per period, segment and drill group (see the module docstring)."""
    time = quote_ident(metric.resolved_time_column)
    bucket = (
        f"CAST({time} AS DATE)" if metric.grain == "day"
        else f"CAST(date_trunc('{metric.grain}', {time}) AS DATE)"
    )  # fmt: skip
    labels = [f"CAST({quote_ident(c)} AS VARCHAR) AS dim_{i}" for i, c in
              enumerate(metric.dimensions)]  # fmt: skip
    labels += [f"CAST({quote_ident(c)} AS VARCHAR) AS drill_{i}" for i, c in
               enumerate(metric.drill)]  # fmt: skip
    den = f"({metric.denominator})" if metric.denominator else "CAST(NULL AS DOUBLE)"
    columns = ",\n  ".join([f"{bucket} AS period", *labels, f"({metric.value}) AS num",
                            f"{den} AS den"])  # fmt: skip
    groups = ", ".join(str(n) for n in range(1, 2 + len(labels)))
    return (
        f"SELECT {columns}\nFROM {_rows(metric)}\nWHERE {_conditions(metric, time, since)}\n"
        f"GROUP BY {groups}"
    )


def latest_day_sql(metric: MetricSpec) -> str:
    """The last day the metric's rows reach (``day``)."""
    time = quote_ident(metric.resolved_time_column)
    return (
        f"SELECT max(CAST({time} AS DATE)) AS day\nFROM {_rows(metric)}\n"
        f"WHERE {_conditions(metric, time, None)}"
    )


def first_day_needed(metric: MetricSpec, latest: date) -> date:
    """The first day the judged window and its lookback need."""
    last = period_start(latest, metric.grain)
    return shift(last, metric.grain, -(metric.lookback + metric.window))


def _rows(metric: MetricSpec) -> str:
    if metric.rows_sql:
        return f"(\n{metric.rows_sql.strip().rstrip(';')}\n) AS m"
    return f"{quote_ident(metric.table)} AS m"


def _conditions(metric: MetricSpec, time: str, since: date | None) -> str:
    parts = [f"{time} IS NOT NULL"]
    if metric.where:
        parts.append(f"({metric.where})")
    if since is not None:
        parts.append(f"{time} >= DATE '{since.isoformat()}'")
    return " AND ".join(parts)

"""Metric files: the shipped metrics read cleanly, every kind of mistake names the line and the
metric, volume rules become metrics, and metrics compile to SQL that runs on DuckDB (snapshots in
DuckDB's and Spark's dialects; regenerate with ``CUSTODIA_UPDATE_SNAPSHOTS=1``)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
import sqlglot

from custodia.core.errors import ValidationError
from custodia.pipeline.quality_metrics_file import shipped_metrics_text
from custodia.quality.metric_sql import first_day_needed, latest_day_sql, metric_sql
from custodia.quality.metrics import MetricSpec, metric_from_rule, parse_metrics
from custodia.quality.models import RuleSet
from custodia.quality.root_cause import cells_from_rows
from custodia.quality.rule_sql import in_dialect

from .test_rule_sql import _snapshot


def test_shipped_metrics_read() -> None:
    metrics = parse_metrics(shipped_metrics_text())
    names = [m.name for m in metrics.metrics]
    assert names == ["pos_orders_per_store", "orders_per_channel", "revenue_per_channel",
                     "repurchase_rate_by_region"]  # fmt: skip
    rate = metrics.metric("repurchase_rate_by_region")
    assert rate.is_rate and rate.counts_rows and rate.line is not None
    assert not metrics.metric("revenue_per_channel").counts_rows


GOOD = """version: 1
metrics:
  - name: orders_per_store
    table: orders
    dimensions: [store_id]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + "    grain: year\n", "metrics.yaml line 3, metric orders_per_store: grain"),
        (GOOD.replace("store_id]", "shop_id]"), "line 3, metric orders_per_store: 'shop_id' is"),
        (GOOD.replace("table: orders", "table: ordres"), "line 3, metric orders_per_store:"),
        (GOOD + "    value: count(*\n", "metric orders_per_store: value is not valid SQL"),
        (GOOD + "    value: SELECT 1\n", "value must be an expression, not a query"),
        (GOOD + "    drill: [store_id]\n", "store_id is both a dimension and a drill"),
        (GOOD + GOOD.split("metrics:\n")[1], "metric name orders_per_store is used twice"),
        (GOOD + "    rows_sql: SELECT ordered_at FROM orders\n", "'store_id' is not a column"),
        (GOOD + "    lookback: two\n", "metric orders_per_store: lookback"),
        ("metrics: [\n", "metrics.yaml line"),
    ],
)
def test_mistakes_name_line_and_metric(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_metrics(text, origin="metrics.yaml")
    assert message in str(caught.value)


def test_a_volume_rule_is_a_metric() -> None:
    rules = RuleSet.model_validate({"rules": [
        {"name": "store_volume", "table": "orders", "check": "volume", "where": "channel = 'pos'",
         "by": ["store_id"], "period": "month", "lookback": 6, "window": 4, "min_ratio": 0.3},
        {"name": "status_values", "table": "orders", "column": "status",
         "check": "accepted_values", "values": ["completed"]},
    ]})  # fmt: skip
    metric = metric_from_rule(rules.rule("store_volume"))
    assert (metric.dimensions, metric.drill, metric.grain) == (("store_id",), ("source",), "month")
    assert metric.min_change == pytest.approx(0.7) and metric.counts_rows
    with pytest.raises(ValidationError, match="accepted_values rule"):
        metric_from_rule(rules.rule("status_values"))


def test_metric_sql_runs_on_duckdb() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE orders AS SELECT * FROM (VALUES "
        "('o1', 'pos', 'S1', TIMESTAMPTZ '2026-05-03 10:00:00+00', 10.0), "
        "('o2', 'pos', 'S1', TIMESTAMPTZ '2026-06-03 10:00:00+00', 20.0), "
        "('o3', 'pos', 'S2', TIMESTAMPTZ '2026-06-09 10:00:00+00', 30.0), "
        "('o4', 'online', NULL, TIMESTAMPTZ '2026-06-30 10:00:00+00', 40.0)"
        ") AS t(order_id, source, store_id, ordered_at, total_amount)"
    )
    metric = MetricSpec.model_validate({
        "name": "revenue", "table": "orders", "value": "sum(total_amount)",
        "denominator": "count(*)", "where": "source = 'pos'", "dimensions": ["store_id"],
    })  # fmt: skip
    latest = con.execute(latest_day_sql(metric)).fetchone()
    assert latest == (date(2026, 6, 9),)
    since = first_day_needed(metric, date(2026, 6, 9))
    assert since == date(2025, 6, 1)
    cursor = con.execute(metric_sql(metric, since=date(2026, 6, 1)))
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    cells = sorted(cells_from_rows(metric, rows), key=lambda c: c.segment)
    assert [(c.period, c.segment, c.group, c.numerator, c.denominator) for c in cells] == [
        (date(2026, 6, 1), ("S1",), ("pos",), 20.0, 1.0),
        (date(2026, 6, 1), ("S2",), ("pos",), 30.0, 1.0),
    ]


def _metrics_sql(dialect: str) -> str:
    metrics = parse_metrics(shipped_metrics_text())
    since = date(2025, 10, 1)
    return (
        "\n\n".join(
            f"-- {m.name}\n{in_dialect(metric_sql(m, since=since), dialect)};"
            for m in metrics.metrics
        )
        + "\n"
    )


def test_shipped_metrics_sql_snapshots_in_duckdb_and_spark() -> None:
    _snapshot("shipped_metrics.duckdb.sql", _metrics_sql("duckdb"))
    spark = _metrics_sql("spark")
    _snapshot("shipped_metrics.spark.sql", spark)
    for statement in spark.split(";\n")[:-1]:
        sqlglot.parse_one(statement, read="spark")  # valid Spark SQL as sqlglot reads it

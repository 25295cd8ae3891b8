"""Quality scores folded per table and column, and the table's classification summary."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from custodia.catalog.build import classify
from custodia.catalog.quality_view import QualitySnapshot, summarize_scores
from custodia.cli.catalog_cmd import age
from custodia.core.tables import table_spec


def _row(table: str, dimension: str, score: float, **scope: Any) -> dict[str, Any]:
    failed = round(10 * (1 - score))
    return {"table_name": table, "column_name": scope.get("column", ""),
            "source": scope.get("source", ""), "day": scope.get("day"), "dimension": dimension,
            "score": score, "rules": 1, "checked": 10, "failed": failed}  # fmt: skip


def test_table_and_column_scopes_keep_dimensions_and_overall() -> None:
    rows = [
        _row("orders", "validity", 0.8),
        _row("orders", "overall", 0.85) | {"rules": 2, "checked": 20, "failed": 3},
        _row("orders", "completeness", 0.9),
        _row("orders", "validity", 0.5, column="status"),
        _row("orders", "overall", 0.5, column="status"),
        _row("orders", "validity", 0.1, source="shop"),  # another breakdown: left out
        _row("orders", "validity", 0.2, day=date(2026, 11, 1)),  # likewise
    ]
    scopes = summarize_scores(rows)
    assert set(scopes) == {("orders", ""), ("orders", "status")}
    table = scopes[("orders", "")]
    assert table.overall == 0.85
    assert table.dimensions == {"validity": 0.8, "completeness": 0.9}
    assert (table.rules, table.checked, table.failed) == (2, 20, 3)
    assert scopes[("orders", "status")].dimensions == {"validity": 0.5}


def test_a_table_without_scores_but_with_open_alerts_still_shows_them() -> None:
    snapshot = QualitySnapshot(
        run_id="run_1",
        scopes=summarize_scores([_row("orders", "overall", 0.9)]),
        open_alerts={"orders": 2, "customer_records": 1},
    )
    orders = snapshot.table("orders")
    assert orders is not None and orders.open_alerts == 2 and orders.run_id == "run_1"
    records = snapshot.table("customer_records")
    assert records is not None and records.overall is None and records.open_alerts == 1
    assert snapshot.table("events") is None
    everything = snapshot.table("*")
    assert everything is not None and everything.open_alerts == 3


def test_classification_names_the_highest_tier_and_the_personal_columns() -> None:
    records = classify(table_spec("customer_records"))
    assert records.tier == "L3" and "高度敏感" in records.tier_label
    assert {"phone", "resident_id", "email"} <= set(records.personal_columns)
    assert sum(records.tiers.values()) == len(table_spec("customer_records").columns)
    audit = classify(table_spec("audit_log"))
    assert audit.tier == "L1" and audit.personal == (audit.personal_columns != [])


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (5, "5s"), (59.9, "59s"), (60, "1m"), (7_200, "2h"), (90_000, "1d")],
)
def test_ages_are_shown_in_their_largest_unit(seconds: float | None, shown: str) -> None:
    assert age(seconds) == shown

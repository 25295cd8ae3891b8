"""The generated SQL of funnels (each mode), paths and heatmaps, on DuckDB and as Spark receives
it, kept as ``snapshots/*.sql`` so a change shows up as a diff. Regenerate after an intended
change with ``CUSTODIA_UPDATE_SNAPSHOTS=1``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlglot

from custodia.analytics.funnels import FunnelParams, funnel_sql
from custodia.analytics.heatmaps import HeatmapParams, element_sql, hour_sql
from custodia.analytics.paths import PathParams, paths_sql
from custodia.quality.rule_sql import in_dialect

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _queries() -> dict[str, str]:
    steps = ["Product Viewed[category=连衣裙]", "Product Added", "Order Completed"]
    out = {
        f"funnel_{mode}": funnel_sql(
            FunnelParams(
                steps=steps,
                mode=mode,
                exclude=["Signed Up"],
                by="category",
                **{"from": "2026-05-01", "to": "2026-10-31"},
            ),
            linked=True,
        )
        for mode in ("sequential", "strict", "any")
    }
    out["paths_end"] = paths_sql(
        PathParams(end_event="Order Completed", steps=3, clean=["^Product Detail$=Product"]),
        linked=True,
    )
    heat = HeatmapParams(page="/p/*")
    out["heatmap"] = element_sql(heat, linked=True) + ";\n" + hour_sql(heat, linked=True)
    return out


@pytest.mark.parametrize("dialect", ["duckdb", "spark"])
def test_generated_sql_matches_its_snapshot(dialect: str) -> None:
    for name, sql in _queries().items():
        text = ";\n".join(in_dialect(part, dialect) for part in sql.split(";\n")) + ";\n"
        for part in text.split(";\n")[:-1]:
            sqlglot.parse_one(part, read=dialect)  # well-formed in the target dialect
        path = SNAPSHOTS / f"{name}.{dialect}.sql"
        if os.environ.get("CUSTODIA_UPDATE_SNAPSHOTS") == "1" or not path.exists():
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} changed; review and rerun with CUSTODIA_UPDATE_SNAPSHOTS=1"
        )

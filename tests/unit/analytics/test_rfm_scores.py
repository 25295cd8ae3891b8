"""RFM SQL on a hand-made window where every measure, score and tier is known by hand."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from custodia.analytics.rfm import RfmParams, rfm_results, rfm_scores_sql
from custodia.analytics.rfm_tiers import parse_tiers, shipped_tiers_text
from custodia.quality.rule_sql import in_dialect
from custodia.storage.transform import run_transform

from .profile_key_tables import profile_keys_table

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"

# (ref_type, ref, day, amount, status)
ORDERS = [
    ("member_id", "M1", "2026-10-31 23:59", "100", "completed"),
    ("phone", "139-0000-0001", "2026-10-01 08:00", "200", "completed"),  # p1 by phone
    ("member_id", "M2", "2026-10-31 00:00", "50", "shipped"),
    ("member_id", "M3", "2026-06-01 12:00", "1000", "completed"),
    ("member_id", "M3", "2026-05-01 12:00", "1000", "completed"),
    ("member_id", "M3", "2026-04-01 12:00", "1000", "COMPLETED"),
    ("member_id", "M4", "2025-11-01 00:00", "10", "completed"),  # first day of the window
    ("member_id", "M5", "2025-10-31 23:59", "999", "completed"),  # one day before it
    ("member_id", "M6", "2026-09-01 10:00", "300", "Cancelled"),  # left out
    ("member_id", "M6", "2026-08-01 10:00", "300", "completed"),
    ("member_id", "M7", "2026-10-15 10:00", "70", None),  # no status: counted
    ("member_id", "M8", "2026-11-01 00:00", "500", "completed"),  # after as_of
    ("member_id", "UNLINKED", "2026-10-20 10:00", "80", "completed"),
    (None, None, "2026-10-20 10:00", "80", "completed"),
]
KEYS = [
    ("member_id", "M1", "p1"), ("phone", "139-0000-0001", "p1"), ("member_id", "M2", "p2"),
    ("member_id", "M3", "p3"), ("member_id", "M4", "p4"), ("member_id", "M5", "p5"),
    ("member_id", "M6", "p6"), ("member_id", "M7", "p7"), ("member_id", "M8", "p8"),
]  # fmt: skip


def relations() -> dict[str, pa.Table]:
    orders = pa.table(
        {
            "customer_ref_type": [o[0] for o in ORDERS],
            "customer_ref": [o[1] for o in ORDERS],
            "ordered_at": pa.array(
                [datetime.fromisoformat(o[2]).replace(tzinfo=UTC) for o in ORDERS],
                pa.timestamp("us", tz="UTC"),
            ),
            "total_amount": pa.array([Decimal(o[3]) for o in ORDERS], pa.decimal128(14, 2)),
            "status": [o[4] for o in ORDERS],
        }
    )
    return {"orders": orders, "profile_keys": profile_keys_table(KEYS)}


def params(**extra: object) -> RfmParams:
    tiers = parse_tiers(shipped_tiers_text())
    return RfmParams.model_validate(extra).resolved(date(2026, 10, 31), tiers)


def scores(p: RfmParams) -> pa.Table:
    return run_transform(rfm_scores_sql(p), relations=relations())


def test_measures_scores_and_tiers_known_by_hand() -> None:
    p = params()
    per_profile, per_tier, summary = rfm_results(scores(p), p.tiers)  # type: ignore[arg-type]
    got = {
        r["profile_id"]: (
            r["recency_days"],
            r["frequency"],
            r["monetary"],
            r["rfm_cell"],
            r["tier"],
        )
        for r in per_profile.to_pylist()
    }
    assert got == {
        "p1": (0, 2, Decimal("300.00"), "443", "活跃客户"),
        "p2": (0, 1, Decimal("50.00"), "411", "新客户"),
        "p3": (152, 3, Decimal("3000.00"), "155", "沉睡潜力客户"),
        "p4": (364, 1, Decimal("10.00"), "111", "已流失"),
        "p6": (91, 1, Decimal("300.00"), "213", "已流失"),
        "p7": (16, 1, Decimal("70.00"), "312", "一般维持客户"),
    }
    tiers = {r["tier"]: r for r in per_tier.to_pylist()}
    assert per_tier.column("tier")[0].as_py() == "高价值复购客户"
    assert tiers["已流失"]["profiles"] == 2 and tiers["已流失"]["share"] == pytest.approx(
        1 / 3, abs=1e-6
    )
    assert tiers["已流失"]["monetary"] == Decimal("310.00")
    assert (
        tiers["高价值复购客户"]["profiles"] == 0 and tiers["高价值复购客户"]["avg_monetary"] is None
    )
    assert summary["profiles"] == 6 and summary["orders"] == 9 and summary["monetary"] == 3730.0


def test_equal_values_get_equal_scores_whatever_the_row_order() -> None:
    p = params()
    rows = scores(p).to_pylist()
    by_id = {r["profile_id"]: r for r in rows}
    assert by_id["p1"]["r_score"] == by_id["p2"]["r_score"] == 4  # both bought on as_of
    assert by_id["p1"]["m_score"] == by_id["p6"]["m_score"] == 3  # both spent 300
    assert {by_id[p]["f_score"] for p in ("p2", "p4", "p6", "p7")} == {1}  # single orders
    shuffled = {k: v.take(list(range(v.num_rows))[::-1]) for k, v in relations().items()}
    again = run_transform(rfm_scores_sql(p), relations=shuffled).to_pylist()
    assert again == rows


def test_window_and_statuses_are_parameters() -> None:
    short = {r["profile_id"] for r in scores(params(window_days=31)).to_pylist()}
    assert short == {"p1", "p2", "p7"}  # 2026-10-01 .. 2026-10-31
    kept = scores(params(exclude_statuses=[])).to_pylist()
    assert {r["profile_id"]: r["frequency"] for r in kept}["p6"] == 2


def test_an_empty_window_gives_empty_well_formed_tables() -> None:
    p = params(as_of="2020-01-01")
    per_profile, per_tier, summary = rfm_results(scores(p), p.tiers)  # type: ignore[arg-type]
    assert per_profile.num_rows == 0 and "tier" in per_profile.column_names
    assert per_tier.num_rows == 7 and set(per_tier.column("profiles").to_pylist()) == {0}
    assert summary["profiles"] == 0 and summary["monetary"] == 0.0


def test_the_sql_snapshots_in_duckdb_and_spark() -> None:
    """Regenerate after an intended change with ``CUSTODIA_UPDATE_SNAPSHOTS=1``."""
    sql = rfm_scores_sql(params())
    for dialect, text in (("duckdb", sql), ("spark", in_dialect(sql, "spark"))):
        path = SNAPSHOTS / f"rfm_scores.{dialect}.sql"
        if os.environ.get("CUSTODIA_UPDATE_SNAPSHOTS") == "1" or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == text, f"{path.name} changed"


@pytest.mark.parametrize(
    ("field", "value"),
    [("window_days", 0), ("as_of", "2026-02-30"), ("exclude_statuses", ["x'); drop"])],
)
def test_bad_parameters_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        RfmParams.model_validate({field: value})

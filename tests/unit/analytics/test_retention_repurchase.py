"""Cohort retention and repurchase gaps on tiny hand-made tables whose answers are known by hand.

The SQL runs on DuckDB over Arrow tables named like the canonical ones; every builder's SQL must
also transpile to Spark SQL (the Spark run itself is in tests/integration).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from pydantic import ValidationError

from custodia.analytics.repurchase import (
    RepurchaseParams,
    gap_distribution_sql,
    gap_rows,
    interest_rows,
    interest_sql,
    largest_drops,
    windows,
)
from custodia.analytics.retention import RetentionParams, retention_rows, retention_sql
from custodia.quality.rule_sql import in_dialect

from .profile_key_tables import profile_keys_table


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


def orders(rows: list[tuple[str, str, str]], status: str = "completed") -> pa.Table:
    """(order_id, member id, day) -> orders referencing members by member_id."""
    return pa.table({
        "order_id": [r[0] for r in rows],
        "customer_ref_type": ["member_id"] * len(rows),
        "customer_ref": [r[1] for r in rows],
        "ordered_at": [at(r[2]) for r in rows],
        "status": [status] * len(rows),
    })  # fmt: skip


def keys(members: dict[str, str]) -> pa.Table:
    return profile_keys_table(("member_id", ref, profile) for ref, profile in members.items())


def run(sql: str, **tables: pa.Table) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables.items():
        con.register(name, table)
    rows: list[dict[str, Any]] = con.sql(sql).to_arrow_table().to_pylist()
    return rows


# Three profiles. A joins in January and comes back in February and April; B joins in January
# and never comes back; C joins in February and comes back in March. The data ends in April.
RETENTION_ORDERS = orders([
    ("o1", "a", "2026-01-05"), ("o2", "a", "2026-02-10"), ("o3", "a", "2026-04-02"),
    ("o4", "b", "2026-01-20"), ("o5", "a", "2026-01-25"),
    ("o6", "c", "2026-02-01"), ("o7", "c", "2026-03-31"),
])  # fmt: skip
KEYS = keys({"a": "P-A", "b": "P-B", "c": "P-C", "d": "P-D"})


def retention(**params: Any) -> list[tuple[str, int, int, int]]:
    p = RetentionParams(period="month", **params)
    table, _summary = retention_rows(run(retention_sql(p), orders=RETENTION_ORDERS,
                                         profile_keys=KEYS), p)  # fmt: skip
    return [
        (r["cohort_start"].isoformat()[:7], r["period_offset"], r["cohort_size"], r["retained"])
        for r in table.to_pylist()
    ]


def test_first_cohorts_by_month() -> None:
    assert retention() == [
        ("2026-01", 0, 2, 2), ("2026-01", 1, 2, 1), ("2026-01", 2, 2, 0), ("2026-01", 3, 2, 1),
        ("2026-02", 0, 1, 1), ("2026-02", 1, 1, 1), ("2026-02", 2, 1, 0),
    ]  # fmt: skip


def test_cumulative_never_falls_and_counts_a_profile_once() -> None:
    assert retention(cumulative=True) == [
        ("2026-01", 0, 2, 2), ("2026-01", 1, 2, 1), ("2026-01", 2, 2, 1), ("2026-01", 3, 2, 1),
        ("2026-02", 0, 1, 1), ("2026-02", 1, 1, 1), ("2026-02", 2, 1, 1),
    ]  # fmt: skip


def test_recurring_cohorts_are_every_active_period() -> None:
    rows = retention(cohort="recurring", periods=1)
    assert rows == [
        ("2026-01", 0, 2, 2), ("2026-01", 1, 2, 1),
        ("2026-02", 0, 2, 2), ("2026-02", 1, 2, 1),  # a and c active; c again in March
        ("2026-03", 0, 1, 1), ("2026-03", 1, 1, 0),
        ("2026-04", 0, 1, 1),
    ]  # fmt: skip


def test_since_until_and_an_empty_window() -> None:
    assert [r[:2] for r in retention(since=date(2026, 2, 1))] == [
        ("2026-02", 0), ("2026-02", 1), ("2026-02", 2),
    ]  # fmt: skip
    assert retention(since=date(2030, 1, 1)) == []
    p = RetentionParams()
    table, summary = retention_rows([], p)
    assert table.num_rows == 0 and summary["cohorts"] == 0 and summary["average"] == []


def test_weekly_and_daily_offsets() -> None:
    p = RetentionParams(period="week", periods=2)
    table, summary = retention_rows(
        run(retention_sql(p), orders=RETENTION_ORDERS, profile_keys=KEYS), p
    )
    first = [r for r in table.to_pylist() if r["cohort_start"] == date(2026, 1, 5)]
    # Monday 5 January; a is back on Sunday 25 January, in the week of the 19th
    assert [(r["period_offset"], r["retained"]) for r in first] == [(0, 1), (1, 0), (2, 1)]
    assert summary["average"][0] == {
        "period_offset": 0, "cohorts": 3, "profiles": 3, "retention_rate": 1.0,
    }  # fmt: skip
    daily = RetentionParams(period="day", periods=1)
    rows = run(retention_sql(daily), orders=RETENTION_ORDERS, profile_keys=KEYS)
    assert {r["cohort_start"] for r in rows} == {date(2026, 1, 5), date(2026, 1, 20),
                                                date(2026, 2, 1)}  # fmt: skip


def test_cancelled_orders_and_events_by_name() -> None:
    cancelled = orders([("x1", "d", "2026-01-01")], status="cancelled")
    p = RetentionParams(period="month")
    both = pa.concat_tables([RETENTION_ORDERS, cancelled])
    assert run(retention_sql(p), orders=both, profile_keys=KEYS)[0]["profiles"] == 2
    events = pa.table({
        "event": ["课程试听", None, "课程试听"], "name": [None, "课程试听", None],
        "user_id": ["u1", "u1", None], "anonymous_id": [None, None, "an2"],
        "timestamp": [at("2026-01-02"), at("2026-02-03"), at("2026-01-09")],
    })  # fmt: skip
    ids = profile_keys_table([("user_id", "u1", "P1"), ("anonymous_id", "an2", "P2")])
    e = RetentionParams(period="month", event="课程试听")
    table, summary = retention_rows(run(retention_sql(e), events=events, profile_keys=ids), e)
    assert [(r["period_offset"], r["retained"]) for r in table.to_pylist()] == [(0, 2), (1, 1)]
    assert summary["activity"] == "课程试听"


def test_bad_retention_parameters_name_the_field() -> None:
    for values, field in (
        ({"period": "year"}, "period"), ({"periods": 0}, "periods"),
        ({"cohort": "all"}, "cohort"), ({"event": ""}, "event"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
    ):  # fmt: skip
        with pytest.raises(ValidationError) as err:
            RetentionParams.model_validate(values)
        assert err.value.errors()[0]["loc"] == (field,)


# Repurchase: P-A (diamond 钻石会员) buys every 30 days in 2025, then every 60 days in 2026;
# P-B (no tier) buys twice. Lines: P-A's 2025 orders hold a limited edition (Chinese name on
# one SKU, "[Limited ...]" in English on another, and a POS line with no name but a known SKU).
REPURCHASE_ORDERS = orders([
    ("a1", "a", "2025-01-01"), ("a2", "a", "2025-01-31"), ("a3", "a", "2025-03-02"),
    ("a3b", "a", "2025-03-02"),  # a second order on the same day is one purchase day
    ("a4", "a", "2026-01-01"), ("a5", "a", "2026-03-02"), ("a6", "a", "2026-05-01"),
    ("b1", "b", "2025-02-01"), ("b2", "b", "2026-02-01"),
])  # fmt: skip
PROFILES = pa.table({"profile_id": ["P-A", "P-B"], "member_level": ["钻石会员", None]})
LINES = pa.table({
    "order_id": ["a1", "a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2"],
    "sku": ["S-LIM", "S-DR", "S-EN", "S-LIM", "S-DR", "S-DR", "S-TS", "S-TS", None],
    "product_name": ["限量·真丝连衣裙", "连衣裙", "[Limited] Silk Scarf", None, "连衣裙",
                     "连衣裙", "T恤", "T恤", "【限量】腰带"],
    "category": ["连衣裙", "连衣裙", None, None, "连衣裙", "连衣裙", "T恤", "T恤", None],
})  # fmt: skip


def repurchase_tables() -> dict[str, pa.Table]:
    return {"orders": REPURCHASE_ORDERS, "profile_keys": KEYS, "profiles": PROFILES,
            "order_lines": LINES}  # fmt: skip


def test_spells_per_tier_and_the_month_they_start() -> None:
    # P-C (diamond too) buys on 2025-03-02 and 2025-12-05, then not again up to as_of: its
    # second spell is censored after 147 days
    extra = orders([("c1", "c", "2025-03-02"), ("c2", "c", "2025-12-05")])
    tables = repurchase_tables()
    tables["orders"] = pa.concat_tables([REPURCHASE_ORDERS, extra])
    tables["profiles"] = pa.table({"profile_id": ["P-A", "P-B", "P-C"],
                                   "member_level": ["钻石会员", None, "钻石会员"]})  # fmt: skip
    p = RepurchaseParams(recent_months=6, baseline="previous_year", horizon_days=100)
    w = windows(p, date(2026, 5, 1))
    assert w.as_dict() == {"baseline_start": "2024-12-01", "baseline_end": "2025-06-01",
                           "recent_start": "2025-12-01", "as_of": "2026-05-01"}  # fmt: skip
    table, summary = gap_rows(run(gap_distribution_sql(p, w), **tables), p)
    rows = {(r["group_value"], r["period_start"].isoformat()[:7]): r for r in table.to_pylist()}
    # a spell counts in the month it starts: P-A's 2025-03-02 -> 2026-01-01 is March 2025's
    assert rows[("钻石会员", "2025-01")]["mean_gap_days"] == 30
    march = rows[("钻石会员", "2025-03")]
    assert (march["repurchases"], march["customers"], march["mean_gap_days"]) == (2, 2, 291.5)
    assert rows[("钻石会员", "2026-01")]["mean_gap_days"] == 60
    december = rows[("钻石会员", "2025-12")]  # only P-C's open spell
    assert (december["spells"], december["censored_spells"], december["repurchases"]) == (1, 1, 0)
    assert december["mean_gap_days"] is None and december["km_median_gap_days"] is None
    assert december["km_restricted_mean_gap_days"] == 100.0  # followed 147 days, no repurchase
    # the purchase on as_of starts no spell; P-B's spell from 2026-02-01 is censored after 89
    assert ("钻石会员", "2026-05") not in rows
    assert rows[("(none)", "2026-02")]["censored_spells"] == 1
    assert rows[("(none)", "2026-02")]["km_restricted_mean_gap_days"] is None  # 89 < 100 days

    diamond = summary["钻石会员"]
    base, recent = diamond["baseline"], diamond["recent"]
    assert (base["spells"], base["censored_spells"]) == (4, 0)  # 30, 30, 278, 305
    assert base["mean_gap_days"] == pytest.approx(160.75)
    assert base["median_gap_days"] == base["km_median_gap_days"] == 154  # (30 + 278) / 2
    assert base["p75_gap_days"] == pytest.approx(284.75)
    assert base["km_restricted_mean_gap_days"] == 65  # 30 x 1 + 70 x 0.5
    assert (recent["spells"], recent["repurchases"], recent["censored_spells"]) == (3, 2, 1)
    assert recent["mean_gap_days"] == recent["km_median_gap_days"] == 60  # 60, 60, 147+
    assert recent["km_restricted_mean_gap_days"] == pytest.approx(73.33)  # 60 + 40 x 1/3
    assert diamond["gap_change_basis"] == "km_median"
    assert diamond["gap_change"] == pytest.approx(60 / 154, abs=1e-4)
    assert diamond["km_restricted_mean_change"] == pytest.approx(73.33 / 65, abs=1e-4)
    assert diamond["mean_gap_change"] == pytest.approx(60 / 160.75, abs=1e-4)


def test_the_change_falls_back_to_the_restricted_mean_then_the_plain_mean() -> None:
    # baseline (January-May 2025): P-A's spells of 30, 30, 30, 30 and 31 days. Recent (June,
    # as_of 2025-06-30): P-A back after 5 days, then open for 24 days; P-C open for 20 days
    days = ["2025-01-01", "2025-01-31", "2025-03-02", "2025-04-01", "2025-05-01", "2025-06-01"]
    p = RepurchaseParams(recent_months=1, baseline="preceding", baseline_months=5)
    tables = repurchase_tables()
    tables["profiles"] = pa.table({"profile_id": ["P-A", "P-C"],
                                   "member_level": ["钻石会员", "钻石会员"]})  # fmt: skip

    def diamond(horizon: int, comes_back: bool) -> dict[str, Any]:
        buys = [("c1", "c", "2025-06-10"), *((f"o{i}", "a", d) for i, d in enumerate(days))]
        tables["orders"] = orders(buys + ([("o9", "a", "2025-06-06")] if comes_back else []))
        params = p.model_copy(update={"horizon_days": horizon})
        w = windows(params, date(2025, 6, 30))
        _, summary = gap_rows(run(gap_distribution_sql(params, w), **tables), params)
        found: dict[str, Any] = summary["钻石会员"]
        return found

    short = diamond(10, comes_back=True)  # S = 2/3 after day 5: no median; known to day 24
    assert short["recent"]["km_median_gap_days"] is None
    assert short["recent"]["km_restricted_mean_gap_days"] == pytest.approx(5 + 5 * 2 / 3, 0.01)
    assert (short["gap_change_basis"], short["gap_change"]) == ("km_restricted_mean", 0.8333)
    long = diamond(60, comes_back=True)  # the recent spells are not followed for 60 days
    assert long["baseline"]["km_restricted_mean_gap_days"] == 30.2  # S reaches 0 on day 31
    assert long["recent"]["km_restricted_mean_gap_days"] is None
    assert (long["gap_change_basis"], long["gap_change"]) == ("mean", round(5 / 30.2, 4))
    none_back = diamond(60, comes_back=False)
    assert none_back["gap_change_basis"] is None and none_back["gap_change"] is None


def test_limited_editions_recognised_by_name_or_sku_and_the_largest_drop() -> None:
    p = RepurchaseParams(baseline="preceding", baseline_months=12)
    w = windows(p, date(2026, 5, 1))
    raw = run(interest_sql(p, w), **repurchase_tables())
    table = interest_rows(raw)
    limited = {
        (r["group_value"], r["period_start"].isoformat()[:7]): r["lines"]
        for r in table.to_pylist()
        if r["interest_kind"] == "limited_edition"
    }
    # a1: 1 of 2 lines; a2: English "[Limited]"; a3: no name, SKU S-LIM is limited; b2: 【限量】
    assert limited[("钻石会员", "2025-01")] == 2 and limited[("钻石会员", "2025-03")] == 1
    assert limited[("(none)", "2026-02")] == 1 and limited[("钻石会员", "2026-05")] == 0
    categories = {
        (r["period_start"].isoformat()[:7], r["interest"]): r["line_share"]
        for r in table.to_pylist()
        if r["group_value"] == "钻石会员" and r["interest_kind"] == "category"
    }
    assert categories[("2025-01", "连衣裙")] == pytest.approx(2 / 3)  # a2's line: (unknown)
    assert categories[("2025-03", "连衣裙")] == 1.0  # category from the SKU's other line
    drops = largest_drops(raw)
    assert drops["by_group"]["钻石会员"] == {
        "interest_kind": "limited_edition", "interest": "limited",
        "baseline_share": 0.75, "recent_share": 0.0, "change": -0.75,
    }  # fmt: skip
    # P-B went from T恤 only to a limited belt only: the largest drop of all
    assert (drops["largest"]["group_value"], drops["largest"]["interest"]) == ("(none)", "T恤")
    assert drops["largest"]["change"] == -1.0


def test_repurchase_parameters() -> None:
    assert RepurchaseParams(by="tier").by == "member_level"
    assert RepurchaseParams(limited_prefixes=[" LIMITED "]).limited_prefixes == ("limited",)
    for values, field in (
        ({"by": "region"}, "by"), ({"bucket": "week"}, "bucket"),
        ({"limited_prefixes": ["50%"]}, "limited_prefixes"), ({"rfm_name": "Bad"}, "rfm_name"),
        ({"recent_months": 0}, "recent_months"), ({"horizon_days": 0}, "horizon_days"),
    ):  # fmt: skip
        with pytest.raises(ValidationError) as err:
            RepurchaseParams.model_validate(values)
        assert err.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize("cumulative", [False, True])
@pytest.mark.parametrize("event", [None, "Order Completed"])
def test_every_sql_transpiles_to_spark(cumulative: bool, event: str | None) -> None:
    p = RetentionParams(cumulative=cumulative, event=event, period="month")
    rp = RepurchaseParams(by="rfm_tier")
    w = windows(rp, date(2026, 10, 31))
    for sql in (retention_sql(p), gap_distribution_sql(rp, w), interest_sql(rp, w)):
        spark = in_dialect(sql, "spark")
        assert "SELECT" in spark and "date_diff('day'" not in spark.lower()


def test_by_all_puts_every_profile_in_one_group() -> None:
    p = RepurchaseParams(by="all", recent_months=6)
    w = windows(p, date(2026, 5, 1))
    table, summary = gap_rows(run(gap_distribution_sql(p, w), **repurchase_tables()), p)
    assert set(table.column("group_value").to_pylist()) == {"all"} and set(summary) == {"all"}
    by_tier, _ = gap_rows(
        run(gap_distribution_sql(RepurchaseParams(recent_months=6), w), **repurchase_tables()), p
    )
    spells = table.column("spells").to_pylist()
    # P-A: 5 spells (6 purchase days, the last on as_of starts none), P-B: 2
    assert sum(spells) == sum(by_tier.column("spells").to_pylist()) == 7
    interests = run(interest_sql(p, w), **repurchase_tables())
    totals = [r for r in interests if r["interest_kind"] == "total"]
    assert {r["group_value"] for r in totals} == {"all"}
    # 9 orders hold 9 lines, but a3b has none
    assert sum(r["orders"] for r in totals) == 8 and sum(r["lines"] for r in totals) == 9

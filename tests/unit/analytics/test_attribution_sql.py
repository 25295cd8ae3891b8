"""Journeys, time decay and holdout groups in SQL, on hand-made tables run by plain DuckDB.

Person p1 (member M1 and an unlinked-looking phone both lead to profile P1) and p2 (P2); an
anonymous visitor no profile holds is a journey of its own that cannot convert. Times are hours
after 2026-03-02 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from pydantic import ValidationError as PydanticValidationError

from custodia.analytics.attribution import (
    AttributionParams,
    attribution_sql,
    conversions_sql,
    holdout_sql,
    journey_paths_sql,
    journey_rows,
    time_decay_sql,
)
from custodia.quality.rule_sql import in_dialect
from custodia.storage.engine import add_shared_functions

from .profile_key_tables import profile_keys_table

T0 = datetime(2026, 3, 2, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def touchpoints(rows: list[tuple[str, str, str, float, str]]) -> pa.Table:
    """(ref_type, ref, channel, hour, interaction) rows."""
    return pa.table(
        {
            "touchpoint_id": [f"t{i:03d}" for i in range(len(rows))],
            "customer_ref_type": [r[0] for r in rows],
            "customer_ref": [r[1] for r in rows],
            "channel": [r[2] for r in rows],
            "campaign": ["c"] * len(rows),
            "interaction": [r[4] for r in rows],
            "occurred_at": pa.array([at(r[3]) for r in rows], TS),
            "cost": [0.1] * len(rows),
        }
    )


def orders(rows: list[tuple[str, str, float, float, str]]) -> pa.Table:
    """(ref_type, ref, hour, amount, status) rows."""
    return pa.table(
        {
            "order_id": [f"o{i:03d}" for i in range(len(rows))],
            "customer_ref_type": [r[0] for r in rows],
            "customer_ref": [r[1] for r in rows],
            "ordered_at": pa.array([at(r[2]) for r in rows], TS),
            "total_amount": [r[3] for r in rows],
            "status": [r[4] for r in rows],
        }
    )


KEYS = profile_keys_table(
    [("member_id", "M1", "P1"), ("phone", "13900000001", "P1"), ("member_id", "M2", "P2")]
)


def run_table(sql: str, touch: pa.Table, order: pa.Table) -> pa.Table:
    con = duckdb.connect()
    try:
        add_shared_functions(con)
        for name, table in (("touchpoints", touch), ("orders", order), ("profile_keys", KEYS)):
            con.register(name, table)
        return con.sql(sql).to_arrow_table()
    finally:
        con.close()


def run(sql: str, touch: pa.Table, order: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_table(sql, touch, order).to_pylist()
    return rows


TOUCH = touchpoints([
    ("member_id", "M1", "微信", 0, "impression"),
    ("phone", "13900000001", "sms", 10, "click"),        # same person as M1
    ("member_id", "M1", "email", 20, "click"),
    # order at hour 20: the email at the same time counts before it
    ("member_id", "M1", "微信", 30, "click"),            # after the order, before the next
    ("member_id", "M1", "baidu", 30 + 24 * 40, "click"),  # 40 days later: next order's journey
    ("member_id", "M2", "baidu", 5, "click"),
    ("member_id", "M2", "sms", 6, "holdout"),            # never part of a journey
    ("anonymous_id", "a-9", "抖音", 3, "impression"),     # nobody's profile: a null journey
])  # fmt: skip
ORDERS = orders([
    ("member_id", "M1", 20, 100.0, "completed"),
    ("member_id", "M1", 31 + 24 * 40, 50.0, "completed"),
    ("member_id", "M1", 40, 999.0, "cancelled"),         # not a conversion
    ("phone", "13900000001", 24 * 100, 70.0, "completed"),  # touched by nothing in 30 days
])  # fmt: skip


def test_journeys_cut_at_each_conversion_within_the_lookback() -> None:
    rows = run(journey_paths_sql(AttributionParams()), TOUCH, ORDERS)
    got = {r["path"]: (r["conversions"], r["value"], r["nulls"]) for r in rows}
    assert got == {
        "微信 > sms > email": (1, 100.0, 0),
        # the 微信 click 40 days before the second order is too old: a null of its own
        "微信": (0, 0.0, 1),
        "baidu": (1, 50.0, 1),  # P1's second order; P2's click never converts
        "抖音": (0, 0.0, 1),
    }
    totals = run(conversions_sql(AttributionParams()), TOUCH, ORDERS)
    assert totals == [{"conversions": 3, "value": 220.0}]  # one of them untouched


def test_lookback_and_interactions() -> None:
    short = run(journey_paths_sql(AttributionParams(lookback="12h")), TOUCH, ORDERS)
    got = {r["path"]: (r["conversions"], r["nulls"]) for r in short}
    assert got["sms > email"] == (1, 0) and got["微信"] == (0, 2)  # the hour-0 touch is stale
    clicks = run(journey_paths_sql(AttributionParams(interactions=["click"])), TOUCH, ORDERS)
    assert "抖音" not in {r["path"] for r in clicks}


def test_time_decay_halves_per_half_life() -> None:
    rows = run(time_decay_sql(AttributionParams(half_life="10h")), TOUCH, ORDERS)
    got = {r["channel"]: r["conversions"] for r in rows}
    # first order: ages 20h, 10h, 0h -> weights 1/4, 1/2, 1 (sum 7/4); second: baidu alone
    assert got["微信"] == pytest.approx(1 / 7)
    assert got["sms"] == pytest.approx(2 / 7)
    assert got["email"] == pytest.approx(4 / 7)
    assert got["baidu"] == pytest.approx(1.0)


def test_holdout_groups_compare_exposed_and_held_out_people() -> None:
    touch = touchpoints([
        ("member_id", "M1", "sms", 0, "click"),
        ("member_id", "M2", "sms", 0, "holdout"),
        ("member_id", "M2", "sms", 5, "click"),   # leaked exposure: still held out
        ("member_id", "M1", "wechat", 0, "click"),  # no holdout group for wechat
    ])  # fmt: skip
    order = orders([("member_id", "M1", 10, 80.0, "completed"),
                    ("member_id", "M2", 24 * 45, 60.0, "completed")])  # fmt: skip
    rows = run(holdout_sql(AttributionParams()), touch, order)
    assert rows == [
        {"channel": "sms", "held": 0, "people": 1, "converted": 1, "value": 80.0},
        {"channel": "sms", "held": 1, "people": 1, "converted": 0, "value": 0.0},
    ]


@pytest.mark.parametrize("first", [0, 1])
def test_of_two_orders_at_one_second_the_smaller_order_id_closes_the_journey(first: int) -> None:
    touch = touchpoints([("member_id", "M2", "sms", 1, "click")])
    both: list[tuple[str, str, float, float, str]] = [
        ("member_id", "M2", 2, 20.0, "completed"),
        ("member_id", "M2", 2, 10.0, "completed"),
    ]
    order = orders(both if first == 0 else both[::-1])  # o000 is the first row
    paths, decay = journey_rows(lambda sql: run_table(sql, touch, order), AttributionParams())
    assert paths.to_pylist() == [
        {"path": "sms", "conversions": 1, "value": both[first][3], "nulls": 0, "touches": 1}
    ]
    assert decay is not None
    assert decay.to_pylist() == [{"channel": "sms", "conversions": 1.0, "value": both[first][3]}]


def test_subjects_sharing_a_key_are_kept_apart_by_running_again() -> None:
    # length(subject) gives P1 and P2 one key: their touches and orders would mix
    params = AttributionParams(lookback="60d")

    def on_tables(sql: str) -> pa.Table:
        return run_table(sql, TOUCH, ORDERS)

    collided = run(attribution_sql(params, key="length"), TOUCH, ORDERS)
    exact = run(attribution_sql(params, key=None), TOUCH, ORDERS)
    assert any(r["kind"] == "mixed" for r in collided) and collided != exact
    assert not any(r["kind"] == "mixed" for r in exact)
    paths, decay = journey_rows(on_tables, params, key="length")
    assert paths.to_pylist() == run(journey_paths_sql(params), TOUCH, ORDERS)
    assert decay is not None and decay.to_pylist() == run(time_decay_sql(params), TOUCH, ORDERS)
    assert journey_rows(on_tables, params) == (paths, decay)  # the 64-bit key: no collision


def test_sql_carries_over_to_spark() -> None:
    params = AttributionParams()
    for sql in (attribution_sql(params), journey_paths_sql(params), time_decay_sql(params),
                holdout_sql(params)):  # fmt: skip
        spark = in_dialect(sql, "spark")
        assert "ARRAY_SORT(COLLECT_LIST(STRUCT(" in spark or "POWER" in spark or "held" in spark
        assert "epoch(" not in spark.lower()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"models": ["last", "magic"]}, "models"),
        ({"markov_order": 4}, "markov_order"),
        ({"lookback": "30 days"}, "lookback"),
        ({"half_life": "0d"}, "half_life"),
        ({"interactions": ["click'; drop"]}, "interactions"),
        ({"models": []}, "models"),
    ],
)
def test_bad_parameters_name_the_field(values: dict[str, Any], field: str) -> None:
    with pytest.raises(PydanticValidationError) as caught:
        AttributionParams.model_validate(values)
    assert caught.value.errors()[0]["loc"][0] == field

"""Funnel SQL on hand-made events: the three modes, exclusions, windows, breakdowns, and a
brute-force reference on random streams (every attempt tried, greedy within each)."""

from __future__ import annotations

import random
from statistics import median
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError as PydanticValidationError

from custodia.analytics.funnels import (
    TOTAL,
    FunnelParams,
    aggregate_funnel,
    funnel_rows,
    funnel_sql,
)

from .event_tables import events_table, run_sql
from .profile_key_tables import profile_keys_table

STREAM = [
    ("u1", 0, "A"), ("u1", 5, "B"), ("u1", 7, "C"),   # A > B > C
    ("u2", 0, "A"), ("u2", 1, "X"), ("u2", 2, "B"),   # X between A and B
    ("u3", 0, "B"), ("u3", 1, "A"),                   # wrong order
]  # fmt: skip


def _funnel(rows: list[tuple[Any, ...]], **params: Any) -> dict[str, Any]:
    p = FunnelParams(**params)
    return run_sql(funnel_sql(p, linked=False), events=events_table(rows))[0]


def _reached(agg: dict[str, Any], n: int) -> list[int]:
    return [agg[f"reached_{k}"] for k in range(1, n + 1)]


def test_sequential_allows_events_between_steps_and_times_each_step() -> None:
    agg = _funnel(STREAM, steps=["A", "B", "C"], window="1h")
    assert _reached(agg, 3) == [3, 2, 1]
    assert agg["med_2"] == 210.0  # u1 300 s, u2 120 s
    assert (agg["med_3"], agg["start_3"]) == (120.0, 420.0)


def test_strict_needs_the_very_next_event() -> None:
    agg = _funnel(STREAM, steps=["A", "B", "C"], mode="strict", window="1h")
    assert _reached(agg, 3) == [3, 1, 1]


def test_any_order_counts_steps_done_in_either_order() -> None:
    agg = _funnel(STREAM, steps=["A", "B", "C"], mode="any", window="1h")
    assert _reached(agg, 3) == [3, 3, 1]


def test_an_excluded_event_between_steps_stops_the_attempt() -> None:
    agg = _funnel(STREAM, steps=["A", "B", "C"], window="1h", exclude=["X"])
    assert _reached(agg, 3) == [3, 1, 1]


def test_window_counts_from_the_first_step_and_a_later_attempt_can_win() -> None:
    rows = [("u1", 0, "A"), ("u1", 90, "A"), ("u1", 100, "B"), ("u1", 200, "C")]
    assert _reached(_funnel(rows, steps=["A", "B", "C"], window="1h"), 3) == [1, 1, 0]
    agg = _funnel(rows, steps=["A", "B", "C"], window="2h")
    assert _reached(agg, 3) == [1, 1, 1]
    assert agg["med_2"] == 600.0  # the attempt from minute 90 got furthest


def test_the_same_event_name_twice_needs_two_events() -> None:
    rows = [("u1", 0, "A"), ("u2", 0, "A"), ("u2", 3, "A")]
    assert _reached(_funnel(rows, steps=["A", "A"], window="1h"), 2) == [2, 1]


def test_events_of_one_instant_come_in_step_order_in_sequential_mode() -> None:
    rows = [("u1", 0, "A"), ("u1", 0, "B"), ("u2", 0, "B"), ("u2", 0, "A")]
    assert _reached(_funnel(rows, steps=["A", "B"], window="1h"), 2) == [2, 2]
    both = _reached(_funnel(rows, steps=["A", "B"], mode="any", window="1h"), 2)
    assert both == [2, 2]


def test_strict_mode_orders_events_of_one_instant_by_message_hash_the_same_way_every_time() -> None:
    rows = [("u1", 0, "A"), ("u1", 0, "B"), ("u2", 0, "B"), ("u2", 0, "A")]
    runs = [_reached(_funnel(rows, steps=["A", "B"], mode="strict", window="1h"), 2)
            for _ in range(3)]  # fmt: skip
    assert runs[0][0] == 2 and runs[0][1] in (0, 1, 2) and runs == [runs[0]] * 3


def test_an_exclusion_in_the_same_instant_as_a_step_comes_after_it() -> None:
    same = [("u1", 0, "A"), ("u1", 5, "X"), ("u1", 5, "B")]
    assert _reached(_funnel(same, steps=["A", "B"], window="1h", exclude=["X"]), 2) == [1, 1]
    before = [("u1", 0, "A"), ("u1", 4, "X"), ("u1", 5, "B")]
    assert _reached(_funnel(before, steps=["A", "B"], window="1h", exclude=["X"]), 2) == [1, 0]


def test_property_filters_and_breakdown_by_a_step_one_property() -> None:
    rows = [
        ("u1", 0, "View", {"category": "连衣裙"}), ("u1", 2, "Add"),
        ("u2", 0, "View", {"category": "外套"}), ("u3", 0, "View", {"category": "连衣裙"}),
        ("u3", 1, "Add"), ("u4", 0, "View"),
    ]  # fmt: skip
    only = _funnel(rows, steps=["View[category=连衣裙]", "Add"], window="1h")
    assert _reached(only, 2) == [2, 2]
    params = FunnelParams(steps=["View", "Add"], window="1h", by="category")
    agg = run_sql(funnel_sql(params, linked=False), events=events_table(rows))
    out, summary = funnel_rows(agg, params)
    by_segment = {(r["segment"], r["step"]): r["persons"] for r in out}
    assert by_segment == {
        (TOTAL, 1): 4, (TOTAL, 2): 2, ("连衣裙", 1): 2, ("连衣裙", 2): 2,
        ("外套", 1): 1, ("外套", 2): 0, ("(none)", 1): 1, ("(none)", 2): 0,
    }  # fmt: skip
    assert summary["conversion"] == 0.5 and summary["groups"] == 3


def test_rows_name_the_largest_dropoff_and_an_empty_funnel_is_well_formed() -> None:
    params = FunnelParams(steps=["A", "B", "C"], window="1h")
    agg = run_sql(funnel_sql(params, linked=False), events=events_table(STREAM))
    rows, summary = funnel_rows(agg, params)
    assert [r["conversion_from_previous"] for r in rows] == [1.0, pytest.approx(2 / 3, 1e-5), 0.5]
    assert summary["largest_dropoff"]["step"] == 3
    empty, summary = funnel_rows([], params)
    assert [r["persons"] for r in empty] == [0, 0, 0] and summary["conversion"] is None


def test_breakdown_by_another_analysis_result_joins_its_named_run() -> None:
    rows = [("u1", 0, "A"), ("u1", 2, "B"), ("u2", 0, "A"), ("u3", 0, "A"), ("u3", 1, "B")]
    rfm = pa.table({
        "analysis_name": ["mine", "mine", "other"], "profile_id": ["P1", "P2", "P3"],
        "tier": ["高价值复购客户", "流失客户", "新客"],
    })  # fmt: skip
    keys = profile_keys_table([("user_id", f"u{i}", f"P{i}") for i in (1, 2, 3)])
    params = FunnelParams(steps=["A", "B"], by="rfm.tier", by_analysis="mine")
    out = run_sql(
        funnel_sql(params, linked=True), events=events_table(rows), analysis_rfm=rfm,
        profile_keys=keys,
    )  # fmt: skip
    groups = {r["bd"]: _reached(r, 2) for r in out if not r["is_total"]}
    assert groups == {"高价值复购客户": [1, 1], "流失客户": [1, 0], "(none)": [1, 1]}


def test_time_range_limits_where_attempts_start() -> None:
    rows = [("u1", 0, "A"), ("u1", 2 * 1440 + 1, "B"), ("u2", 1440, "A"), ("u2", 1441, "B")]
    agg = _funnel(rows, steps=["A", "B"], window="3d", **{"from": "2026-03-03", "to": "2026-03-03"})
    assert _reached(agg, 2) == [1, 1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"steps": ["A"]}, "steps"),
        ({"steps": ["A", "B"], "window": "14 days"}, "window"),
        ({"steps": ["A", "B"], "by": "a b"}, "by"),
        ({"steps": ["A", "B"], "by": "profile.phone"}, "by"),
        ({"steps": ["A", "B"], "from": "2026-03-05", "to": "2026-03-01"}, "to"),
        ({"steps": ["A[x]", "B"]}, "step"),
        ({"steps": ["A", "B"], "by": "rfm.monetary"}, "rfm.tier"),
        ({"steps": ["A", "B"], "by": "category", "by_analysis": "rfm"}, "by_analysis"),
        ({"steps": ["A", "B"], "by": "rfm.tier", "by_analysis": "Bad Name"}, "by_analysis"),
    ],
)
def test_bad_definitions_name_the_field(params: dict[str, Any], field: str) -> None:
    with pytest.raises((PydanticValidationError, ValueError)) as caught:
        FunnelParams(**params)
    assert field in str(caught.value)


# -- brute-force reference --------------------------------------------------------------------


def _reference(
    rows: list[tuple[str, int, str]], steps: list[str], mode: str, window: int, exclude: str | None
) -> tuple[list[int], list[float | None]]:
    """People per step and median minutes from the previous step, trying every attempt."""
    people: dict[str, list[tuple[int, str]]] = {}
    for person, minute, label in rows:  # rows are in (minute, message) order per person
        people.setdefault(person, []).append((minute, label))
    best: list[list[int]] = []
    for events in people.values():
        attempts = [_attempt(events, i, steps, mode, window, exclude) for i in range(len(events))]
        chosen = max((a for a in attempts if a), key=len, default=None)
        if chosen:
            best.append(chosen)
    reached = [sum(1 for b in best if len(b) >= k) for k in range(1, len(steps) + 1)]
    gaps = [None] + [
        median(b[k] - b[k - 1] for b in best if len(b) > k) if reached[k] else None
        for k in range(1, len(steps))
    ]
    return reached, gaps


def _attempt(events: list[tuple[int, str]], i: int, steps: list[str], mode: str, window: int,
             exclude: str | None) -> list[int]:  # fmt: skip
    if mode == "any":
        return _any_attempt(events, i, steps, window, exclude)
    if events[i][1] != steps[0]:
        return []
    times, pos = [events[i][0]], i
    for step in steps[1:]:
        nxt = next((j for j in range(pos + 1, len(events)) if events[j][1] == step), None)
        if mode == "strict" and nxt != pos + 1:
            break
        blocked = nxt is not None and any(events[j][1] == exclude for j in range(pos + 1, nxt))
        if nxt is None or blocked or events[nxt][0] > events[i][0] + window:
            break
        times.append(events[nxt][0])
        pos = nxt
    return times


def _any_attempt(events: list[tuple[int, str]], i: int, steps: list[str], window: int,
                 exclude: str | None) -> list[int]:  # fmt: skip
    if events[i][1] not in steps:
        return []
    stop = next((j for j in range(i + 1, len(events)) if events[j][1] == exclude), len(events))
    done: list[int] = []
    for step in steps:
        j = next((j for j in range(i, stop) if events[j][1] == step), None)
        if j is None or events[j][0] > events[i][0] + window:
            break
        done.append(max([events[j][0], *done]))
    return done


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["sequential", "strict", "any"])
def test_sql_matches_a_brute_force_reference(seed: int, mode: str) -> None:
    rng = random.Random(seed)
    rows = []
    for p in range(40):
        minute = 0
        for _ in range(rng.randint(1, 12)):
            minute += rng.choice([1, 3, 10, 30, 90])  # ties: see the test above
            rows.append((f"u{p:02d}", minute, rng.choice("AABBCCDX")))
    rows.sort(key=lambda r: (r[0], r[1]))
    steps, exclude = ["A", "B", "C", "D"], "X" if seed % 2 else None
    params = FunnelParams(steps=steps, mode=mode, window="1h", exclude=[exclude] if exclude else [])
    agg = run_sql(funnel_sql(params, linked=False), events=events_table(rows))[0]
    reached, gaps = _reference(rows, steps, mode, 60, exclude)
    assert _reached(agg, 4) == reached
    for k in range(2, 5):
        expected = None if gaps[k - 1] is None else gaps[k - 1] * 60.0
        assert agg[f"med_{k}"] == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("by", [None, "category", "profile.member_level"])
def test_people_sharing_a_key_are_kept_apart_by_running_again_on_the_people(by: str | None) -> None:
    # length(person) gives every person of one name length the same key: forced collisions
    rng = random.Random(5)
    rows = [
        (f"u{rng.randrange(30)}", rng.randrange(200), rng.choice("ABCX"), {"category": "连衣裙"})
        for _ in range(400)
    ]
    profiles = pa.table(
        {"profile_id": [f"P{i:02d}" for i in range(30)], "member_level": ["金卡", "银卡"] * 15}
    )
    keys = profile_keys_table([("user_id", f"u{i}", f"P{i:02d}") for i in range(30)])
    params = FunnelParams(steps=["A", "B", "C"], window="1h", exclude=["X"], by=by)
    tables = {"events": events_table(rows), "profiles": profiles, "profile_keys": keys}

    def run(sql: str) -> list[dict[str, Any]]:
        return run_sql(sql, **tables)

    exact = run(funnel_sql(params, linked=True, key=None))
    collided = run(funnel_sql(params, linked=True, key="length"))
    assert not any(r["mixed"] for r in exact) and all(r["mixed"] for r in collided)
    assert collided != exact  # merged people would have changed the counts
    assert aggregate_funnel(run, params, linked=True, key="length") == exact
    assert run(funnel_sql(params, linked=True)) == exact  # the 64-bit key: no collision here
    if by == "profile.member_level":  # people reach their profile's attributes
        assert {r["bd"] for r in exact if not r["is_total"]} == {"金卡", "银卡"}

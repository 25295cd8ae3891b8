"""Path and heatmap SQL on hand-made events: sessions, cleaning, repeats, start and end
anchors, Sankey links; clicks per element and the weekday x hour grid in two time zones."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from custodia.analytics.heatmaps import HeatmapParams, element_sql, heatmap_rows, hour_sql
from custodia.analytics.paths import (
    END,
    MIXED,
    START,
    PathParams,
    path_rows,
    path_rows_of,
    paths_sql,
)

from .event_tables import events_table, run_sql

# u1: one session Home > Product > Product Detail (app) > Add, then 2 h later another Home
# u2: Home > Home (repeat) > Landing > Add
STREAM = [
    ("u1", 0, "Home"), ("u1", 1, "Product"), ("u1", 2, "Product Detail"), ("u1", 3, "Add"),
    ("u1", 130, "Home"),
    ("u2", 0, "Home"), ("u2", 1, "Home"), ("u2", 5, "Landing"), ("u2", 6, "Add"),
]  # fmt: skip


def _paths(**params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    p = PathParams(**params)
    return path_rows(run_sql(paths_sql(p, linked=False), events=events_table(STREAM)), p)


def _kind(rows: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["kind"] == kind]


def test_paths_from_a_start_are_sessionized_cleaned_and_collapsed() -> None:
    rows, summary = _paths(start_event="Home", steps=3, clean=["^Product Detail$=Product"])
    assert summary["sessions"] == 3  # u1 twice (a 127-minute gap), u2 once
    paths = {r["path"]: r["sessions"] for r in _kind(rows, "path")}
    assert paths == {"Home > Product > Add": 1, "Home": 1, "Home > Landing > Add": 1}
    links = {(r["step"], r["source"], r["target"]): r["sessions"] for r in _kind(rows, "link")}
    assert links == {
        (0, "Home", "Product"): 1, (0, "Home", "Landing"): 1, (0, "Home", END): 1,
        (1, "Product", "Add"): 1, (1, "Landing", "Add"): 1,
        (2, "Add", END): 2,
    }  # fmt: skip
    nodes = {(r["step"], r["source"]): (r["sessions"], r["share"]) for r in _kind(rows, "node")}
    assert nodes[(0, "Home")] == (3, 1.0) and nodes[(2, "Add")] == (2, pytest.approx(2 / 3, 1e-5))


def test_keeping_repeats_and_a_longer_session_change_the_paths() -> None:
    rows, summary = _paths(start_event="Home", steps=2, collapse_repeats=False, session_minutes=180)
    assert summary["sessions"] == 2
    paths = {r["path"] for r in _kind(rows, "path")}
    assert paths == {"Home > Product > Product Detail", "Home > Home > Landing"}


def test_paths_to_an_end_start_at_the_session_start() -> None:
    rows, summary = _paths(end_event="Add", steps=3)
    assert summary["sessions"] == 2
    links = {(r["step"], r["source"], r["target"]) for r in _kind(rows, "link")}
    assert (-3, "Home", "Product") in links and (-1, "Product Detail", "Add") in links
    assert (-3, START, "Home") in links  # u2's session: Home > Landing > Add is 2 steps long
    assert {r["path"] for r in _kind(rows, "path")} == {
        "Home > Product > Product Detail > Add", "Home > Landing > Add"
    }  # fmt: skip


def _reference_paths(stream: list[tuple[str, int, str]], p: PathParams) -> set[tuple[Any, ...]]:
    """The paths of ``p`` computed by hand: sessions, repeats, the anchor's walk, its links."""
    people: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for i, (person, minute, label) in enumerate(stream):
        people[person].append((minute, i, label))  # events_table numbers message ids in order
    nodes: Counter[tuple[Any, ...]] = Counter()
    links: Counter[tuple[Any, ...]] = Counter()
    paths: Counter[str] = Counter()
    who: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for person, events in people.items():
        sessions: list[list[str]] = []
        last = None
        for minute, _i, label in sorted(events):
            if last is None or minute - last > p.session_minutes:
                sessions.append([label])
            elif not (p.collapse_repeats and sessions[-1][-1] == label):
                sessions[-1].append(label)
            last = minute
        for session in (s for s in sessions if p.anchor in s):
            if p.forward:
                a = session.index(p.anchor)
                walk = list(enumerate(session[a : a + p.steps + 1]))
                pairs = [(k, node, walk[k + 1][1] if k + 1 < len(walk) else END)
                         for k, node in walk if k < p.steps]  # fmt: skip
            else:
                a = len(session) - 1 - session[::-1].index(p.anchor)
                first = max(0, a - p.steps)
                walk = [(i - a, session[i]) for i in range(first, a + 1)]
                pairs = [(k, node, walk[j + 1][1]) for j, (k, node) in enumerate(walk[:-1])]
                if first == 0 and walk[0][0] > -p.steps:
                    pairs.append((walk[0][0] - 1, START, walk[0][1]))
            path = " > ".join(node for _k, node in walk)
            paths[path] += 1
            who[("path", path)].add(person)
            for k, node in walk:
                nodes[(k, node)] += 1
                who[("node", k, node)].add(person)
            for pair in pairs:
                links[pair] += 1
                who[("link", *pair)].add(person)
    out = {("node", k, n, None, None, c, len(who[("node", k, n)])) for (k, n), c in nodes.items()}
    out |= {("link", k, a, b, None, c, len(who[("link", k, a, b)]))
            for (k, a, b), c in links.items()}  # fmt: skip
    ranked = sorted(paths.items(), key=lambda kv: (-kv[1], kv[0]))[: p.top]
    out |= {("path", None, None, None, path, c, len(who[("path", path)])) for path, c in ranked}
    return out


def _as_set(rows: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    keys = ("kind", "step", "source", "target", "path", "sessions", "persons")
    return {tuple(r[k] for k in keys) for r in rows}


def _random_stream(seed: int) -> list[tuple[str, int, str]]:
    rng = random.Random(seed)
    minutes = {f"u{i}": 0 for i in range(25)}
    stream = []
    for _ in range(600):
        person = rng.choice(list(minutes))
        minutes[person] += rng.choice([0, 1, 2, 5, 20, 29, 30, 31, 90])  # ties, gaps at 30 min
        stream.append((person, minutes[person], rng.choice(["Home", "Product", "Add", "Pay"])))
    rng.shuffle(stream)
    return stream


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("anchor", ["start_event", "end_event"])
@pytest.mark.parametrize("collapse", [True, False])
def test_paths_equal_a_reference_computed_by_hand(seed: int, anchor: str, collapse: bool) -> None:
    stream = _random_stream(seed)
    p = PathParams(**{anchor: "Product"}, steps=3, collapse_repeats=collapse, top=500)
    rows = run_sql(paths_sql(p, linked=False), events=events_table(stream))
    assert _as_set(rows) == _reference_paths(stream, p)


@pytest.mark.parametrize("anchor", ["start_event", "end_event"])
def test_people_sharing_a_key_are_kept_apart_by_running_again(anchor: str) -> None:
    # length(person) gives every person of one name length the same key: forced collisions
    stream = _random_stream(3)
    p = PathParams(**{anchor: "Add"}, steps=3, top=500)
    tables = {"events": events_table(stream)}

    def run(sql: str) -> list[dict[str, Any]]:
        return run_sql(sql, **tables)

    exact = run(paths_sql(p, linked=False, key=None))
    collided = run(paths_sql(p, linked=False, key="length"))
    assert any(r["kind"] == MIXED for r in collided) and _as_set(collided) != _as_set(exact)
    assert _as_set(path_rows_of(run, p, linked=False, key="length")) == _as_set(exact)
    assert _as_set(exact) == _reference_paths(stream, p)
    assert _as_set(run(paths_sql(p, linked=False))) == _as_set(exact)  # no 64-bit collision


@pytest.mark.parametrize(
    "params",
    [
        {"start_event": "Home", "end_event": "Add"},
        {},
        {"start_event": "Home", "clean": ["(=x"]},
        {"start_event": "Home", "clean": ["a=\\1"]},
        {"start_event": "Home", "steps": 0},
    ],
)
def test_bad_path_parameters_are_refused(params: dict[str, Any]) -> None:
    with pytest.raises((PydanticValidationError, ValueError)):
        PathParams(**params)


CLICKS = [
    ("u1", 0, "Element Clicked", {"element_id": "add_to_cart", "element_type": "button",
     "text": "加入购物车", "page_path": "/p/A", "x": 50, "y": 10, "viewport_width": 100,
     "viewport_height": 100}),
    ("u1", 1, "Element Clicked", {"element_id": "add_to_cart", "page_path": "/p/A", "x": 70,
     "y": 30, "viewport_width": 100, "viewport_height": 100}),
    ("u2", 2, "Element Clicked", {"element_id": "size_guide", "page_path": "/p/B"}),
    ("u2", 3, "Element Clicked", {"element_id": "search_box", "page_path": "/"}),
    ("u1", 60 * 17, "Product", {"path": "/p/A"}),     # Monday 17:00 UTC = Tuesday 01:00 +08
    ("u2", 60 * 17 + 5, "Home", {"path": "/"}),
]  # fmt: skip


def _heatmap(**params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    p = HeatmapParams(**params)
    events = events_table(CLICKS)
    elements = run_sql(element_sql(p, linked=False), events=events)
    hours = run_sql(hour_sql(p, linked=False), events=events)
    return heatmap_rows(elements, hours, p)


def test_clicks_per_element_on_a_page_glob() -> None:
    rows, summary = _heatmap(page="/p/*")
    elements = {r["element_id"]: r for r in rows if r["kind"] == "element"}
    assert set(elements) == {"add_to_cart", "size_guide"} and summary["clicks"] == 3
    cart = elements["add_to_cart"]
    assert (cart["clicks"], cart["persons"], cart["element_text"]) == (2, 1, "加入购物车")
    assert (cart["avg_x_ratio"], cart["avg_y_ratio"]) == (0.6, 0.2)
    assert cart["click_share"] == pytest.approx(2 / 3, 1e-5)


def test_the_hour_grid_is_on_the_named_clock() -> None:
    rows, summary = _heatmap()
    grid = {
        (r["weekday"], r["hour"]): (r["views"], r["clicks"]) for r in rows if r["kind"] == "hour"
    }
    assert len(grid) == 168 and grid[(2, 1)] == (2, 0) and grid[(1, 8)] == (0, 4)
    assert summary["busiest_hour"] == {"weekday": 2, "hour": 1, "views": 2}
    utc_rows, _ = _heatmap(timezone="UTC")
    utc = {(r["weekday"], r["hour"]): r["views"] for r in utc_rows if r["kind"] == "hour"}
    assert utc[(1, 17)] == 2 and sum(utc.values()) == 2
    _, summary_a = _heatmap(page="/p/A")
    assert summary_a["views"] == 1 and summary_a["clicks"] == 2


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(PydanticValidationError, match="timezone"):
        HeatmapParams(timezone="Mars/Olympus")

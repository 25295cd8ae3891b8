"""Attribution models on hand-made journeys, and against ChannelAttribution (R/C++ package).

The reference numbers come from ChannelAttribution 2.2.5 run on tests/data/attribution/
journeys.csv (see make_channelattribution_reference.py there): heuristic models must be equal,
first-order Markov within 1% per channel (its simulation at 1e8 paths against our exact solve).
When ChannelAttribution is importable by the interpreter named in
CUSTODIA_CHANNELATTRIBUTION_PYTHON, it is also run live on the package's own Data.csv.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from custodia.analytics.attribution_models import (
    JourneyPaths,
    heuristic_credit,
    markov_credit,
    markov_states,
    shapley_credit,
)

DATA = Path(__file__).parents[2] / "data" / "attribution"


def paths(*rows: tuple[str, float, float, float]) -> JourneyPaths:
    return JourneyPaths.from_lists(
        (r[0].split(" > ") for r in rows), (r[1] for r in rows), (r[2] for r in rows),
        (r[3] for r in rows),
    )  # fmt: skip


def conversions(credit: dict[str, Any]) -> dict[str, float]:
    return {c: round(v.conversions, 9) for c, v in credit.items()}


def test_heuristics_by_hand() -> None:
    rows = paths(("微信 > email > sms > email", 2, 100.0, 5), ("sms", 1, 30.0, 0),
                 ("email > sms", 1, 10.0, 3), ("sms > 微信", 0, 0.0, 4))  # fmt: skip
    assert conversions(heuristic_credit(rows, "first")) == {"微信": 2, "sms": 1, "email": 1}
    assert conversions(heuristic_credit(rows, "last")) == {"微信": 0, "email": 2, "sms": 2}
    linear = heuristic_credit(rows, "linear")
    assert conversions(linear) == {"微信": 0.5, "email": 1.5, "sms": 2.0}
    assert linear["email"].value == pytest.approx(100 / 2 + 10 / 2)
    position = heuristic_credit(rows, "position")  # 40% ends, 20% shared by the middle
    assert conversions(position) == {
        "微信": 0.8,
        "email": 2 * (0.1 + 0.4) + 0.5,
        "sms": 0.2 + 1 + 0.5,
    }
    assert sum(conversions(position).values()) == pytest.approx(4)


def test_markov_removal_effects_by_hand() -> None:
    # start -> A; A -> B (1/2) or null (1/2); B -> conversion: without A or B nothing converts
    credit = markov_credit(paths(("A > B", 1, 80.0, 0), ("A", 0, 0.0, 1)))
    assert conversions(credit) == {"A": 0.5, "B": 0.5}
    assert credit["A"].removal_effect == pytest.approx(1.0) and credit["B"].value == 40.0
    # start -> C 2/3, D 1/3; D -> C; C -> conversion 2/3: P = 2/3, without D 4/9
    credit = markov_credit(paths(("C", 1, 10.0, 1), ("D > C", 1, 10.0, 0)))
    assert credit["C"].removal_effect == pytest.approx(1.0)
    assert credit["D"].removal_effect == pytest.approx(1 - (4 / 9) / (2 / 3))
    assert conversions(credit) == pytest.approx({"C": 1.5, "D": 0.5})


def test_markov_states_of_higher_order() -> None:
    assert markov_states(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")]
    assert markov_states(["a"], 3) == [("a",)]
    assert markov_states(["a", "a", "a", "b"], 2) == [("a", "a"), ("a", "b")]
    credit = markov_credit(paths(("a > b > c", 3, 30.0, 1), ("b > c", 1, 5.0, 2)), order=2)
    assert sum(c.conversions for c in credit.values()) == pytest.approx(4)


def test_shapley_by_hand_and_sampled_above_fifteen_channels() -> None:
    rows = paths(("A", 10, 100.0, 90), ("B", 5, 50.0, 95), ("A > B", 18, 180.0, 42),
                 ("B > A", 12, 120.0, 28))  # fmt: skip
    # {A,B}: v(A)=0.1, v(B)=0.05, v(AB)=0.3 -> phi A 0.175, B 0.125 of 30 conversions
    credit = shapley_credit(rows)
    assert conversions(credit) == pytest.approx({"A": 10 + 17.5, "B": 5 + 12.5})
    assert credit["A"].error_bound is None  # exact
    many = [f"c{i:02d}" for i in range(16)]
    wide = paths((" > ".join(many), 8, 80.0, 2))  # only the full set converts: 1/16 each
    sampled = shapley_credit(wide, samples=400, seed=3)
    assert sum(c.conversions for c in sampled.values()) == pytest.approx(8)
    for c in sampled.values():
        assert c.error_bound is not None and abs(c.conversions - 0.5) <= c.error_bound
    assert shapley_credit(wide, samples=400, seed=3) == sampled  # fixed seed, same answer


def test_no_conversion_gives_no_credit() -> None:
    rows = paths(("A > B", 0, 0.0, 3))
    for model in ("first", "linear", "position"):
        assert heuristic_credit(rows, model) == {}
    assert markov_credit(rows) == {} and shapley_credit(rows) == {}


def read_journeys(path: Path) -> JourneyPaths:
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    return JourneyPaths.from_lists(
        ([c.strip() for c in r["path"].split(">")] for r in rows),
        (float(r["total_conversions"]) for r in rows),
        (float(r["total_conversion_value"]) for r in rows),
        (float(r["total_null"]) for r in rows),
    )


def assert_matches(rows: JourneyPaths, reference: dict[str, Any]) -> None:
    for model in ("first", "last", "linear"):
        ours = heuristic_credit(rows, model)
        for ref in reference["heuristic"]:
            got = ours[ref["channel_name"]]
            assert got.conversions == pytest.approx(ref[f"{model}_touch_conversions"], abs=1e-6)
            assert got.value == pytest.approx(ref[f"{model}_touch_value"], abs=1e-6)
    ours = markov_credit(rows, 1)
    total = rows.total_conversions
    for ref in reference["markov"]:
        got, want = ours[ref["channel_name"]].conversions, ref["total_conversions"]
        if want >= 0.01 * total:  # simulation noise swamps the tiniest channels
            assert got == pytest.approx(want, rel=0.01), ref["channel_name"]
        assert got == pytest.approx(want, abs=0.005 * total)


def test_matches_channelattribution_reference_numbers() -> None:
    reference = json.loads((DATA / "channelattribution_journeys.json").read_text("utf-8"))
    assert_matches(read_journeys(DATA / "journeys.csv"), reference)


@pytest.mark.slow
def test_matches_channelattribution_live_on_its_example_data(tmp_path: Path) -> None:
    python = os.environ.get("CUSTODIA_CHANNELATTRIBUTION_PYTHON")
    if not python:
        pytest.skip("set CUSTODIA_CHANNELATTRIBUTION_PYTHON to a Python with ChannelAttribution")
    out = tmp_path / "ca.json"
    script = DATA / "run_channelattribution.py"
    subprocess.run([python, script, "package", out], check=True, capture_output=True, timeout=600)
    reference = json.loads(out.read_text("utf-8"))
    assert_matches(read_journeys(Path(reference["data"])), reference)

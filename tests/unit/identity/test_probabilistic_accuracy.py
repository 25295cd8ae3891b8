"""Pairwise precision / recall / F1 from contingency counts agree with enumerating the pairs."""

from __future__ import annotations

import random
from itertools import combinations

import pytest

from custodia.identity.accuracy import pairs_within, pairwise_scores, scores_from_counts


def _brute_force(truth: dict[str, str], predicted: dict[str, str]) -> tuple[int, int, int]:
    common = sorted(r for r in truth if r in predicted)
    true_pairs = predicted_pairs = correct = 0
    for a, b in combinations(common, 2):
        same_truth = truth[a] == truth[b]
        same_cluster = predicted[a] == predicted[b]
        true_pairs += same_truth
        predicted_pairs += same_cluster
        correct += same_truth and same_cluster
    return true_pairs, predicted_pairs, correct


@pytest.mark.parametrize("seed", range(5))
def test_counts_match_pair_enumeration(seed: int) -> None:
    rng = random.Random(seed)
    records = [f"r{i}" for i in range(300)]
    truth = {r: f"e{rng.randrange(90)}" for r in records}
    predicted = {r: f"c{rng.randrange(70)}" for r in records if rng.random() < 0.9}
    scores = pairwise_scores(truth, predicted)
    expected = _brute_force(truth, predicted)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == expected
    assert scores.precision == pytest.approx(expected[2] / expected[1])
    assert scores.recall == pytest.approx(expected[2] / expected[0])


def test_one_merge_too_many_costs_precision_not_recall() -> None:
    truth = {"a": "p1", "b": "p1", "c": "p2"}
    scores = pairwise_scores(truth, {"a": "x", "b": "x", "c": "x"})
    assert (scores.precision, scores.recall) == (pytest.approx(1 / 3), 1.0)
    assert scores.f1 == pytest.approx(0.5)


def test_a_missed_merge_costs_recall_not_precision() -> None:
    truth = {"a": "p1", "b": "p1", "c": "p1"}
    scores = pairwise_scores(truth, {"a": "x", "b": "x", "c": "y"})
    assert (scores.precision, scores.recall) == (1.0, pytest.approx(1 / 3))


def test_records_missing_from_either_side_are_not_scored() -> None:
    scores = pairwise_scores({"a": "p", "b": "p", "z": "p"}, {"a": "x", "b": "x", "q": "x"})
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (1, 1, 1)


def test_empty_inputs_are_perfect_by_convention_and_zero_is_zero() -> None:
    assert pairwise_scores({}, {}).f1 == 1.0
    assert scores_from_counts(true_pairs=4, predicted_pairs=3, correct=0).f1 == 0.0
    assert pairs_within([1_000_000]) == 499_999_500_000

"""Pairwise accuracy of a clustering against ground truth, from contingency counts.

Entity resolution is scored on *pairs* of records: a predicted pair (two records in the same
predicted cluster) is correct when the two also share a true entity. Enumerating pairs is
quadratic (a 10,000-record cluster alone has 50 million), so the counts come from cluster sizes:
a group of ``n`` records holds ``n * (n - 1) / 2`` pairs, and the correct pairs are those of the
groups of records sharing both their true entity and their predicted cluster. This runs in linear
time on a million records.

Only records present in both mappings are scored.

Example::

    scores = pairwise_scores({"a": "p1", "b": "p1", "c": "p2"}, {"a": "x", "b": "x", "c": "x"})
    scores.precision   # 1 correct of 3 predicted pairs: 0.333...
    scores.recall      # 1 of 1 true pair: 1.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

__all__ = ["PairwiseScores", "pairs_within", "pairwise_scores", "scores_from_counts"]


@dataclass(frozen=True, slots=True)
class PairwiseScores:
    """Pairwise precision, recall and F1 with the counts behind them."""

    precision: float
    """correct / predicted pairs (1.0 when nothing is predicted)."""
    recall: float
    """correct / true pairs (1.0 when there are no true pairs)."""
    f1: float
    """Harmonic mean of precision and recall (0.0 when both are 0)."""
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def pairs_within(group_sizes: Iterable[int]) -> int:
    """Number of unordered pairs inside groups of the given sizes.

    >>> pairs_within([3, 1, 2])
    4
    """
    return sum(n * (n - 1) // 2 for n in group_sizes)


def pairwise_scores(truth: Mapping[str, str], predicted: Mapping[str, str]) -> PairwiseScores:
    """Score ``predicted`` (record -> cluster id) against ``truth`` (record -> entity id)."""
    common = [r for r in truth if r in predicted]
    true_pairs = pairs_within(Counter(truth[r] for r in common).values())
    predicted_pairs = pairs_within(Counter(predicted[r] for r in common).values())
    both: Counter[tuple[Hashable, Hashable]] = Counter((truth[r], predicted[r]) for r in common)
    correct = pairs_within(both.values())
    return scores_from_counts(true_pairs, predicted_pairs, correct)


def scores_from_counts(true_pairs: int, predicted_pairs: int, correct: int) -> PairwiseScores:
    """Precision, recall and F1 from the three pair counts."""
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    total = precision + recall
    f1 = 2 * precision * recall / total if total else 0.0
    return PairwiseScores(precision, recall, f1, true_pairs, predicted_pairs, correct)

"""FEBRL accuracy of unsupervised probabilistic matching (issue 5, requirement 7).

The FEBRL data sets are synthetic person files with known duplicates. The model is trained
without labels (``tests/data/febrl/spec.yaml``), the pairs at or above the spec's threshold are
clustered (connected components), and both the clusters and the raw pairs are scored pairwise
against the ground truth. Splink's documented FEBRL3 result is F1 0.9929 (precision 0.9997,
recall 0.9862) on the raw pairs at probability 0.5.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from custodia.identity.accuracy import (
    PairwiseScores,
    pairs_within,
    pairwise_scores,
    scores_from_counts,
)
from custodia.identity.clusters import connected_components
from custodia.identity.probabilistic import predict_pairs, train_model
from custodia.identity.probabilistic_spec import ProbabilisticSpec

pytestmark = pytest.mark.slow

FEBRL = Path(__file__).parents[1] / "data" / "febrl"


def load_febrl(name: str) -> tuple[pa.Table, dict[str, str]]:
    """(records with ``record_id`` and ISO birth dates, record -> true entity)."""
    with (FEBRL / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, skipinitialspace=True))
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    columns["record_id"] = columns.pop("rec_id")
    columns["date_of_birth"] = [_iso(d) for d in columns["date_of_birth"]]
    truth = {record: record.split("-")[1] for record in columns["record_id"]}
    return pa.table(columns), truth


def _iso(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:]}" if len(value) == 8 else value


def _spec() -> ProbabilisticSpec:
    text = (FEBRL / "spec.yaml").read_text(encoding="utf-8")
    return ProbabilisticSpec.model_validate(yaml.safe_load(text))


def _pair_scores(pairs: pa.Table, truth: dict[str, str]) -> PairwiseScores:
    lefts = pairs.column("left_record").to_pylist()
    rights = pairs.column("right_record").to_pylist()
    correct = sum(truth[a] == truth[b] for a, b in zip(lefts, rights, strict=True))
    true_pairs = pairs_within(Counter(truth.values()).values())
    return scores_from_counts(true_pairs, len(lefts), correct)


def _resolve(name: str) -> tuple[PairwiseScores, PairwiseScores]:
    records, truth = load_febrl(name)
    spec = _spec()
    model = train_model(records, spec)
    pairs = predict_pairs(records, model, spec)
    edges = zip(
        pairs.column("left_record").to_pylist(),
        pairs.column("right_record").to_pylist(),
        strict=True,
    )
    clusters = connected_components(records.column("record_id").to_pylist(), edges)
    return pairwise_scores(truth, clusters), _pair_scores(pairs, truth)


@pytest.mark.parametrize(("name", "true_pairs"), [("dataset3.csv", 6538), ("dataset2.csv", 1934)])
def test_febrl_dedupe_reaches_the_issue_targets(name: str, true_pairs: int) -> None:
    clusters, raw = _resolve(name)
    assert clusters.true_pairs == true_pairs
    assert clusters.precision >= 0.999, clusters
    assert clusters.f1 >= 0.99, clusters
    assert raw.precision >= 0.999, raw
    assert raw.f1 >= 0.99, raw

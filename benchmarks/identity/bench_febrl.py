"""FEBRL3 end to end with Custodia's probabilistic matching, side by side with plain Splink.

Both sides take the same 5,000 FEBRL3 records (read once, as strings, birth dates as ISO) and do
the same work: train unsupervised (lambda from deterministic rules with recall 0.9, u from 1M
seeded random pairs, m by EM on ``date_of_birth`` then ``postcode``), score the pairs blocked on
any of soc_sec_id, given_name, surname, date_of_birth, postcode, and cluster at match
probability 0.9.

- ``custodia``: ``train_model`` + ``predict_pairs`` with ``tests/data/febrl/spec.yaml``, then
  ``custodia.identity.clusters.connected_components``.
- ``splink``: a hand-written Splink 5 script (DuckDBAPI, Splink's own comparison library:
  NameComparison, DateOfBirthComparison, DamerauLevenshteinAtThresholds, ExactMatch) and
  Splink's ``cluster_pairwise_predictions_at_threshold``.

Each side runs ``--repeats`` times, alternating; the median seconds and the ratio go to
``benchmarks/results/identity_febrl.json`` with the pairwise accuracy of both sides (clusters and
raw pairs at 0.9, and raw pairs at 0.5, the threshold of Splink's published FEBRL3 figure), and
the accuracy of both on FEBRL2 (5,000 records, 1,934 true pairs; not timed).

Run: ``.venv/bin/python benchmarks/identity/bench_febrl.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import splink.comparison_library as cl
import yaml
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from custodia.identity.accuracy import pairs_within, pairwise_scores, scores_from_counts
from custodia.identity.clusters import connected_components
from custodia.identity.probabilistic import predict_pairs, train_model
from custodia.identity.probabilistic_spec import ProbabilisticSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import Stopwatch, save

FEBRL = Path(__file__).resolve().parents[2] / "tests" / "data" / "febrl"
THRESHOLD = 0.9


def load(name: str = "dataset3.csv") -> tuple[pa.Table, dict[str, str]]:
    """FEBRL records as strings (ISO birth dates) and record -> true entity."""
    with (FEBRL / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, skipinitialspace=True))
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    columns["record_id"] = columns.pop("rec_id")
    columns["date_of_birth"] = [
        f"{d[:4]}-{d[4:6]}-{d[6:]}" if len(d) == 8 else d for d in columns["date_of_birth"]
    ]
    truth = {record: record.split("-")[1] for record in columns["record_id"]}
    return pa.table(columns), truth


def spec(threshold: float = THRESHOLD) -> ProbabilisticSpec:
    raw = yaml.safe_load((FEBRL / "spec.yaml").read_text(encoding="utf-8"))
    return ProbabilisticSpec.model_validate({**raw, "match_threshold": threshold})


def run_custodia(records: pa.Table) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    model = train_model(records, spec())
    pairs = predict_pairs(records, model, spec(0.5))
    triples = list(
        zip(
            pairs.column("left_record").to_pylist(),
            pairs.column("right_record").to_pylist(),
            pairs.column("match_probability").to_pylist(),
            strict=True,
        )
    )
    edges = [(a, b) for a, b, p in triples if p >= THRESHOLD]
    return connected_components(records.column("record_id").to_pylist(), edges), triples


def run_splink(records: pa.Table) -> tuple[dict[str, str], list[tuple[str, str, float]]]:
    empty_as_null = {
        name: pa.array([v or None for v in records.column(name).to_pylist()], pa.string())
        for name in records.column_names
    }
    db_api = DuckDBAPI()
    frame = db_api.register(pa.table(empty_as_null))
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y-%m-%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]).configure(
                term_frequency_adjustments=True
            ),
        ],
        blocking_rules_to_generate_predictions=[
            block_on(c)
            for c in ("soc_sec_id", "given_name", "surname", "date_of_birth", "postcode")
        ],
    )
    linker = Linker(frame, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
    for rule in ("date_of_birth", "postcode"):
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(rule))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    table = clusters.as_pyarrow_table()
    assignment = dict(
        zip(
            table.column("record_id").to_pylist(),
            table.column("cluster_id").to_pylist(),
            strict=True,
        )
    )
    scored = predictions.as_pyarrow_table()
    triples = list(
        zip(
            scored.column("record_id_l").to_pylist(),
            scored.column("record_id_r").to_pylist(),
            scored.column("match_probability").to_pylist(),
            strict=True,
        )
    )
    return assignment, triples


def accuracy(
    truth: dict[str, str], clusters: dict[str, str], triples: list[tuple[str, str, float]]
) -> dict[str, Any]:
    true_pairs = pairs_within(Counter(truth.values()).values())
    out: dict[str, Any] = {"clusters_at_0.9": _rounded(pairwise_scores(truth, clusters))}
    for threshold in (0.9, 0.5):
        kept = [(a, b) for a, b, p in triples if p >= threshold]
        correct = sum(truth[a] == truth[b] for a, b in kept)
        out[f"pairs_at_{threshold}"] = _rounded(scores_from_counts(true_pairs, len(kept), correct))
    return out


def _rounded(scores: Any) -> dict[str, Any]:
    return {
        "precision": round(scores.precision, 5),
        "recall": round(scores.recall, 5),
        "f1": round(scores.f1, 5),
        "true_pairs": scores.true_pairs,
        "predicted_pairs": scores.predicted_pairs,
        "correct_pairs": scores.correct_pairs,
    }


SIDES = (("custodia", run_custodia), ("splink", run_splink))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("splink").setLevel(logging.ERROR)
    seconds: dict[str, list[float]] = {"custodia": [], "splink": []}
    results: dict[str, Any] = {}
    for _ in range(args.repeats):
        for side, run in SIDES:
            with Stopwatch() as watch:
                records, truth = load()
                clusters, triples = run(records)
            seconds[side].append(watch.seconds)
            results[side] = accuracy(truth, clusters, triples)
    medians = {side: statistics.median(values) for side, values in seconds.items()}
    records2, truth2 = load("dataset2.csv")
    febrl2 = {side: accuracy(truth2, *run(records2)) for side, run in SIDES}
    save(
        "identity_febrl",
        {
            "records": 5000,
            "repeats": args.repeats,
            "custodia_seconds": round(medians["custodia"], 2),
            "splink_seconds": round(medians["splink"], 2),
            "ratio_custodia_to_splink": round(medians["custodia"] / medians["splink"], 3),
            "all_seconds": {k: [round(v, 2) for v in vs] for k, vs in seconds.items()},
            "custodia_accuracy": results["custodia"],
            "splink_accuracy": results["splink"],
            "febrl2_custodia_accuracy": febrl2["custodia"],
            "febrl2_splink_accuracy": febrl2["splink"],
        },
    )


if __name__ == "__main__":
    main()

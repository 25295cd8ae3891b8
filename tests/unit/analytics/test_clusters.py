"""Clusters: k by silhouette on obvious groups, errors on too few profiles, stable labels."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from custodia.analytics.cluster_profiles import cluster_results
from custodia.analytics.clusters import (
    ClusterParams,
    PreviousCluster,
    fit_clusters,
    stable_labels,
    transformed,
)
from custodia.core.errors import ValidationError

FEATURES = ["recency_days", "frequency", "monetary"]


def groups(seed: int = 1, sizes: tuple[int, ...] = (60, 40, 20)) -> np.ndarray:
    """Three well separated kinds of buyer: lapsed one-timers, regulars, big spenders."""
    rng = np.random.default_rng(seed)
    centers = [(300, 1, 200), (60, 4, 2_000), (10, 12, 20_000)][: len(sizes)]
    parts = [
        np.column_stack([
            rng.normal(r, 8, size=n).clip(0), rng.integers(f, f + 2, size=n),
            rng.normal(m, m * 0.1, size=n),
        ])
        for (r, f, m), n in zip(centers, sizes, strict=True)
    ]  # fmt: skip
    return np.vstack(parts)


def test_silhouette_finds_the_planted_groups_and_sizes_name_them() -> None:
    fit = fit_clusters(FEATURES, groups(), ClusterParams(k_min=2, k_max=6))
    assert fit.k == 3 and fit.chosen_by == "silhouette" and set(fit.silhouettes) == {2, 3, 4, 5, 6}
    assert fit.silhouettes[3] == max(fit.silhouettes.values()) > 0.6
    labels = stable_labels(fit, [])
    sizes = {int(labels[i]): int((fit.assignments == i).sum()) for i in range(fit.k)}
    assert sizes == {1: 60, 2: 40, 3: 20}  # first run: largest cluster first


def test_a_later_run_keeps_labels_by_matching_centroids() -> None:
    params = ClusterParams(k=3)
    first = fit_clusters(FEATURES, groups(seed=1), params)
    labels = stable_labels(first, [])
    previous = _previous(first, labels, groups(seed=1))
    # the next month: other people, the big spenders now the largest group
    second = fit_clusters(FEATURES, groups(seed=2, sizes=(20, 40, 70)), params)
    again = stable_labels(second, previous)
    spend = {int(again[i]): second.centroids[i][2] for i in range(3)}
    assert max(spend, key=spend.__getitem__) == 3  # big spenders keep label 3, not "1"
    more = fit_clusters(FEATURES, groups(seed=3), ClusterParams(k=4))
    grown = stable_labels(more, previous)
    assert sorted(grown.tolist()) == [1, 2, 3, 4]  # the new cluster takes the next number
    other = stable_labels(first, [PreviousCluster(7, {"recency_days": 1.0})])
    assert sorted(other.tolist()) == [1, 2, 3]  # other features: fresh labels


def _previous(fit, labels, matrix) -> list[PreviousCluster]:  # type: ignore[no-untyped-def]
    units = transformed(FEATURES, matrix)
    return [
        PreviousCluster(
            int(labels[i]),
            dict(zip(FEATURES, units[fit.assignments == i].mean(axis=0), strict=True)),
        )
        for i in range(fit.k)
    ]


@pytest.mark.parametrize(
    ("params", "rows", "field", "message"),
    [
        ({"k": 5}, 4, "k", "k: 5 is larger than the number of profiles measured (4)"),
        ({"k": 3}, 10, "k", "k: 3 is larger than the number of distinct feature points (2)"),
        ({"k_min": 4}, 4, "k_min", "needs at least 5 profiles with distinct feature values"),
    ],
)
def test_too_few_profiles_is_a_clear_error(
    params: dict[str, int], rows: int, field: str, message: str
) -> None:
    matrix = groups()[:rows] if rows == 4 else np.array([[1, 1, 10.0], [90, 2, 50.0]] * 5)
    with pytest.raises(ValidationError) as caught:
        fit_clusters(FEATURES, matrix, ClusterParams(**params))
    assert caught.value.field == field and message in str(caught.value)


def test_params_expand_rfm_and_check_the_k_range() -> None:
    params = ClusterParams(features=["rfm", "recency", "orders_90d"])
    assert params.feature_names() == [*FEATURES, "orders_90d"]
    assert params.trait_names() == ["orders_90d"]
    with pytest.raises(ValueError, match="k_max"):
        ClusterParams(k_min=5, k_max=3)
    with pytest.raises(ValueError, match="features"):
        ClusterParams(features=["Bad-Name"])


def test_cluster_profiles_in_original_units_with_typical_tier() -> None:
    matrix = groups()
    fit = fit_clusters(FEATURES, matrix, ClusterParams(k=3))
    labels = stable_labels(fit, [])
    n = matrix.shape[0]
    rows = pa.table(
        {
            "profile_id": [f"p{i:03d}" for i in range(n)],
            "recency_days": matrix[:, 0].astype(int), "frequency": matrix[:, 1].astype(int),
            "monetary": matrix[:, 2],
            "tier": ["已流失"] * 60 + ["活跃客户"] * 40 + ["高价值复购客户"] * 20,
        }
    )  # fmt: skip
    assigned, profiles, summary = cluster_results(rows, FEATURES, matrix, fit, labels)
    assert assigned.num_rows == n and set(assigned.column("cluster").to_pylist()) == {1, 2, 3}
    by_label = {r["cluster"]: r for r in profiles.to_pylist()}
    assert (
        by_label[3]["typical_tier"] == "高价值复购客户" and by_label[3]["typical_tier_share"] == 1
    )
    assert by_label[3]["monetary"] == pytest.approx(20_000, rel=0.05)
    assert json.loads(by_label[1]["tiers"]) == {"已流失": 60}
    assert json.loads(by_label[1]["centroid"])["recency_days"] == pytest.approx(300, abs=5)
    assert summary["k"] == 3 and summary["profiles"] == n and summary["chosen_by"] == "given"

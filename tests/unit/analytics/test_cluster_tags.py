"""Typical tags of clusters: share, lift, the thresholds, the ranking, and the table column."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from custodia.analytics.cluster_profiles import cluster_results
from custodia.analytics.cluster_tags import TAG_MIN_PROFILES, TagRule, TypicalTag, typical_tags
from custodia.analytics.clusters import ClusterParams, fit_clusters, stable_labels

SIZES = {1: 60, 2: 40}  # 100 profiles clustered


def ranked(carriers: list[tuple[int, str, int]], **rule: float) -> dict[int, list[str]]:
    found = typical_tags(carriers, SIZES, TagRule(**rule))  # type: ignore[arg-type]
    return {cluster: [t.tag for t in tags] for cluster, tags in found.items()}


def test_share_and_lift_against_all_clustered_profiles() -> None:
    found = typical_tags([(1, "女性", 45), (2, "女性", 5)], SIZES, TagRule())
    # share 45/60 = 0.75; overall 50/100 = 0.5; lift 1.5
    assert found[1] == [TypicalTag("女性", 45, 0.75, 1.5)]
    assert found[2] == []  # 5/40 = 0.125: below the minimum share, and lift 0.25
    assert found[1][0].as_dict() == {"tag": "女性", "profiles": 45, "share": 0.75, "lift": 1.5}


def test_a_tag_everyone_carries_is_not_typical_of_anyone() -> None:
    carriers = [
        (1, "中价值客户", 60),
        (2, "中价值客户", 40),
        (1, "金卡会员", 30),
        (2, "金卡会员", 4),
    ]
    assert ranked(carriers) == {1: ["金卡会员"], 2: []}  # lift 1.0 vs 0.5/0.34 = 1.47
    assert ranked(carriers, min_lift=1.0) == {1: ["金卡会员", "中价值客户"], 2: ["中价值客户"]}


def test_ranked_by_lift_then_share_then_tag_and_cut_at_top() -> None:
    carriers = [
        (1, "a", 30), (2, "a", 2),  # share 0.5, lift 0.5/0.32 = 1.5625
        (1, "b", 24), (2, "b", 1),  # share 0.4, lift 0.4/0.25 = 1.6
        (1, "c", 12), (2, "c", 0),  # share 0.2, lift 1.6667
        (1, "d", 12), (2, "d", 0),  # same as c: the name decides
        (1, "e", 36), (2, "e", 4),  # share 0.6, lift 1.5
    ]  # fmt: skip
    assert ranked(carriers)[1] == ["c", "d", "b", "a", "e"]
    assert ranked(carriers, top=2)[1] == ["c", "d"]
    assert ranked(carriers, top=0) == {1: [], 2: []}
    assert ranked(carriers, min_share=0.45)[1] == ["a", "e"]
    assert ranked(carriers, min_lift=1.6)[1] == ["c", "d", "b"]


def test_a_tag_of_a_handful_of_profiles_is_never_reported() -> None:
    sizes = {1: 6, 2: 94}
    few = TAG_MIN_PROFILES - 1
    found = typical_tags([(1, "投诉:refund", few), (2, "投诉:refund", 1)], sizes, TagRule())
    assert found == {1: [], 2: []}  # share 4/6 and lift 13 but only 4 people
    enough = typical_tags([(1, "投诉:refund", 5), (2, "投诉:refund", 1)], sizes, TagRule())
    assert [t.tag for t in enough[1]] == ["投诉:refund"]


def test_clusters_without_carriers_and_unknown_clusters() -> None:
    found = typical_tags([(9, "x", 50)], SIZES, TagRule())
    assert found == {1: [], 2: []}  # a count for a cluster not in the run is ignored
    assert typical_tags([], {}, TagRule()) == {}


def test_params_carry_the_rule_and_refuse_a_lift_below_one() -> None:
    params = ClusterParams(top_tags=3, tag_min_share=0.1, tag_min_lift=2)
    assert params.tag_rule() == TagRule(3, 0.1, 2.0, TAG_MIN_PROFILES)
    for bad in ({"tag_min_lift": 0.9}, {"tag_min_share": 1.5}, {"top_tags": 21}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ClusterParams(**bad)  # type: ignore[arg-type]


def test_cluster_profiles_store_typical_tags_as_json_or_null() -> None:
    rng = np.random.default_rng(3)
    matrix = np.vstack([
        np.column_stack([rng.normal(300, 5, 30), np.ones(30), rng.normal(200, 20, 30)]),
        np.column_stack([rng.normal(10, 5, 20), np.full(20, 8), rng.normal(9000, 500, 20)]),
    ])  # fmt: skip
    fit = fit_clusters(["recency_days", "frequency", "monetary"], matrix, ClusterParams(k=2))
    labels = stable_labels(fit, [])
    rows = pa.table({
        "profile_id": [f"p{i}" for i in range(50)], "recency_days": matrix[:, 0].astype(int),
        "frequency": matrix[:, 1].astype(int), "monetary": matrix[:, 2], "tier": ["t"] * 50,
    })  # fmt: skip
    features = ["recency_days", "frequency", "monetary"]
    tags = {2: [TypicalTag("高价值客户", 18, 0.9, 2.5)]}
    _, profiles, summary = cluster_results(rows, features, matrix, fit, labels, tags)
    stored = {r["cluster"]: r["typical_tags"] for r in profiles.to_pylist()}
    assert stored[1] == "[]" and "高价值客户" in stored[2]  # Chinese kept as is
    assert json.loads(stored[2]) == [
        {"tag": "高价值客户", "profiles": 18, "share": 0.9, "lift": 2.5}
    ]
    assert [c["typical_tags"] for c in summary["clusters"]] == [[], [json.loads(stored[2])[0]]]
    _, untagged, summary = cluster_results(rows, features, matrix, fit, labels)
    assert untagged.column("typical_tags").to_pylist() == [None, None]
    assert [c["typical_tags"] for c in summary["clusters"]] == [[], []]

"""Union-find with identity guards: the merges it makes and the ones it refuses."""

from __future__ import annotations

from custodia.identity.clusters import GuardedClusterer, connected_components


def test_connected_components_names_each_cluster_by_its_smallest_record() -> None:
    clusters = connected_components(["c", "a", "b", "d"], [("c", "b"), ("b", "a")])
    assert clusters == {"a": "a", "b": "a", "c": "a", "d": "d"}


def test_two_different_resident_ids_never_merge_even_through_a_third_record() -> None:
    clusterer = GuardedClusterer(guarded={"resident_id"}, limits={"resident_id": 1})
    clusterer.add_record("r1", [("resident_id", "A"), ("phone", "+861")])
    clusterer.add_record("r2", [("resident_id", "B")])
    clusterer.add_record("r3", [("phone", "+861")])
    assert clusterer.link("r1", "r3").accepted
    outcome = clusterer.link("r3", "r2")
    assert not outcome.accepted
    assert outcome.reason == "guard:resident_id"
    assert clusterer.find("r2") != clusterer.find("r1")


def test_same_resident_id_on_both_sides_is_not_a_conflict() -> None:
    clusterer = GuardedClusterer(guarded={"resident_id"}, limits={"resident_id": 1})
    clusterer.add_record("r1", [("resident_id", "A")])
    clusterer.add_record("r2", [("resident_id", "A"), ("phone", "+862")])
    assert clusterer.link("r1", "r2").accepted
    assert clusterer.link("r2", "r1").reason == "already_linked"


def test_limit_per_type_refuses_the_union_that_would_exceed_it() -> None:
    clusterer = GuardedClusterer(limits={"phone": 2})
    for i in range(3):
        clusterer.add_record(f"r{i}", [("phone", f"p{i}"), ("email", "shared@example.com")])
    assert clusterer.link("r0", "r1").accepted
    assert clusterer.link("r1", "r2").reason == "limit:phone"


def test_cannot_link_pairs_keep_a_split_record_apart() -> None:
    clusterer = GuardedClusterer(cannot_link=[("r1", "r3")])
    for record in ("r1", "r2", "r3"):
        clusterer.add_record(record, [("phone", "same")])
    assert clusterer.link("r1", "r2").accepted
    assert clusterer.link("r2", "r3").reason == "cannot_link"
    assert sorted(map(sorted, clusterer.components().values())) == [["r1", "r2"], ["r3"]]

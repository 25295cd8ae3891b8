"""Stable profile ids: joins keep, merges keep the oldest, splits keep the majority."""

from __future__ import annotations

from datetime import UTC, datetime

from custodia.identity.profile_ids import assign_profile_ids, new_profile_id

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)


def test_new_clusters_get_ids_derived_from_their_smallest_record() -> None:
    plan = assign_profile_ids({"x": ["r2", "r1"]}, previous={}, created={}, taken=set())
    assert plan.assignment == {"r1": new_profile_id("r1", ()), "r2": new_profile_id("r1", ())}
    assert plan.created == [new_profile_id("r1", ())]


def test_a_new_record_joins_the_existing_profile() -> None:
    plan = assign_profile_ids(
        {"x": ["r1", "r9"]}, previous={"r1": "p_a", "r9": None}, created={"p_a": T1}, taken={"p_a"}
    )
    assert plan.assignment == {"r1": "p_a", "r9": "p_a"}
    assert not plan.created
    assert not plan.merged


def test_merge_keeps_the_oldest_id_and_the_other_becomes_an_alias() -> None:
    plan = assign_profile_ids(
        {"x": ["r1", "r2"]},
        previous={"r1": "p_new", "r2": "p_old"},
        created={"p_new": T2, "p_old": T1},
        taken={"p_new", "p_old"},
    )
    assert set(plan.assignment.values()) == {"p_old"}
    assert plan.merged == {"p_new": "p_old"}


def test_split_keeps_the_id_with_the_majority_and_issues_a_fresh_one() -> None:
    plan = assign_profile_ids(
        {"a": ["r1", "r2"], "b": ["r3"]},
        previous={"r1": "p", "r2": "p", "r3": "p"},
        created={"p": T1},
        taken={"p"},
    )
    assert plan.assignment["r1"] == plan.assignment["r2"] == "p"
    assert plan.assignment["r3"] != "p"
    assert plan.split_from == {plan.assignment["r3"]: "p"}


def test_fresh_ids_never_reuse_an_issued_id() -> None:
    taken = {new_profile_id("r1", ())}
    assert new_profile_id("r1", taken) not in taken

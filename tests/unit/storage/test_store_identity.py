"""The identity graph tables on SQLite and PostgreSQL: bulk writes, lookups, aliases, undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custodia.storage.store import OperationalStore
from custodia.storage.store_identity import IdentityGraphStore

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _record(record_id: str, source: str = "crm") -> dict[str, object]:
    return {
        "record_id": record_id,
        "source": source,
        "kind": "customer",
        "flags": [{"field": "phone", "reason": "phone.invalid"}] if record_id == "r3" else None,
        "first_seen": NOW - timedelta(days=30),
        "last_seen": NOW,
        "resolved_at": NOW,
    }


def _edge(edge_id: str, left: str, right: str) -> dict[str, object]:
    return {
        "edge_id": edge_id,
        "left_record": left,
        "right_record": right,
        "rule": "same_phone",
        "score": 1.0,
        "evidence": {"identifier": "phone", "说明": "同一手机号"},
        "created_at": NOW,
        "created_by": "run_1",
    }


def test_records_identifiers_and_lookup(operational_store: OperationalStore) -> None:
    graph = IdentityGraphStore(operational_store)
    graph.upsert_records([_record("r1"), _record("r2"), _record("r3", "shop")])
    graph.replace_identifiers(
        ["r1", "r2", "r3"],
        [("r1", "phone", "+8613812345678"), ("r2", "phone", "+8613812345678"),
         ("r3", "email", "张@example.com")],
    )  # fmt: skip
    assert sorted(graph.records_holding([("phone", "+8613812345678")])) == [
        ("r1", "phone", "+8613812345678"),
        ("r2", "phone", "+8613812345678"),
    ]
    assert graph.lookup("phone", "+8613812345678") is None  # not clustered yet
    graph.assign({"r1": "p1", "r2": "p1", "r3": "p2"})
    graph.register_profiles([
        {"profile_id": p, "created_at": NOW, "merged_into": None, "merged_at": None,
         "record_count": n, "traits": {"name": {"value": "张三"}}, "updated_at": NOW}
        for p, n in (("p1", 2), ("p2", 1))
    ])  # fmt: skip
    assert graph.lookup("phone", "+8613812345678") == "p1"
    assert graph.lookup("email", "张@example.com") == "p2"
    many = graph.lookup_many("phone", ["+8613812345678", "+8613900000000"])
    assert many == {"+8613812345678": "p1"}  # the same answers, in one read
    assert graph.lookup_many("email", ["张@example.com"]) == {"张@example.com": "p2"}
    assert graph.records(["r3"])[0]["flags"] == [{"field": "phone", "reason": "phone.invalid"}]
    # replacing identifiers drops the old ones
    graph.replace_identifiers(["r3"], [("r3", "email", "new@example.com")])
    assert graph.identifiers_of(["r3"]) == [("r3", "email", "new@example.com")]
    # upserting a record again keeps its profile
    graph.upsert_records([_record("r1")])
    assert graph.profiles_of(["r1"]) == {"r1": "p1"}


def test_aliases_lead_to_the_live_profile(operational_store: OperationalStore) -> None:
    graph = IdentityGraphStore(operational_store)
    rows = [
        {"profile_id": "old", "created_at": NOW, "merged_into": None, "merged_at": None,
         "record_count": 2, "traits": None, "updated_at": NOW},
        {"profile_id": "new", "created_at": NOW, "merged_into": "old", "merged_at": NOW,
         "record_count": 0, "traits": None, "updated_at": NOW},
    ]  # fmt: skip
    graph.register_profiles(rows)
    assert graph.live_profile("new") == "old"
    assert graph.live_profile("old") == "old"
    assert graph.live_profile("never") is None
    graph.register_profiles([
        {"profile_id": p, "created_at": NOW, "merged_into": into, "merged_at": NOW,
         "record_count": 0, "traits": None, "updated_at": NOW}
        for p, into in (("newer", "new"), ("loop_a", "loop_b"), ("loop_b", "loop_a"),
                        ("lost", "never"))
    ])  # fmt: skip
    live = graph.live_profiles()  # all at once, as live_profile answers one by one
    assert live == {"old": "old", "new": "old", "newer": "old"}
    assert {p: graph.live_profile(p) for p in ("newer", "loop_a", "lost")} == {
        "newer": "old", "loop_a": None, "lost": None,
    }  # fmt: skip


def test_edges_are_append_only_and_undo_is_recorded(operational_store: OperationalStore) -> None:
    graph = IdentityGraphStore(operational_store)
    assert len(graph.add_edges([_edge("e1", "r1", "r2"), _edge("e2", "r2", "r3")])) == 2
    assert graph.add_edges([_edge("e1", "r1", "r2")]) == []  # same evidence: stored once
    assert graph.undo_edges(["e1"], by="steward", at=NOW) == 1
    assert graph.undo_edges(["e1"], by="steward", at=NOW) == 0
    assert graph.add_edges([_edge("e1", "r1", "r2")]) == []  # an undone edge stays undone
    active = graph.edges_touching(["r1"])
    assert active == []
    everything = graph.edges_touching(["r1"], include_undone=True)
    assert [(e.edge_id, e.undone_by) for e in everything] == [("e1", "steward")]
    assert everything[0].evidence == {"identifier": "phone", "说明": "同一手机号"}
    graph.set_refusals({"e2": "guard:resident_id"})
    assert graph.edges_touching(["r3"])[0].refused_reason == "guard:resident_id"


def test_shared_values_and_identifiers_stream_in_order(operational_store: OperationalStore) -> None:
    graph = IdentityGraphStore(operational_store)
    graph.upsert_records([_record(r) for r in ("r1", "r2", "r3", "r4")])
    rows = [
        ("r3", "phone", "+8613800000001"), ("r1", "phone", "+8613800000001"),
        ("r2", "email", "王芳@例子.cn"), ("r4", "email", "王芳@例子.cn"),
        ("r2", "phone", "+8613800000001"), ("r4", "phone", "+8613900000002"),
        ("r1", "member_id", "M1"),
    ]  # fmt: skip
    graph.replace_identifiers(["r1", "r2", "r3", "r4"], rows)
    # values held by one record only (M1, +8613900000002) make no group; holders come sorted,
    # whatever the size of the pages read
    expected = [("email", ["r2", "r4"]), ("phone", ["r1", "r2", "r3"])]
    assert list(graph.shared_values()) == expected
    for batch in range(1, 8):  # pages end inside a value, on its edge, or hold everything
        assert list(graph.shared_values(batch=batch)) == expected
    everything = list(graph.identifiers_by_record(None, batch=2))
    assert [record for record, _held in everything] == ["r1", "r2", "r3", "r4"]
    assert everything[0] == ("r1", [("member_id", "M1"), ("phone", "+8613800000001")])
    assert list(graph.identifiers_by_record(["r4", "r3"])) == [
        ("r3", [("phone", "+8613800000001")]),
        ("r4", [("email", "王芳@例子.cn"), ("phone", "+8613900000002")]),
    ]
    assert sorted(graph.identifiers_of_type("email")) == [
        ("r2", "王芳@例子.cn"),
        ("r4", "王芳@例子.cn"),
    ]

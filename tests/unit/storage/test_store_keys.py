"""Rows of data_keys and blind_indexes on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custodia.core.clock import FrozenClock
from custodia.core.errors import ValidationError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_keys import BlindIndexTable, DataKeyTable, NewDataKey

CLOCK = FrozenClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))


def _key(n: int, customer: str | None = None, kek: str = "kek-1") -> NewDataKey:
    return NewDataKey(f"dk_{n:032x}", customer or f"prf_{n}", kek, f"wrapped-{n}")


def test_a_customer_keeps_the_first_key_stored_for_them(
    operational_store: OperationalStore,
) -> None:
    table = DataKeyTable(operational_store, CLOCK)
    assert table.insert_missing([_key(1), _key(2)], actor="loader") == 2
    assert table.insert_missing([_key(3, customer="prf_1"), _key(4)], actor="loader") == 1

    rows = table.for_customers(["prf_1", "prf_2", "prf_4", "prf_9"])
    assert sorted(rows) == ["prf_1", "prf_2", "prf_4"]
    assert rows["prf_1"].key_id == _key(1).key_id
    assert rows["prf_1"].created_at == CLOCK.now()
    assert table.by_key_ids([_key(3).key_id]) == {}
    created = [e.details for e in AuditLog(operational_store).tail() if e.action == "key.create"]
    assert created == [{"keys": 2}, {"keys": 1}]


def test_lookups_span_more_ids_than_one_query_binds(operational_store: OperationalStore) -> None:
    table = DataKeyTable(operational_store, CLOCK)
    keys = [_key(n) for n in range(1, 1302)]
    assert table.insert_missing(keys, actor="loader") == 1301
    assert len(table.by_key_ids([k.key_id for k in keys])) == 1301
    assert table.live_keys_per_kek() == {"kek-1": 1301}


def test_rewrap_pages_through_old_keys_and_skips_rows_changed_meanwhile(
    operational_store: OperationalStore,
) -> None:
    table = DataKeyTable(operational_store, CLOCK)
    table.insert_missing([_key(n) for n in range(1, 6)], actor="loader")
    first = table.wrapped_not_under("kek-2", after="", limit=3)
    assert [row.customer_id for row in first] == ["prf_1", "prf_2", "prf_3"]
    table.shred("prf_2", actor="privacy-officer")

    changed = table.rewrap("kek-2", [(row, f"new-{row.customer_id}") for row in first])

    assert changed == 2, "the shredded key is not brought back"
    rows = table.for_customers(["prf_1", "prf_2"])
    assert (rows["prf_1"].kek_id, rows["prf_1"].wrapped_key) == ("kek-2", "new-prf_1")
    assert rows["prf_1"].rewrapped_at == CLOCK.now()
    assert rows["prf_2"].wrapped_key is None
    rest = table.wrapped_not_under("kek-2", after=first[-1].key_id, limit=3)
    assert [row.customer_id for row in rest] == ["prf_4", "prf_5"]
    assert table.live_keys_per_kek() == {"kek-1": 2, "kek-2": 2}


def test_blind_indexes_match_by_type_and_digest(operational_store: OperationalStore) -> None:
    table = BlindIndexTable(operational_store)
    table.add([("prf_1", "phone", "bi1_a"), ("prf_2", "phone", "bi1_a"), ("prf_1", "email", "b")])
    table.add([("prf_1", "phone", "bi1_a")])

    assert table.customers_with("phone", ["bi1_a", "bi1_z"]) == {"bi1_a": ["prf_1", "prf_2"]}
    assert table.customers_with("email", ["bi1_a"]) == {}
    assert table.of_customer("prf_1") == [("email", "b"), ("phone", "bi1_a")]


def test_shred_records_itself_and_counts_what_it_destroyed(
    operational_store: OperationalStore,
) -> None:
    keys, digests = DataKeyTable(operational_store, CLOCK), BlindIndexTable(operational_store)
    keys.insert_missing([_key(1), _key(2)], actor="loader")
    digests.add([("prf_1", "phone", "bi1_a"), ("prf_1", "email", "bi1_b")])

    record = keys.shred("prf_1", actor="privacy-officer")

    assert (record.keys_shredded, record.blind_indexes_deleted) == (1, 2)
    assert (record.at, record.actor) == (CLOCK.now(), "privacy-officer")
    row = keys.for_customers(["prf_1"])["prf_1"]
    assert (row.wrapped_key, row.shredded_at, row.shredded_by) == (
        None,
        CLOCK.now(),
        "privacy-officer",
    )
    assert keys.for_customers(["prf_2"])["prf_2"].wrapped_key == "wrapped-2"
    assert digests.of_customer("prf_1") == []


def test_customer_ids_longer_than_the_column_are_refused() -> None:
    assert DataKeyTable.check_customer_id("prf_1") == "prf_1"
    with pytest.raises(ValidationError, match="customer_id"):
        DataKeyTable.check_customer_id("p" * 65)

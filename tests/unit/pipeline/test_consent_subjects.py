"""Consent across merged profiles (registry merges) and birth dates from golden traits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from custodia.core.clock import FrozenClock
from custodia.pipeline.consent_subjects import RegistryMerges, birth_date_of
from custodia.privacy.consent_ledger import ConsentLedger
from custodia.storage.store import OperationalStore
from custodia.storage.store_identity import IdentityGraphStore

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def merged_store(operational_store: OperationalStore) -> OperationalStore:
    """prf_a merged into prf_b, prf_b into prf_c (a chain); prf_d stands alone."""
    links = {"prf_a": "prf_b", "prf_b": "prf_c", "prf_c": None, "prf_d": None}
    rows = [
        {"profile_id": pid, "created_at": T0, "merged_into": into, "merged_at": into and T0,
         "record_count": 1, "traits": None, "updated_at": T0}
        for pid, into in links.items()
    ]  # fmt: skip
    IdentityGraphStore(operational_store).register_profiles(rows)
    return operational_store


def test_records_of_merged_aliases_count_for_the_survivor(merged_store: OperationalStore) -> None:
    clock = FrozenClock(T0)
    merges = RegistryMerges(IdentityGraphStore(merged_store))
    assert merges.aliases("prf_c") == ["prf_a", "prf_b"]
    assert merges.live(["prf_a", "prf_d", "prf_x"]) == {
        "prf_a": "prf_c", "prf_d": "prf_d", "prf_x": "prf_x",
    }  # fmt: skip
    ledger = ConsentLedger(merged_store, clock=clock, merges=merges)
    ledger.grant("prf_c", "sharing", notice_version="v1", channel="web", recorded_by="t")
    clock.advance(timedelta(minutes=1))
    ledger.withdraw("prf_a", "sharing", channel="app", recorded_by="t")  # made before the merge
    assert not ledger.allowed("prf_c", "sharing")
    assert ledger.allowed_profiles("sharing") == set()
    ledger.grant("prf_b", "analytics", notice_version="v1", channel="web", recorded_by="t")
    ledger.grant("prf_d", "analytics", notice_version="v1", channel="web", recorded_by="t")
    assert ledger.allowed_profiles("analytics") == {"prf_c", "prf_d"}
    assert len(ledger.history("prf_c")) == 3


@pytest.mark.parametrize(
    ("traits", "born"),
    [
        ({"resident_id": {"value": "110105201503011232"}, "birthday": {"value": "2001-01-01"}},
         date(2015, 3, 1)),
        ({"resident_id": {"value": "enc:v1:dk_x:abc"}, "birthday": {"value": "2016-08-08"}},
         date(2016, 8, 8)),
        ({"birthday": {"value": "not a date"}}, None),
        ({}, None),
        (None, None),
    ],
)  # fmt: skip
def test_birth_date_from_the_resident_id_else_the_birthday(
    traits: dict[str, object] | None, born: date | None
) -> None:
    assert birth_date_of(traits) == born

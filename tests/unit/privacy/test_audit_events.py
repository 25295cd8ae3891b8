"""Privacy events: one entry per operation, names and surrogate keys only, read back as a trail.

The personal-data detector (:class:`PiiDetector`) is the judge: the raw values refused here are
ones it finds, and the entries every privacy action writes are ones where it finds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custodia.core.clock import FrozenClock
from custodia.core.errors import ValidationError
from custodia.core.ids import new_id
from custodia.identity.profile_ids import new_profile_id
from custodia.privacy.audit_events import (
    Outcome,
    PrivacyAction,
    PrivacyEvent,
    check_surrogate,
    record_privacy_event,
)
from custodia.privacy.pii_detect import PiiDetector
from custodia.privacy.usage_trail import usage_trail
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import canonical_json

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PHONE, RESIDENT_ID, EMAIL = "13812349001", "11010519900305456X", "wangfang@example.com"
RAW_VALUES = [
    PHONE,
    "+86 138 1234 9001",
    RESIDENT_ID,
    EMAIL,
    "6222021234567890128",  # a Luhn-valid bank card
    "prof_13812349001",  # a prefix glued onto a phone is still the phone
    "u_11010519900305456X",
    "王芳",
    "Wang Fang",
]
DETECTABLE = [PHONE, "+86 138 1234 9001", RESIDENT_ID, EMAIL, "6222021234567890128"]


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector()


def _every_kind_of_event(profile: str) -> list[PrivacyEvent]:
    """What each privacy operation writes, with realistic surrogate keys."""
    approval, receipt, request = new_id("apr"), new_id("rcpt"), new_id("req")
    return [
        PrivacyEvent(PrivacyAction.READ, "profiles", subject_ref=profile, purpose="service",
                     fields=("phone", "name")),
        PrivacyEvent(PrivacyAction.UNMASK, "profiles", subject_ref=profile, purpose="fraud_check",
                     fields=("resident_id", "profiles.phone"), refs={"approval_id": approval}),
        PrivacyEvent(PrivacyAction.UNMASK, "profiles", subject_ref=profile, purpose="fraud_check",
                     fields=("resident_id",), outcome=Outcome.REFUSED, rule="approval.expired"),
        PrivacyEvent(PrivacyAction.EXPORT, "profiles", subject_ref=profile,
                     purpose="access_request", refs={"request_id": request},
                     counts={"rows": 42}),
        PrivacyEvent(PrivacyAction.ERASE, "profiles", subject_ref=profile,
                     purpose="erasure_request", refs={"receipt_id": receipt, "request_id": request},
                     counts={"lake_rows": 17, "store_rows": 5}),
        PrivacyEvent(PrivacyAction.EXPIRE, "customer_records", subject_ref=profile,
                     purpose="retention", counts={"rows": 3}),
        PrivacyEvent(PrivacyAction.CONSENT_CHANGE, "consents", subject_ref=profile,
                     purpose="marketing", refs={"consent_id": new_id("cns")}),
        PrivacyEvent(PrivacyAction.POLICY_CHANGE, "masking_policy", refs={"version": "v-3"}),
        PrivacyEvent(PrivacyAction.KEY_ROTATE, "data_keys", refs={"kek": "kek-2"},
                     counts={"rewrapped": 1000}),
        PrivacyEvent(PrivacyAction.KEY_SHRED, "data_keys", subject_ref=profile,
                     refs={"key_id": new_id("dk")}),
        PrivacyEvent(PrivacyAction.APPROVAL_DECIDE, "approvals", subject_ref=profile,
                     purpose="fraud_check", fields=("resident_id",),
                     refs={"approval_id": approval}),
    ]  # fmt: skip


def test_details_hold_only_what_is_set() -> None:
    event = PrivacyEvent(
        PrivacyAction.UNMASK,
        "profiles",
        subject_ref="prof_1a2b",
        purpose="fraud_check",
        fields=("phone", "resident_id"),
        refs={"approval_id": "apr_9f"},
    )
    assert event.details() == {
        "outcome": "done",
        "purpose": "fraud_check",
        "fields": ["phone", "resident_id"],
        "refs": {"approval_id": "apr_9f"},
    }
    assert PrivacyEvent("key.rotate", "data_keys").details() == {"outcome": "done"}


@pytest.mark.parametrize("raw", RAW_VALUES)
@pytest.mark.parametrize(
    "slot",
    [
        lambda v: PrivacyEvent("data.unmask", "profiles", subject_ref=v),
        lambda v: PrivacyEvent("data.unmask", "profiles", refs={"approval_id": v}),
        lambda v: PrivacyEvent("data.unmask", "profiles", fields=("phone", v)),
        lambda v: PrivacyEvent("data.unmask", "profiles", purpose=v),
        lambda v: PrivacyEvent("data.unmask", "profiles", rule=v),
        lambda v: PrivacyEvent("data.unmask", v),
        lambda v: PrivacyEvent(v, "profiles"),
    ],
    ids=["subject_ref", "refs", "fields", "purpose", "rule", "resource", "action"],
)
def test_raw_personal_data_is_refused_without_being_echoed(slot: object, raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        slot(raw)  # type: ignore[operator]
    assert raw not in str(caught.value)
    assert raw.replace(" ", "") not in str(caught.value)


def test_the_refused_values_are_personal_data(detector: PiiDetector) -> None:
    for raw in DETECTABLE:
        assert detector.find(f"value: {raw}"), raw  # the samples are real personal data


def test_counts_must_be_integers() -> None:
    with pytest.raises(ValidationError) as caught:
        PrivacyEvent("privacy.erase", "profiles", counts={"rows": "13812349001"})  # type: ignore[dict-item]
    assert caught.value.field == "counts.rows"


def test_surrogate_keys_pass() -> None:
    all_decimal = "prof_66597420773838510710"  # new_profile_id("crm:…"): 1 id in 12,000 looks so
    keys = (new_profile_id("crm:1", ()), all_decimal, new_id("apr"), "kek-2", "crm:9ab1c0", "prf_1")
    for key in keys:
        assert check_surrogate("subject_ref", key) == key


def test_entries_of_every_privacy_action_hold_no_personal_data(
    operational_store: OperationalStore, detector: PiiDetector
) -> None:
    audit = AuditLog(operational_store, FrozenClock(T0))
    profile = new_profile_id("crm:" + PHONE, ())
    events = _every_kind_of_event(profile)
    entries = [record_privacy_event(audit, "token:dpo", event) for event in events]

    assert [e.seq for e in entries] == list(range(1, len(events) + 1))  # one entry per operation
    for entry in audit.tail(100):
        for text in (canonical_json(entry.details), entry.subject_ref or "", entry.action):
            assert detector.find(text) == [], (entry.action, text)
            assert PHONE not in text and RESIDENT_ID not in text and EMAIL not in text


def test_usage_trail_reads_purpose_fields_and_outcome_back(
    operational_store: OperationalStore,
) -> None:
    clock = FrozenClock(T0)
    audit = AuditLog(operational_store, clock)
    mine, theirs, alias = "prof_aaa1", "prof_bbb2", "prof_ccc3"
    for subject in (mine, theirs, alias, mine, mine):
        record_privacy_event(audit, "token:risk-1", PrivacyEvent(
            PrivacyAction.UNMASK, "profiles", subject_ref=subject, purpose="fraud_check",
            fields=("resident_id",)))  # fmt: skip
        clock.advance(timedelta(minutes=1))
    audit.append("steward", "identity.unmerge", "profiles", subject_ref=mine, details=None)

    trail = usage_trail(audit, [mine, alias], limit=3)
    assert [u.seq for u in trail.uses] == [6, 5, 4]
    newest, unmask = trail.uses[0], trail.uses[1]
    assert (newest.action, newest.purpose, newest.fields, newest.outcome) == (
        "identity.unmerge", None, [], None,
    )  # fmt: skip
    assert (unmask.actor, unmask.purpose, unmask.fields, unmask.outcome) == (
        "token:risk-1", "fraud_check", ["resident_id"], "done",
    )  # fmt: skip
    assert unmask.at == T0 + timedelta(minutes=4)
    assert trail.next_before_seq == 4

    older = usage_trail(audit, [mine, alias], limit=3, before_seq=trail.next_before_seq)
    assert ([u.seq for u in older.uses], older.next_before_seq) == ([3, 1], None)


def test_usage_trail_limits(operational_store: OperationalStore) -> None:
    audit = AuditLog(operational_store)
    with pytest.raises(ValidationError):
        usage_trail(audit, ["prof_1"], limit=0)
    with pytest.raises(ValidationError):
        usage_trail(audit, [])

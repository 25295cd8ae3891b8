"""Consent ledger: newest record wins, expiry, minors, GPC, bulk gate, audit (SQLite, Postgres)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from custodia.core.clock import FrozenClock
from custodia.core.errors import ValidationError
from custodia.privacy.consent import Purpose
from custodia.privacy.consent_ledger import ConsentLedger
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import consents

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
KID = date(2015, 3, 1)  # 11 at T0
ADULT = date(1990, 3, 5)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def ledger(operational_store: OperationalStore, clock: FrozenClock) -> ConsentLedger:
    born = {"prf_kid": KID, "prf_adult": ADULT}

    def birth_dates(ids: Sequence[str]) -> dict[str, date]:
        return {pid: born[pid] for pid in ids if pid in born}

    return ConsentLedger(operational_store, clock=clock, birth_dates=birth_dates)


def _grant(ledger: ConsentLedger, pid: str, purpose: str, **kw: object) -> None:
    ledger.grant(pid, purpose, notice_version="v3", channel="web", recorded_by="test", **kw)  # type: ignore[arg-type]


def test_newest_record_per_purpose_wins_and_withdrawal_is_seen_at_once(
    ledger: ConsentLedger, clock: FrozenClock
) -> None:
    assert not ledger.allowed("prf_adult", "marketing")
    _grant(ledger, "prf_adult", "marketing")
    assert ledger.allowed("prf_adult", "marketing")
    assert not ledger.allowed("prf_adult", "analytics")  # purposes are separate
    ledger.withdraw("prf_adult", "marketing", channel="app", recorded_by="test")
    assert not ledger.allowed("prf_adult", "marketing")  # same instant: seq decides
    assert ledger.decision("prf_adult", "marketing").reason == "withdrawn"
    assert ledger.allowed("prf_adult", "marketing", at=T0 - timedelta(seconds=1)) is False
    clock.advance(timedelta(hours=1))
    _grant(ledger, "prf_adult", "marketing")
    assert ledger.allowed("prf_adult", "marketing")
    assert len(ledger.history("prf_adult")) == 3


def test_the_state_as_of_an_earlier_time_ignores_later_records(
    ledger: ConsentLedger, clock: FrozenClock
) -> None:
    _grant(ledger, "prf_adult", "analytics")
    clock.advance(timedelta(days=1))
    ledger.withdraw("prf_adult", "analytics", channel="portal", recorded_by="test")
    assert ledger.allowed("prf_adult", "analytics", at=T0 + timedelta(hours=1))
    assert not ledger.allowed("prf_adult", "analytics")


def test_an_expired_grant_is_no_consent(ledger: ConsentLedger, clock: FrozenClock) -> None:
    _grant(ledger, "prf_adult", "risk", expires_at=T0 + timedelta(days=30))
    assert ledger.allowed("prf_adult", "risk")
    clock.advance(timedelta(days=30))
    assert ledger.decision("prf_adult", "risk").reason == "expired"
    assert ledger.allowed_profiles("risk") == set()


def test_unknown_purpose_and_bad_fields_are_refused_naming_the_field(
    ledger: ConsentLedger, operational_store: OperationalStore
) -> None:
    with pytest.raises(ValidationError) as caught:
        _grant(ledger, "prf_adult", "telemarketing-spam")
    assert caught.value.field == "purpose"
    assert "telemarketing" not in str(caught.value)
    with pytest.raises(ValidationError, match="notice_version"):
        ledger.grant("prf_adult", "marketing", notice_version="", channel="web", recorded_by="t")
    with pytest.raises(ValidationError, match="channel"):
        ledger.withdraw("prf_adult", "marketing", channel="Web Site", recorded_by="t")
    with pytest.raises(ValidationError, match="actor"):
        _grant(ledger, "prf_adult", "marketing", actor="张三")
    with pytest.raises(ValidationError, match="expires_at"):
        _grant(ledger, "prf_adult", "marketing", expires_at=datetime(2027, 1, 1))
    with pytest.raises(ValidationError, match="purpose"):
        ledger.allowed_profiles("spam")
    with operational_store.read() as conn:
        assert conn.execute(select(func.count()).select_from(consents)).scalar_one() == 0


def test_a_refused_submission_is_audited_with_field_and_rule_only(
    ledger: ConsentLedger, operational_store: OperationalStore
) -> None:
    audit = AuditLog(operational_store)
    with pytest.raises(ValidationError, match="status"):
        ledger.submit("prf_adult", status="maybe", purpose="marketing", channel="web",
                      recorded_by="token:agent")  # fmt: skip
    with pytest.raises(ValidationError, match="expires_at"):
        ledger.submit("prf_adult", status="withdrawn", purpose="risk", channel="web",
                      recorded_by="token:agent", expires_at=T0)  # fmt: skip
    with pytest.raises(ValidationError, match="purpose"):
        ledger.submit("prf_adult", status="granted", purpose="13812345678", channel="web",
                      notice_version="v1", recorded_by="token:agent")  # fmt: skip
    entries = audit.tail(10)
    assert [e.action for e in entries] == ["consent.change"] * 3
    assert [e.details for e in entries] == [
        {"outcome": "refused", "rule": "status.known"},
        {"outcome": "refused", "rule": "expires_at.grant_only"},
        {"outcome": "refused", "rule": "purpose.known"},
    ]
    assert "13812345678" not in repr(entries)
    row = ledger.submit("prf_adult", status="granted", purpose="risk", channel="web",
                        notice_version="v1", recorded_by="token:agent")  # fmt: skip
    assert (row.status, row.notice_version) == ("granted", "v1")
    assert audit.tail(1)[0].action == "consent.grant"


def test_minors_need_a_guardian_for_marketing_only(ledger: ConsentLedger) -> None:
    for pid in ("prf_kid", "prf_adult", "prf_unknown_age"):
        _grant(ledger, pid, "marketing")
        _grant(ledger, pid, "analytics")
    assert ledger.state("prf_kid").minor is True
    assert ledger.state("prf_adult").minor is False
    assert ledger.decision("prf_kid", "marketing").reason == "minor_needs_guardian"
    assert ledger.allowed("prf_kid", "analytics")
    assert ledger.allowed_profiles("marketing") == {"prf_adult", "prf_unknown_age"}
    _grant(ledger, "prf_kid", "marketing", actor="guardian")
    assert ledger.allowed("prf_kid", "marketing")
    assert ledger.allowed_profiles("marketing") == {"prf_kid", "prf_adult", "prf_unknown_age"}


def test_minor_by_age_on_the_day(ledger: ConsentLedger) -> None:
    _grant(ledger, "prf_kid", "marketing")
    assert not ledger.allowed("prf_kid", "marketing")
    fourteenth = datetime(2029, 3, 1, tzinfo=UTC)
    assert not ledger.allowed("prf_kid", "marketing", at=fourteenth - timedelta(days=1))
    assert ledger.allowed("prf_kid", "marketing", at=fourteenth)


def test_gpc_withdraws_sharing_once(
    ledger: ConsentLedger, operational_store: OperationalStore
) -> None:
    _grant(ledger, "prf_adult", "sharing")
    assert ledger.honour_gpc("prf_adult", None, recorded_by="api") is None
    assert ledger.honour_gpc("prf_adult", "0", recorded_by="api") is None
    assert ledger.allowed("prf_adult", "sharing")
    row = ledger.honour_gpc("prf_adult", "1", recorded_by="api")
    assert row is not None
    assert (row.channel, row.status, row.purpose) == ("gpc", "withdrawn", "sharing")
    assert not ledger.allowed("prf_adult", "sharing")
    assert ledger.honour_gpc("prf_adult", "1", recorded_by="api") is None
    assert len(ledger.history("prf_adult")) == 2
    assert ledger.honour_gpc("prf_new", "1", recorded_by="api") is not None  # no record yet


def test_personalization_switch(ledger: ConsentLedger) -> None:
    assert ledger.state("prf_adult").personalization is False
    ledger.set_personalization(
        "prf_adult", True, channel="app", notice_version="v3", recorded_by="t"
    )
    assert ledger.state("prf_adult").personalization is True
    ledger.set_personalization("prf_adult", False, channel="app", recorded_by="t")
    state = ledger.state("prf_adult")
    assert state.personalization is False
    assert state.purposes[Purpose.PERSONALIZATION].reason == "withdrawn"
    with pytest.raises(ValidationError, match="notice_version"):
        ledger.set_personalization("prf_adult", True, channel="app", recorded_by="t")


def test_each_change_writes_exactly_one_audit_entry_without_personal_data(
    ledger: ConsentLedger, operational_store: OperationalStore
) -> None:
    audit = AuditLog(operational_store)
    before = len(audit.tail(1000))
    granted = ledger.grant("prf_adult", "sensitive", notice_version="v3", channel="store",
                           actor="agent:王芳", recorded_by="test")  # fmt: skip
    withdrawn = ledger.withdraw("prf_adult", "sensitive", channel="store", recorded_by="clerk")
    entries = audit.tail(1000)[before:]
    assert [e.action for e in entries] == ["consent.grant", "consent.withdraw"]
    assert [e.actor for e in entries] == ["test", "clerk"]
    assert all(e.subject_ref == "prf_adult" and e.resource == "consents" for e in entries)
    assert [e.details for e in entries] == [
        {"outcome": "done", "purpose": "sensitive", "refs": {"consent_id": row.consent_id}}
        for row in (granted, withdrawn)
    ]
    assert "王芳" not in repr(entries)
    assert audit.verify().ok

"""The consent ledger: record choices, read a profile's current state, gate every use.

Segments, exports, destinations and recommendations ask :meth:`ConsentLedger.allowed` (one
profile) or :meth:`ConsentLedger.allowed_profiles` (everyone, in one query) right before they
use data. Nothing is cached between calls, so a withdrawal committed before the next use is
honoured by it. Each recorded choice writes exactly one audit entry, in the same transaction.

Birth dates (for the minors rule) come from a ``birth_dates`` function the caller supplies, since
they live in the identity domain's golden profile; without one nobody counts as a minor.

Example::

    ledger = ConsentLedger(store, birth_dates=lambda ids: {})
    ledger.grant("prf_1", "marketing", notice_version="v3", channel="web", recorded_by="cli:ana")
    ledger.allowed("prf_1", "marketing")            # True
    ledger.withdraw("prf_1", "marketing", channel="app", recorded_by="token:portal")
    ledger.allowed("prf_1", "marketing")            # False
    ledger.honour_gpc("prf_1", "1", recorded_by="token:portal")   # withdraws sharing once
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Protocol

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import ValidationError
from custodia.core.ids import new_id
from custodia.privacy.audit_events import Outcome, PrivacyAction, PrivacyEvent
from custodia.privacy.consent import (
    CUSTOMER,
    ConsentChoice,
    ConsentDecision,
    ConsentStatus,
    Purpose,
    decide,
    is_minor,
    parse_purpose,
)
from custodia.storage.store import OperationalStore
from custodia.storage.store_consents import ConsentRow, ConsentTable, NewConsentRow

__all__ = [
    "BirthDates",
    "ConsentLedger",
    "ConsentState",
    "NoMerges",
    "ProfileMerges",
    "PurposeState",
]

BirthDates = Callable[[Sequence[str]], Mapping[str, date]]
"""profile ids -> birth date of those whose birth date is known."""


class ProfileMerges(Protocol):
    """Which profile ids are one person, for records made before identity resolution merged
    two profiles: the newest record of the whole group wins."""

    def aliases(self, profile_id: str) -> list[str]:
        """The ids merged (directly or through others) into ``profile_id``."""
        ...

    def live(self, profile_ids: Sequence[str]) -> Mapping[str, str]:
        """id -> the live profile it now belongs to (ids that are live map to themselves)."""
        ...


class NoMerges:
    """Every profile id is its own person (a ledger used without identity resolution)."""

    def aliases(self, profile_id: str) -> list[str]:
        return []

    def live(self, profile_ids: Sequence[str]) -> Mapping[str, str]:
        return {pid: pid for pid in profile_ids}


GPC_CHANNEL: Final = "gpc"


@dataclass(frozen=True, slots=True)
class PurposeState:
    """One purpose of one profile: the decision and the record it rests on (if any)."""

    purpose: Purpose
    allowed: bool
    reason: str
    record: ConsentRow | None


@dataclass(frozen=True, slots=True)
class ConsentState:
    """A profile's consents as of ``at``; ``personalization`` is the customer's switch."""

    profile_id: str
    at: datetime
    minor: bool
    purposes: dict[Purpose, PurposeState]

    @property
    def personalization(self) -> bool:
        """The personalization switch: on only while personalization is granted."""
        return self.purposes[Purpose.PERSONALIZATION].allowed


class ConsentLedger:
    """Record consent choices and answer "may this profile's data be used for this purpose"."""

    def __init__(
        self,
        store: OperationalStore,
        *,
        clock: Clock | None = None,
        birth_dates: BirthDates | None = None,
        merges: ProfileMerges | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._table = ConsentTable(store, self._clock)
        self._birth_dates = birth_dates or (lambda _ids: {})
        self._merges = merges or NoMerges()

    def record(self, choice: ConsentChoice, *, recorded_by: str) -> ConsentRow:
        """Append a validated choice and its one audit entry (a privacy event: purpose and the
        record's id, no personal data)."""
        consent_id = new_id("cns")
        granted = choice.status is ConsentStatus.GRANTED
        event = PrivacyEvent(
            f"consent.{'grant' if granted else 'withdraw'}", "consents",
            subject_ref=choice.profile_id, purpose=choice.purpose.value,
            refs={"consent_id": consent_id},
        )  # fmt: skip
        new = NewConsentRow(
            consent_id, choice.profile_id, choice.purpose.value, choice.status.value,
            choice.notice_version, choice.channel, choice.actor, choice.expires_at,
        )  # fmt: skip
        return self._table.append(
            new, recorded_by=recorded_by, action=event.action, details=event.details()
        )

    def submit(
        self,
        profile_id: str,
        *,
        status: str,
        purpose: str,
        channel: str,
        recorded_by: str,
        notice_version: str | None = None,
        actor: str = CUSTOMER,
        expires_at: datetime | None = None,
    ) -> ConsentRow:
        """Validate raw input and record it; a refused choice is audited, then re-raised."""
        with self.refusals_audited(profile_id, recorded_by=recorded_by):
            choice = ConsentChoice.parse(
                profile_id, status=status, purpose=purpose, channel=channel,
                notice_version=notice_version, actor=actor, expires_at=expires_at,
            )  # fmt: skip
        return self.record(choice, recorded_by=recorded_by)

    @contextmanager
    def refusals_audited(self, profile_id: str, *, recorded_by: str) -> Iterator[None]:
        """Audit a ValidationError raised inside as one ``consent.change`` entry with outcome
        ``refused`` and rule ``FIELD.RULE`` (never the value), and let it propagate."""
        try:
            yield
        except ValidationError as exc:
            event = PrivacyEvent(
                PrivacyAction.CONSENT_CHANGE, "consents", subject_ref=profile_id,
                outcome=Outcome.REFUSED, rule=f"{exc.field}.{exc.rule}",
            )  # fmt: skip
            self._table.audit(recorded_by, event.action, profile_id, event.details())
            raise

    def grant(
        self,
        profile_id: str,
        purpose: str,
        *,
        notice_version: str,
        channel: str,
        recorded_by: str,
        actor: str = CUSTOMER,
        expires_at: datetime | None = None,
    ) -> ConsentRow:
        """Record that ``actor`` granted ``purpose`` after seeing notice ``notice_version``."""
        choice = ConsentChoice.grant(
            profile_id, purpose, notice_version=notice_version, channel=channel, actor=actor,
            expires_at=expires_at,
        )  # fmt: skip
        return self.record(choice, recorded_by=recorded_by)

    def withdraw(
        self,
        profile_id: str,
        purpose: str,
        *,
        channel: str,
        recorded_by: str,
        actor: str = CUSTOMER,
    ) -> ConsentRow:
        """Record a withdrawal; it takes effect for every check that starts after it returns."""
        choice = ConsentChoice.withdraw(profile_id, purpose, channel=channel, actor=actor)
        return self.record(choice, recorded_by=recorded_by)

    def set_personalization(
        self,
        profile_id: str,
        on: bool,
        *,
        channel: str,
        recorded_by: str,
        notice_version: str | None = None,
        actor: str = CUSTOMER,
    ) -> ConsentRow:
        """The customer's personalization switch: on grants, off withdraws ``personalization``."""
        if not on:
            return self.withdraw(profile_id, Purpose.PERSONALIZATION, channel=channel,
                                 recorded_by=recorded_by, actor=actor)  # fmt: skip
        return self.grant(
            profile_id, Purpose.PERSONALIZATION, notice_version=notice_version or "",
            channel=channel, recorded_by=recorded_by, actor=actor,
        )  # fmt: skip

    def honour_gpc(
        self, profile_id: str, header: str | None, *, recorded_by: str
    ) -> ConsentRow | None:
        """Treat ``Sec-GPC: 1`` as the customer withdrawing ``sharing`` (channel ``gpc``).

        Returns the withdrawal, or None when the header is absent or not ``1``, or sharing is
        already withdrawn (so a browser sending the header on every request writes once).
        """
        if header is None or header.strip() != "1":
            return None
        latest = self._latest(profile_id, self._clock.now())
        current = latest.get(Purpose.SHARING.value)
        if current is not None and current.status == ConsentStatus.WITHDRAWN:
            return None
        return self.withdraw(
            profile_id, Purpose.SHARING, channel=GPC_CHANNEL, recorded_by=recorded_by
        )

    def state(self, profile_id: str, at: datetime | None = None) -> ConsentState:
        """Every purpose of one profile as of ``at`` (now by default), and the minor flag."""
        when = self._when(at)
        latest = self._latest(profile_id, when)
        born = self._birth_dates([profile_id]).get(profile_id)
        purposes = {
            purpose: _purpose_state(purpose, latest.get(purpose.value), when, born)
            for purpose in Purpose
        }
        return ConsentState(profile_id, when, is_minor(born, when.date()), purposes)

    def allowed(self, profile_id: str, purpose: str, at: datetime | None = None) -> bool:
        """May ``profile_id``'s data be used for ``purpose`` at ``at`` (now by default)?"""
        return self.decision(profile_id, purpose, at).allowed

    def decision(
        self, profile_id: str, purpose: str, at: datetime | None = None
    ) -> ConsentDecision:
        """Like :meth:`allowed`, with the reason."""
        wanted = parse_purpose(purpose)
        when = self._when(at)
        latest = self._latest(profile_id, when).get(wanted.value)
        born = self._birth_dates([profile_id]).get(profile_id) if latest is not None else None
        return decide(latest, wanted, at=when, birth_date=born)

    def allowed_profiles(self, purpose: str, at: datetime | None = None) -> set[str]:
        """Every live profile whose data may be used for ``purpose`` at ``at``: one query for
        the newest records, one alias lookup, and for marketing one birth-date lookup."""
        wanted = parse_purpose(purpose)
        when = self._when(at)
        newest: dict[str, ConsentRow] = {}
        rows = self._table.latest_for_purpose(wanted.value, at=when)
        live = self._merges.live([row.profile_id for row in rows])
        for row in rows:
            pid = live.get(row.profile_id, row.profile_id)
            if pid not in newest or newest[pid].seq < row.seq:
                newest[pid] = row
        needs_age = wanted is Purpose.MARKETING
        granted = sorted(pid for pid, row in newest.items() if row.status == "granted")
        born = self._birth_dates(granted) if needs_age else {}
        return {
            pid
            for pid, row in newest.items()
            if decide(row, wanted, at=when, birth_date=born.get(pid)).allowed
        }

    def history(self, profile_id: str) -> list[ConsentRow]:
        """Every record of one profile and its merged aliases, oldest first (append-only)."""
        return self._table.history(self._group(profile_id))

    def _when(self, at: datetime | None) -> datetime:
        """``at`` or now; a time without a zone is refused (it means different instants)."""
        if at is None:
            return self._clock.now()
        if at.utcoffset() is None:
            raise ValidationError("at", "timezone", "at: needs a time zone (e.g. Z or +08:00)")
        return at

    def _group(self, profile_id: str) -> list[str]:
        return [profile_id, *self._merges.aliases(profile_id)]

    def _latest(self, profile_id: str, at: datetime) -> dict[str, ConsentRow]:
        return self._table.latest_of_profile(self._group(profile_id), at=at)


def _purpose_state(
    purpose: Purpose, record: ConsentRow | None, at: datetime, born: date | None
) -> PurposeState:
    decision = decide(record, purpose, at=at, birth_date=born)
    return PurposeState(purpose, decision.allowed, decision.reason, record)

"""Consent rules: the purposes, what a valid choice is, and whether a record allows a use.

A consent record says that a person (``actor``: the customer, their guardian, or an agent acting on
the customer's word) granted or withdrew one purpose, having seen a version of the privacy notice,
through a channel. The newest record per purpose is the current choice; a grant that has expired
counts as no consent. Purposes are fixed because code enforces them:

==================  =============================================================
``marketing``       messages and campaigns (segments, exports, destinations)
``personalization`` recommendations and tailored content: the customer's switch
``analytics``       use in analyses and models beyond aggregate statistics
``risk``            fraud and credit assessment
``sharing``         giving data to third parties (``Sec-GPC: 1`` withdraws it)
``sensitive``       processing sensitive personal data, consented separately (PIPL art. 29)
==================  =============================================================

Minors: a person under 14 (PIPL art. 28; birth date from the resident ID, else the birthday) may
be used for marketing only on a grant whose actor is ``guardian``.

Example::

    choice = ConsentChoice.grant("prf_1", "marketing", notice_version="v3", channel="web")
    decide(latest_record, Purpose.MARKETING, at=now, birth_date=date(2015, 1, 1)).allowed
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final, Protocol

from custodia.core.errors import ValidationError

__all__ = [
    "GUARDIAN",
    "MINOR_AGE",
    "ConsentChoice",
    "ConsentDecision",
    "ConsentStatus",
    "Purpose",
    "RecordedChoice",
    "age_on",
    "decide",
    "is_minor",
    "parse_purpose",
]

MINOR_AGE: Final = 14
"""Under this age a guardian must consent to marketing (PIPL art. 28 and 31)."""

CUSTOMER: Final = "customer"
GUARDIAN: Final = "guardian"
_AGENT_PREFIX: Final = "agent:"
_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
_NOTICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Purpose(StrEnum):
    """What personal data may be used for; stored in ``consents.purpose`` (add, never rename)."""

    MARKETING = "marketing"
    PERSONALIZATION = "personalization"
    ANALYTICS = "analytics"
    RISK = "risk"
    SHARING = "sharing"
    SENSITIVE = "sensitive"


class ConsentStatus(StrEnum):
    """The choice a record holds."""

    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


def parse_purpose(text: str) -> Purpose:
    """The purpose named by ``text``; an unknown one is a ValidationError naming ``purpose``.

    >>> parse_purpose(" Marketing ")
    <Purpose.MARKETING: 'marketing'>
    """
    try:
        return Purpose(text.strip().lower())
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        raise ValidationError("purpose", "known", f"purpose: must be one of {known}") from None


def parse_status(text: str) -> ConsentStatus:
    """``granted`` or ``withdrawn``; anything else is a ValidationError naming ``status``."""
    try:
        return ConsentStatus(text.strip().lower())
    except ValueError:
        raise ValidationError(
            "status", "known", "status: must be one of granted, withdrawn"
        ) from None


def check_actor(actor: str) -> str:
    """``customer``, ``guardian`` or ``agent:<who>`` (an agent relaying the customer's word)."""
    if actor in (CUSTOMER, GUARDIAN):
        return actor
    if actor.startswith(_AGENT_PREFIX) and actor[len(_AGENT_PREFIX) :].strip():
        return actor
    raise ValidationError("actor", "known", "actor: must be customer, guardian or agent:<who>")


@dataclass(frozen=True, slots=True)
class ConsentChoice:
    """A validated choice, ready for the ledger. Build it with :meth:`grant` or :meth:`withdraw`.

    A grant needs the version of the notice the person saw; a withdrawal needs none (it must be
    as easy as consenting) and never expires.
    """

    profile_id: str
    purpose: Purpose
    status: ConsentStatus
    notice_version: str | None
    channel: str
    actor: str
    expires_at: datetime | None = None

    @classmethod
    def grant(
        cls,
        profile_id: str,
        purpose: str,
        *,
        notice_version: str,
        channel: str,
        actor: str = CUSTOMER,
        expires_at: datetime | None = None,
    ) -> ConsentChoice:
        """A validated grant; errors name the field and rule, never the value."""
        if not _NOTICE.fullmatch(notice_version or ""):
            raise ValidationError(
                "notice_version", "format", "notice_version: 1-64 letters, digits, '.', '_', '-'"
            )
        if expires_at is not None and expires_at.utcoffset() is None:
            raise ValidationError("expires_at", "timezone", "expires_at: needs a time zone")
        return cls._made(profile_id, purpose, ConsentStatus.GRANTED, notice_version, channel,
                         actor, expires_at)  # fmt: skip

    @classmethod
    def parse(
        cls,
        profile_id: str,
        *,
        status: str,
        purpose: str,
        channel: str,
        notice_version: str | None = None,
        actor: str = CUSTOMER,
        expires_at: datetime | None = None,
    ) -> ConsentChoice:
        """A grant or a withdrawal from raw input (an API body, a form)."""
        if parse_status(status) is ConsentStatus.GRANTED:
            return cls.grant(
                profile_id, purpose, notice_version=notice_version or "", channel=channel,
                actor=actor, expires_at=expires_at,
            )  # fmt: skip
        if expires_at is not None:
            raise ValidationError("expires_at", "grant_only", "expires_at: only a grant expires")
        return cls.withdraw(profile_id, purpose, channel=channel, actor=actor)

    @classmethod
    def withdraw(
        cls, profile_id: str, purpose: str, *, channel: str, actor: str = CUSTOMER
    ) -> ConsentChoice:
        """A validated withdrawal of one purpose."""
        return cls._made(profile_id, purpose, ConsentStatus.WITHDRAWN, None, channel, actor, None)

    @classmethod
    def _made(
        cls,
        profile_id: str,
        purpose: str,
        status: ConsentStatus,
        notice_version: str | None,
        channel: str,
        actor: str,
        expires_at: datetime | None,
    ) -> ConsentChoice:
        if not profile_id.strip():
            raise ValidationError("profile_id", "required", "profile_id: required")
        if not _CHANNEL.fullmatch(channel):
            raise ValidationError(
                "channel", "format", "channel: 1-32 lowercase letters, digits or '_' (e.g. web)"
            )
        return cls(profile_id, parse_purpose(purpose), status, notice_version, channel,
                   check_actor(actor), expires_at)  # fmt: skip


class RecordedChoice(Protocol):
    """What :func:`decide` reads of a stored record (``ConsentRow`` has it)."""

    @property
    def status(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """Whether a purpose may be used, and why (``granted``, ``no_record``, ``withdrawn``,
    ``expired`` or ``minor_needs_guardian``)."""

    allowed: bool
    reason: str


def decide(
    latest: RecordedChoice | None, purpose: Purpose, *, at: datetime, birth_date: date | None
) -> ConsentDecision:
    """Apply the rules to the newest record of one purpose as of ``at``.

    >>> decide(None, Purpose.ANALYTICS, at=datetime(2026, 1, 1), birth_date=None)
    ConsentDecision(allowed=False, reason='no_record')
    """
    if latest is None:
        return ConsentDecision(False, "no_record")
    if latest.status != ConsentStatus.GRANTED:
        return ConsentDecision(False, "withdrawn")
    if latest.expires_at is not None and latest.expires_at <= at:
        return ConsentDecision(False, "expired")
    minor = purpose is Purpose.MARKETING and is_minor(birth_date, at.date())
    if minor and latest.actor != GUARDIAN:
        return ConsentDecision(False, "minor_needs_guardian")
    return ConsentDecision(True, "granted")


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``.

    >>> age_on(date(2012, 6, 1), date(2026, 5, 31)), age_on(date(2012, 6, 1), date(2026, 6, 1))
    (13, 14)
    """
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def is_minor(birth_date: date | None, day: date) -> bool:
    """Under :data:`MINOR_AGE` on ``day``; an unknown birth date is not treated as a minor."""
    return birth_date is not None and age_on(birth_date, day) < MINOR_AGE

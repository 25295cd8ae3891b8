"""Privacy events: the one audit entry each privacy operation writes, with no personal data in it.

Every unmasked read, export, erasure, key operation, consent change and policy change writes
exactly one :class:`PrivacyEvent`. It says who used which data of whom for what: the person by
surrogate key (``subject_ref``, a profile id), the data by field name, the use by purpose, and
other objects by their surrogate ids (approval, request, receipt, key version). It has no slot
for a value: every part is checked against a shape that phones, resident IDs, bank cards,
emails and names cannot take (a surrogate key starts with a lowercase prefix and a separator
and holds only ASCII letters, digits and ``_``; field names and purposes are snake_case), so a
raw identifier handed in by mistake is refused with an error naming the part, never echoing it.

Operations whose storage code writes the entry in the same transaction as their change build
the event here and hand its parts (:meth:`PrivacyEvent.details`) to that code; the others call
:func:`record_privacy_event`. The per-customer data-usage trail
(:mod:`custodia.privacy.usage_trail`) reads these entries back.

Example::

    event = PrivacyEvent(
        action=PrivacyAction.UNMASK,
        resource="profiles",
        subject_ref="prof_3f2a",
        purpose="fraud_check",
        fields=("phone", "resident_id"),
        refs={"approval_id": "apr_91c0"},
    )
    record_privacy_event(AuditLog(ws.store, ws.clock), "token:risk-1", event)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from custodia.core.errors import ValidationError
from custodia.storage.store import AuditEntry, AuditLog
from custodia.storage.store_schema import JsonValue

__all__ = [
    "Outcome",
    "PrivacyAction",
    "PrivacyEvent",
    "check_surrogate",
    "record_privacy_event",
]

_SURROGATE: Final = re.compile(r"[a-z][a-z0-9]{0,15}[_:-][A-Za-z0-9_]{1,80}")
_NUMBER_TAIL: Final = re.compile(r"[_:-][0-9]{7,18}[0-9Xx]?\Z")
"""A prefix glued onto a phone, ID or card number (``prof_13812345678``) is still the number.
Phones, resident IDs and cards have 7 to 19 characters; profile ids end in 20 hex digits, which
can all be decimal (1 id in 12,000), and record keys in 24, so neither is mistaken for one."""
_DIGIT_RUN: Final = re.compile(r"[0-9]{7,}")
"""No field name, purpose, rule or action holds seven digits in a row; a phone always does."""
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63})?")
_ACTION: Final = re.compile(r"[a-z][a-z0-9_]{0,31}(\.[a-z][a-z0-9_]{0,31}){1,3}")
_MAX_FIELDS: Final = 200


class PrivacyAction(StrEnum):
    """The privacy actions known so far (an event may use any ``domain.verb`` action)."""

    READ = "data.read"
    UNMASK = "data.unmask"
    EXPORT = "privacy.export"
    ERASE = "privacy.erase"
    EXPIRE = "privacy.expire"
    RETENTION = "privacy.retention"
    CONSENT_CHANGE = "consent.change"
    POLICY_CHANGE = "policy.change"
    KEY_CREATE = "key.create"
    KEY_ROTATE = "key.rotate"
    KEY_SHRED = "key.shred"
    APPROVAL_DECIDE = "approval.decide"


class Outcome(StrEnum):
    """Whether the operation happened or a control refused it (refusals are audited too)."""

    DONE = "done"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class PrivacyEvent:
    """What one privacy operation did, in names and surrogate keys only.

    - ``subject_ref``: the person's profile id (``None`` for workspace-wide operations);
    - ``purpose``: why the data was used (a consent purpose or a code such as ``fraud_check``);
    - ``fields``: the columns used, as ``column`` or ``table.column``, never their values;
    - ``refs``: surrogate ids of related objects (``approval_id``, ``receipt_id``, ``kek``...);
    - ``counts``: sizes (rows erased, keys re-wrapped);
    - ``rule``: the rule a refusal applied (``consent.withdrawn``, ``approval.expired``).
    """

    action: str
    resource: str
    subject_ref: str | None = None
    purpose: str | None = None
    fields: tuple[str, ...] = ()
    refs: Mapping[str, str] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    outcome: Outcome = Outcome.DONE
    rule: str | None = None

    def __post_init__(self) -> None:
        _check(_ACTION, "action", self.action)
        _check(_NAME, "resource", self.resource)
        if self.subject_ref is not None:
            check_surrogate("subject_ref", self.subject_ref)
        if self.purpose is not None:
            _check(_NAME, "purpose", self.purpose)
        if self.rule is not None:
            _check(_NAME, "rule", self.rule)
        self._check_fields()
        self._check_refs()
        Outcome(self.outcome)

    def details(self) -> dict[str, JsonValue]:
        """The entry's ``details``: only what is set, in a stable shape the trail reads back."""
        doc: dict[str, JsonValue] = {"outcome": str(self.outcome)}
        if self.purpose is not None:
            doc["purpose"] = self.purpose
        if self.fields:
            doc["fields"] = list(self.fields)
        if self.refs:
            doc["refs"] = dict(sorted(self.refs.items()))
        if self.counts:
            doc["counts"] = dict(sorted(self.counts.items()))
        if self.rule is not None:
            doc["rule"] = self.rule
        return doc

    def _check_fields(self) -> None:
        if isinstance(self.fields, str) or len(self.fields) > _MAX_FIELDS:
            raise ValidationError(
                "fields", "list", f"fields: a list of at most {_MAX_FIELDS} names"
            )
        for name in self.fields:
            _check(_NAME, "fields", name)

    def _check_refs(self) -> None:
        for key, value in self.refs.items():
            _check(_NAME, "refs", key)
            check_surrogate(f"refs.{key}", value)
        for key, count in self.counts.items():
            _check(_NAME, "counts", key)
            if type(count) is not int:
                raise ValidationError(
                    f"counts.{key}", "integer", f"counts.{key}: must be an integer"
                )


def check_surrogate(name: str, value: object) -> str:
    """``value`` if it is shaped like a surrogate key (``prof_3f2a``, ``kek-2``, ``crm:9ab1``).

    Phones, resident IDs, card numbers, emails and names never have this shape, so a raw
    identifier passed by mistake is refused; the error names ``name``, not the value.

    >>> check_surrogate("subject_ref", "prof_3f2a")
    'prof_3f2a'
    """
    if not isinstance(value, str) or not _SURROGATE.fullmatch(value) or _NUMBER_TAIL.search(value):
        raise ValidationError(
            name, "surrogate_key", f"{name}: must be a surrogate key such as prof_3f2a, not a value"
        )
    return value


def record_privacy_event(audit: AuditLog, actor: str, event: PrivacyEvent) -> AuditEntry:
    """Append ``event`` as one audit entry, in a transaction of its own.

    An operation that changes the store writes its event in the same transaction instead: its
    storage code appends ``event.action``, ``event.resource``, ``event.subject_ref`` and
    ``event.details()`` with the connection of that transaction.

    >>> record_privacy_event(audit, "token:dpo", PrivacyEvent("privacy.export", "profiles",
    ...     subject_ref="prof_1", purpose="access_request"))  # doctest: +SKIP
    """
    return audit.append(
        actor,
        event.action,
        event.resource,
        subject_ref=event.subject_ref,
        details=event.details(),
    )


def _check(pattern: re.Pattern[str], name: str, value: object) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value) or _DIGIT_RUN.search(value):
        raise ValidationError(name, "format", f"{name}: not a valid name ({pattern.pattern})")

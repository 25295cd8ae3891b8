"""The customer portal: what a customer, holding a portal token, may see and change about
themselves.

Every function takes the caller's :class:`PortalTokenRecord`; the person is the token's profile
(followed through merges to the live profile, with every id merged into it), never a reference
from the request, so a customer cannot name anyone else. What comes back is their own data in
clear, without ciphertext, key or blind-index fields and with free text of service interactions
redacted (it may hold other people's numbers). Each call writes exactly one audit entry (a
privacy event; actor ``portal:<token id>``), which shows in the customer's own usage trail.

Example::

    portal = Portal(ws, record)
    portal.me()["consents"]["personalization"]
    portal.set_consents([("marketing", "withdrawn", None)], gpc=None)
    portal.request("erasure")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, Final

from custodia.core.errors import NotFoundError, ValidationError
from custodia.core.ids import new_id
from custodia.pipeline.consent_subjects import consent_ledger, consent_state_view
from custodia.pipeline.data_usage import profile_ids_of
from custodia.pipeline.profile_view import ProfileView
from custodia.privacy.audit_events import (
    PrivacyAction,
    PrivacyEvent,
    check_surrogate,
    record_privacy_event,
)
from custodia.privacy.blind_index import DIGEST_PREFIX
from custodia.privacy.consent import ConsentChoice
from custodia.privacy.field_crypto import is_ciphertext
from custodia.privacy.masking_policy import redact_free_text
from custodia.privacy.portal_tokens import PortalTokenRecord
from custodia.privacy.usage_trail import usage_trail
from custodia.privacy.user_expiry import EXPIRY_CATEGORIES, ExpiryChoice
from custodia.storage.store import AuditLog
from custodia.storage.store_portal import SubjectRequestTable, UserExpiryTable
from custodia.workspace import Workspace

__all__ = [
    "PORTAL_CHANNEL",
    "REQUEST_KINDS",
    "REQUEST_OUTCOMES",
    "Portal",
    "request_queue",
    "settle_request",
]

PORTAL_CHANNEL: Final = "portal"
REQUEST_KINDS: Final = ("export", "erasure")
REQUEST_OUTCOMES: Final = ("in_progress", "completed", "rejected")
_SECRET_NAME: Final = re.compile(r"cipher|blind|hmac|wrapped|nonce|(^|_)(dek|kek|key)(_|$)")
"""Names of fields that hold ciphertext or key material: never shown, even to their owner."""
_SEALED: Final = ("enc:", DIGEST_PREFIX)
_FREE_TEXT: Final = ("subject", "text")
_TRAIL_PAGE: Final = 50


class Portal:
    """One customer's portal session: reads and changes about the token's profile only."""

    def __init__(self, ws: Workspace, caller: PortalTokenRecord) -> None:
        self._ws = ws
        self._caller = caller
        self._ids = profile_ids_of(ws, caller.profile_id)
        self.profile_id = self._ids[0]

    def me(self) -> dict[str, Any]:
        """What is held about the customer, from where, for which purposes, and who used it."""
        self._audit(PrivacyEvent(PrivacyAction.READ, "profiles", subject_ref=self.profile_id,
                                 purpose="portal_access"))  # fmt: skip
        held = self._held()
        trail = usage_trail(AuditLog(self._ws.store, self._ws.clock), self._ids, limit=_TRAIL_PAGE)
        return {
            "profile_id": self.profile_id,
            **held,
            "consents": consent_state_view(consent_ledger(self._ws).state(self.profile_id)),
            "usage": [_jsonable(asdict(use)) for use in trail.uses],
            "expiries": self._rows(UserExpiryTable),
            "requests": self._rows(SubjectRequestTable),
        }

    def set_consents(
        self, choices: Sequence[tuple[str, str, str | None]], *, gpc: str | None
    ) -> dict[str, Any]:
        """Record each (purpose, status, notice version) as the customer's own choice through
        the portal, after all of them validate (a refusal is audited once); then honour GPC."""
        ledger = consent_ledger(self._ws)
        with ledger.refusals_audited(self.profile_id, recorded_by=self._caller.actor):
            parsed = [
                ConsentChoice.parse(self.profile_id, status=status, purpose=purpose,
                                    channel=PORTAL_CHANNEL, notice_version=notice)
                for purpose, status, notice in choices
            ]  # fmt: skip
        for choice in parsed:
            ledger.record(choice, recorded_by=self._caller.actor)
        return self._consents_after(gpc)

    def set_personalization(
        self, on: bool, *, notice_version: str | None, gpc: str | None
    ) -> dict[str, Any]:
        """The personalization switch (one consent record), then GPC."""
        ledger = consent_ledger(self._ws)
        with ledger.refusals_audited(self.profile_id, recorded_by=self._caller.actor):
            ledger.set_personalization(self.profile_id, on, channel=PORTAL_CHANNEL,
                                       recorded_by=self._caller.actor,
                                       notice_version=notice_version)  # fmt: skip
        return self._consents_after(gpc)

    def set_expiry(
        self, *, fields: list[str] | None, categories: list[str] | None, expires_at: datetime
    ) -> dict[str, Any]:
        """Store a user-set expiry for the retention job to enforce (``pending`` until then)."""
        choice = ExpiryChoice.parse(fields=fields, categories=categories, expires_at=expires_at,
                                    now=self._ws.clock.now())  # fmt: skip
        expiry_id = new_id("exp")
        event = PrivacyEvent("expiry.set", "user_expiries", subject_ref=self.profile_id,
                             purpose="user_expiry", fields=choice.fields,
                             refs={"expiry_id": expiry_id})  # fmt: skip
        row = {
            "expiry_id": expiry_id, "profile_id": self.profile_id, "scope": choice.scope,
            "names": list(choice.names), "expires_at": choice.expires_at, "status": "pending",
            "created_at": self._ws.clock.now(), "created_by": self._caller.actor,
        }  # fmt: skip
        stored = UserExpiryTable(self._ws.store, self._ws.clock).insert(
            row, actor=self._caller.actor, action=event.action, details=event.details()
        )
        return _expiry_view(stored)

    def cancel_expiry(self, expiry_id: str) -> dict[str, Any]:
        """Cancel one of the customer's pending expiries (404 for anyone else's)."""
        check_surrogate("expiry_id", expiry_id)
        event = PrivacyEvent("expiry.cancel", "user_expiries", subject_ref=self.profile_id,
                             purpose="user_expiry", refs={"expiry_id": expiry_id})  # fmt: skip
        row = UserExpiryTable(self._ws.store, self._ws.clock).cancel(
            expiry_id, self._ids, actor=self._caller.actor, action=event.action,
            details=event.details(),
        )  # fmt: skip
        return _expiry_view(row)

    def request(self, kind: str) -> tuple[dict[str, Any], bool]:
        """Record an export or erasure request for the privacy officer; an open request of the
        same kind is returned instead of a second one (``created`` False, nothing audited)."""
        if kind not in REQUEST_KINDS:
            raise ValidationError("kind", "known", "kind: export or erasure")
        table = SubjectRequestTable(self._ws.store, self._ws.clock)
        existing = table.open_of(self._ids, kind)
        if existing is not None:
            return _jsonable(existing), False
        request_id, now = new_id("sreq"), self._ws.clock.now()
        event = PrivacyEvent(f"privacy.request_{kind}", "subject_requests",
                             subject_ref=self.profile_id, purpose=f"{kind}_request",
                             refs={"request_id": request_id})  # fmt: skip
        row = {
            "request_id": request_id, "profile_id": self.profile_id, "kind": kind,
            "status": "received", "channel": PORTAL_CHANNEL, "created_at": now,
            "created_by": self._caller.actor, "updated_at": now,
        }  # fmt: skip
        stored = table.insert(row, actor=self._caller.actor, action=event.action,
                              details=event.details())  # fmt: skip
        return _jsonable(stored), True

    def requests(self) -> list[dict[str, Any]]:
        """The customer's export and erasure requests with their status (an audited read)."""
        self._audit(PrivacyEvent(PrivacyAction.READ, "subject_requests",
                                 subject_ref=self.profile_id, purpose="portal_access"))  # fmt: skip
        return self._rows(SubjectRequestTable)

    # -- parts ----------------------------------------------------------------------------

    def _held(self) -> dict[str, Any]:
        view = ProfileView(self._ws)
        try:
            traits = view.traits(self.profile_id)
        except NotFoundError:
            return {"categories": {}, "attributes": {}, "identities": [], "sources": {},
                    "activity": {}}  # fmt: skip
        attributes = {
            name: _clear_attribute(attr)
            for name, attr in (traits.get("attributes") or {}).items()
            if not _SECRET_NAME.search(name)
        }
        identities = [
            {k: item[k] for k in ("id_type", "value", "source")}
            for item in view.identities(self.profile_id, limit=500)["items"]
            if not _sealed(item["value"])
        ]
        return {
            "categories": _categories(attributes),
            "attributes": attributes,
            "identities": identities,
            "sources": _sources(identities),
            "activity": self._activity(view),
        }

    def _activity(self, view: ProfileView) -> dict[str, Any]:
        pid = self.profile_id
        interactions = view.interactions(pid, limit=10)
        interactions["items"] = [_redacted(row) for row in interactions["items"]]
        return {
            "events": _no_secrets(view.events(pid, limit=10)),
            "orders": _no_secrets(view.orders(pid, limit=10)),
            "interactions": _no_secrets(interactions),
        }

    def _consents_after(self, gpc: str | None) -> dict[str, Any]:
        ledger = consent_ledger(self._ws)
        ledger.honour_gpc(self.profile_id, gpc, recorded_by=self._caller.actor)
        return consent_state_view(ledger.state(self.profile_id))

    def _rows(self, kind: type[UserExpiryTable] | type[SubjectRequestTable]) -> list[Any]:
        rows = kind(self._ws.store, self._ws.clock).of_profiles(self._ids)
        return [_expiry_view(r) if kind is UserExpiryTable else _jsonable(r) for r in rows]

    def _audit(self, event: PrivacyEvent) -> None:
        record_privacy_event(AuditLog(self._ws.store, self._ws.clock), self._caller.actor, event)


def request_queue(ws: Workspace, status: str = "received") -> list[dict[str, Any]]:
    """Customers' export and erasure requests in ``status``, oldest first: the privacy
    officer's queue (rows hold surrogate keys only)."""
    return [_jsonable(r) for r in SubjectRequestTable(ws.store, ws.clock).with_status(status)]


def settle_request(
    ws: Workspace, request_id: str, status: str, *, actor: str, receipt_id: str | None = None
) -> dict[str, Any]:
    """The privacy officer moves a customer's open request on: ``in_progress``, or
    ``completed`` with the receipt of the export or erasure that fulfilled it, or ``rejected``.
    One ``privacy.request_update`` audit entry (the customer sees it in their trail).

    >>> settle_request(ws, "sreq_1", "completed", actor="cli:dpo",
    ...                receipt_id="rcp_9")  # doctest: +SKIP
    """
    if status not in REQUEST_OUTCOMES:
        raise ValidationError("status", "known", f"status: one of {', '.join(REQUEST_OUTCOMES)}")
    refs = {"request_id": check_surrogate("request_id", request_id)}
    if receipt_id is not None:
        refs["receipt_id"] = check_surrogate("receipt_id", receipt_id)
    table = SubjectRequestTable(ws.store, ws.clock)
    profile_id = table.get(request_id)["profile_id"]
    event = PrivacyEvent("privacy.request_update", "subject_requests", subject_ref=profile_id,
                         refs=refs, rule=f"status.{status}")  # fmt: skip
    row = table.set_status(request_id, status, at=ws.clock.now(), receipt_id=receipt_id,
                           actor=actor, action=event.action, details=event.details())  # fmt: skip
    return _jsonable(row)


def _categories(attributes: dict[str, Any]) -> dict[str, list[str]]:
    """Which fields of each category are held (tables of a category show under activity)."""
    held = {
        name: [f for f in category.fields if f in attributes]
        for name, category in EXPIRY_CATEGORIES.items()
    }
    held["other"] = sorted(
        n for n in attributes if not any(n in c.fields for c in EXPIRY_CATEGORIES.values())
    )
    return {name: fields for name, fields in held.items() if fields}


def _sources(identities: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in identities:
        source = str(item.get("source") or "unknown")
        counts[source] = counts.get(source, 0) + 1
    return dict(sorted(counts.items()))


def _sealed(value: object) -> bool:
    """Ciphertext (any ``enc:`` form, even a damaged one) or a blind-index digest: meaningless
    to the customer and never shown."""
    return is_ciphertext(value) or (isinstance(value, str) and value.startswith(_SEALED))


def _clear_attribute(attr: dict[str, Any]) -> dict[str, Any]:
    """A golden attribute with sealed values left out (``encrypted`` says one is held)."""
    conflicts = [c for c in attr.get("conflicts") or [] if not _sealed(c.get("value"))]
    if not _sealed(attr.get("value")):
        return {**attr, "conflicts": conflicts}
    return {**attr, "value": None, "encrypted": True, "conflicts": conflicts}


def _no_secrets(page: dict[str, Any]) -> dict[str, Any]:
    items = [
        {k: None if _sealed(v) else v for k, v in row.items() if not _SECRET_NAME.search(k)}
        for row in page["items"]
    ]
    return {**page, "items": items}


def _redacted(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: redact_free_text(v) if k in _FREE_TEXT and isinstance(v, str) else v
        for k, v in row.items()
    }


def _expiry_view(row: dict[str, Any]) -> dict[str, Any]:
    view = _jsonable(row)
    if row["scope"] == "categories":
        view["tables"] = sorted({t for n in row["names"] for t in EXPIRY_CATEGORIES[n].tables})
    return view


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}

"""Unmasking with approvals: seeing masked fields of one customer in clear, for a while.

A request binds the requester (their API token), one profile, the fields, a purpose and an
expiry. Approvers are the roles the policy names (``privacy_officer`` and ``admin`` shipped); a
request whose fields are all L2 needs one approval, one that asks for any L3 field (a resident ID,
a credit band) two, from distinct approvers, and nobody approves their own request. One rejection
rejects it.

At read time (:meth:`UnmaskDesk.grant_for_read`) the request must be the caller's, approved, not
expired, and for the very profile being read; anything else is refused with
:class:`PermissionDeniedError` and one ``data.unmask_refused`` audit entry. Each read that used a
grant writes exactly one ``data.unmask`` entry (:meth:`UnmaskDesk.record_read`): request id,
fields shown in clear, purpose and role, never a value.

Example::

    desk = UnmaskDesk(store, policy.unmask)
    req = desk.request(risk_token, "prof_1", ["credit_band"], purpose="credit_review")
    desk.decide(req["request_id"], officer_token, "approve")
    desk.decide(req["request_id"], admin_token, "approve")      # L3: a second approver
    grant = desk.grant_for_read(req["request_id"], risk_token, "prof_1")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Literal

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from custodia.core.ids import new_id
from custodia.core.tables import PROFILES
from custodia.core.types import Tier
from custodia.privacy.masking_policy import UnmaskRules, identifier_tier
from custodia.privacy.tokens import TokenRecord
from custodia.storage.store import OperationalStore
from custodia.storage.store_unmask import UnmaskRequestTable

__all__ = ["UNMASKABLE_FIELDS", "Decision", "UnmaskDesk", "UnmaskGrant", "field_tier"]

Decision = Literal["approve", "reject"]

_IDENTIFIER_FIELDS: Final = ("member_id", "user_id", "anonymous_id")
UNMASKABLE_FIELDS: Final = (
    *(c.name for c in PROFILES.columns if c.personal),
    *_IDENTIFIER_FIELDS,
)
"""Fields a request may name: personal columns of ``profiles`` and the identifier types."""

_PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


def field_tier(name: str) -> Tier:
    """The classification tier of an unmaskable field."""
    if name in PROFILES.column_names:
        return PROFILES.column(name).tier
    return identifier_tier(name)


@dataclass(frozen=True, slots=True)
class UnmaskGrant:
    """An approved, live request checked for one read: the fields to show in clear."""

    request_id: str
    profile_id: str
    fields: frozenset[str]
    purpose: str


class UnmaskDesk:
    """Create, decide and check unmask requests under the policy's :class:`UnmaskRules`."""

    def __init__(
        self, store: OperationalStore, rules: UnmaskRules, clock: Clock | None = None
    ) -> None:
        self._rules = rules
        self._clock = clock or SystemClock()
        self._table = UnmaskRequestTable(store, self._clock)

    def request(
        self,
        caller: TokenRecord,
        profile_id: str,
        fields: Sequence[str],
        *,
        purpose: str,
        justification: str | None = None,
        hours: float | None = None,
    ) -> dict[str, Any]:
        """File a request; it is ``pending`` until enough approvers agree."""
        if caller.role not in self._rules.requesters:
            raise PermissionDeniedError(f"role '{caller.role}' may not request unmasking")
        wanted = _checked_fields(fields)
        tier = max((field_tier(f) for f in wanted), key=_tier_rank)
        now = self._clock.now()
        request_id = new_id("umr")
        row = {
            "request_id": request_id,
            "profile_id": profile_id,
            "fields": list(wanted),
            "tier": tier.value,
            "purpose": _checked_purpose(purpose),
            "justification": justification,
            "requester_token_id": caller.token_id,
            "requester": caller.name,
            "requester_role": caller.role.value,
            "approvals_needed": self._rules.approvals_needed(tier),
            "status": "pending",
            "created_at": now,
            "expires_at": now + self._duration(hours),
            "decided_at": None,
        }
        self._table.insert(row, actor=_actor(caller), details=_details(row, caller))
        return self._table.get(request_id)

    def decide(self, request_id: str, caller: TokenRecord, decision: Decision) -> dict[str, Any]:
        """One approver's decision; the request is approved once enough distinct ones agree."""
        if caller.role not in self._rules.approvers:
            raise PermissionDeniedError(f"role '{caller.role}' may not approve unmask requests")
        now = self._clock.now()

        def check(request: dict[str, Any]) -> None:
            _check_decidable(request, caller, now)

        row = {
            "approver_token_id": caller.token_id,
            "approver": caller.name,
            "approver_role": caller.role.value,
            "decision": decision,
            "decided_at": now,
        }
        return self._table.decide(
            request_id, row, check=check, status_after=_status_after, actor=_actor(caller),
            details={"request_id": request_id, "role": caller.role.value},
        )  # fmt: skip

    def get(self, request_id: str, caller: TokenRecord) -> dict[str, Any]:
        """A request, for its requester and for approvers."""
        request = self._table.get(request_id)
        mine = request["requester_token_id"] == caller.token_id
        if not mine and caller.role not in self._rules.approvers:
            raise NotFoundError(f"unmask request {request_id} not found")
        return request

    def list(self, caller: TokenRecord, *, status: str | None = None) -> list[dict[str, Any]]:
        """Approvers see every request; others only their own."""
        rows = self._table.list(status=status, limit=500)
        if caller.role in self._rules.approvers:
            return rows
        return [row for row in rows if row["requester_token_id"] == caller.token_id]

    def grant_for_read(self, request_id: str, caller: TokenRecord, profile_id: str) -> UnmaskGrant:
        """The grant for reading ``profile_id`` now, or PermissionDeniedError (audited)."""
        try:
            request = self._table.get(request_id)
        except NotFoundError:
            request = None
        reason = _refusal(request, caller, profile_id, self._clock)
        if reason is not None or request is None:
            self._table.audit(
                _actor(caller), "data.unmask_refused", profile_id=profile_id,
                details={"request_id": request_id, "reason": reason, "role": caller.role.value},
            )  # fmt: skip
            raise PermissionDeniedError(f"unmask request {request_id} refused: {reason}")
        return UnmaskGrant(request_id, profile_id, frozenset(request["fields"]), request["purpose"])

    def record_read(
        self, grant: UnmaskGrant, caller: TokenRecord, view: str, revealed: set[str]
    ) -> None:
        """The one audit entry of a read that used ``grant`` (field names only, no values)."""
        details = {
            "request_id": grant.request_id,
            "view": view,
            "fields": sorted(revealed),
            "purpose": grant.purpose,
            "role": caller.role.value,
        }
        self._table.audit(_actor(caller), "data.unmask", profile_id=grant.profile_id,
                          details=details)  # fmt: skip

    def _duration(self, hours: float | None) -> timedelta:
        limit = self._rules.max_hours
        wanted = limit if hours is None else hours
        if not 0 < wanted <= limit:
            raise ValidationError("hours", "range", f"hours: must be above 0 and at most {limit}")
        return timedelta(hours=wanted)


def _checked_fields(fields: Sequence[str]) -> tuple[str, ...]:
    wanted = tuple(sorted(set(fields)))
    if not wanted:
        raise ValidationError("fields", "not_empty", "fields: name at least one field")
    unknown = [f for f in wanted if f not in UNMASKABLE_FIELDS]
    if unknown:
        raise ValidationError(
            "fields", "known", f"fields: must be among {', '.join(UNMASKABLE_FIELDS)}"
        )
    return wanted


def _checked_purpose(purpose: str) -> str:
    if not _PURPOSE.fullmatch(purpose):
        raise ValidationError(
            "purpose", "code", "purpose: a short code such as credit_review (a-z, 0-9, _ . -)"
        )
    return purpose


def _check_decidable(request: dict[str, Any], caller: TokenRecord, now: Any) -> None:
    if request["requester_token_id"] == caller.token_id:
        raise PermissionDeniedError("nobody approves their own unmask request")
    if request["status"] != "pending":
        raise PermissionDeniedError(f"unmask request is {request['status']}, not pending")
    if request["expires_at"] <= now:
        raise PermissionDeniedError("unmask request has expired")
    if any(d["approver_token_id"] == caller.token_id for d in request["decisions"]):
        raise PermissionDeniedError("this approver has already decided on the request")


def _status_after(request: dict[str, Any], decisions: list[dict[str, Any]]) -> str:
    if any(d["decision"] == "reject" for d in decisions):
        return "rejected"
    approvers = {d["approver_token_id"] for d in decisions if d["decision"] == "approve"}
    return "approved" if len(approvers) >= request["approvals_needed"] else "pending"


def _refusal(
    request: dict[str, Any] | None, caller: TokenRecord, profile_id: str, clock: Clock
) -> str | None:
    if request is None:
        return "unknown request"
    if request["requester_token_id"] != caller.token_id:
        return "not the requester's token"
    if request["status"] != "approved":
        return f"request is {request['status']}"
    if request["expires_at"] <= clock.now():
        return "request has expired"
    if request["profile_id"] != profile_id:
        return "approved for another customer"
    return None


def _tier_rank(tier: Tier) -> int:
    return (Tier.L1, Tier.L2, Tier.L3).index(tier)


def _actor(caller: TokenRecord) -> str:
    return f"token:{caller.name}"


def _details(row: dict[str, Any], caller: TokenRecord) -> dict[str, Any]:
    keys = ("request_id", "fields", "tier", "purpose", "approvals_needed")
    return {**{k: row[k] for k in keys}, "role": caller.role.value,
            "expires_at": row["expires_at"].isoformat()}  # fmt: skip

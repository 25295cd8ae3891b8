"""The consent ledger of a workspace, wired to the people it is about.

The privacy domain keeps the rules and the ledger; who a profile is (which live profile an
identifier names) and when they were born (for the minors rule) come from identity resolution's
golden profiles. This module joins the two so the API, the CLI and activation code get a ready
ledger: ``consent_ledger(ws)``.

Birth date: the one held in the golden resident ID (GB 11643 digits 7-14), else the golden
``birthday``; a profile with neither is not treated as a minor.

Example::

    ledger = consent_ledger(ws)
    pid = consent_profile(ws, "phone:13812345678")
    ledger.grant(pid, "marketing", notice_version="v3", channel="store", recorded_by="cli:ana")
    "prf_…" in ledger.allowed_profiles("marketing")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from custodia.identity.normalize import resident_id_birth_date
from custodia.pipeline.identifier_blinding import opened_traits
from custodia.pipeline.profile_view import ProfileView
from custodia.privacy.consent_ledger import ConsentLedger, ConsentState
from custodia.storage.store_consents import ConsentRow
from custodia.storage.store_identity import IdentityGraphStore
from custodia.workspace import Workspace

__all__ = [
    "RegistryMerges",
    "birth_date_of",
    "consent_ledger",
    "consent_profile",
    "consent_record_view",
    "consent_state_view",
]


_MAX_MERGE_DEPTH = 32
"""Merge chains longer than this are not followed (a cycle would be a registry bug)."""


def consent_ledger(ws: Workspace) -> ConsentLedger:
    """The workspace's ledger, with birth dates and merges read from identity resolution's
    profile registry on each check."""
    graph = IdentityGraphStore(ws.store)

    def birth_dates(profile_ids: Sequence[str]) -> dict[str, date]:
        entries = graph.registry(profile_ids)
        found = {
            pid: birth_date_of(opened_traits(ws, pid, entry.traits))
            for pid, entry in entries.items()
        }
        return {pid: born for pid, born in found.items() if born is not None}

    return ConsentLedger(
        ws.store, clock=ws.clock, birth_dates=birth_dates, merges=RegistryMerges(graph)
    )


class RegistryMerges:
    """Profile merges as the registry records them (``merged_into`` links, possibly chained)."""

    def __init__(self, graph: IdentityGraphStore) -> None:
        self._graph = graph

    def aliases(self, profile_id: str) -> list[str]:
        """Every id merged into ``profile_id``, directly or through another alias."""
        found: list[str] = []
        todo = [profile_id]
        while todo:
            fresh = [a for a in self._graph.aliases_of(todo.pop()) if a not in found]
            found.extend(fresh)
            todo.extend(fresh)
        return sorted(found)

    def live(self, profile_ids: Sequence[str]) -> dict[str, str]:
        """id -> its live profile, following ``merged_into`` links a batch at a time."""
        live = {pid: pid for pid in profile_ids}
        pending = dict(live)  # id -> the id whose registry row is read next
        for _ in range(_MAX_MERGE_DEPTH):
            entries = self._graph.registry(sorted(set(pending.values())))
            pending = {
                pid: entry.merged_into
                for pid, at in pending.items()
                if (entry := entries.get(at)) is not None and entry.merged_into is not None
            }
            live.update(pending)
            if not pending:
                break
        return live


def consent_profile(ws: Workspace, ref: str) -> str:
    """The live profile id that ``ref`` names: ``ID_TYPE:VALUE``, ``profile_id:…`` or a bare
    profile id (NotFoundError when nobody holds it)."""
    return ProfileView(ws).find(ref if ":" in ref else f"profile_id:{ref}")


def birth_date_of(traits: dict[str, Any] | None) -> date | None:
    """Birth date from golden traits: the resident ID's, else the birthday (None if neither)."""
    traits = traits or {}
    resident_id = (traits.get("resident_id") or {}).get("value")
    if isinstance(resident_id, str):
        try:
            return resident_id_birth_date(resident_id)
        except ValueError:
            pass  # not a normalized ID (e.g. encrypted): fall back to the birthday
    birthday = (traits.get("birthday") or {}).get("value")
    if isinstance(birthday, str):
        try:
            return date.fromisoformat(birthday[:10])
        except ValueError:
            return None
    return None


def consent_state_view(state: ConsentState) -> dict[str, Any]:
    """The state as JSON-ready data, the same for the API and ``consent show --json``."""
    return {
        "profile_id": state.profile_id,
        "at": state.at.isoformat(),
        "minor": state.minor,
        "personalization": state.personalization,
        "purposes": {
            purpose.value: {
                "allowed": item.allowed,
                "reason": item.reason,
                "record": None if item.record is None else consent_record_view(item.record),
            }
            for purpose, item in state.purposes.items()
        },
    }


def consent_record_view(row: ConsentRow) -> dict[str, Any]:
    """One ledger record as JSON-ready data (times in ISO 8601)."""
    out = asdict(row)
    for key in ("recorded_at", "expires_at"):
        out[key] = None if out[key] is None else out[key].isoformat()
    return out

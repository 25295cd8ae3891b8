"""A person's data-usage trail, found by any of their identifiers.

Uses are audited under the profile id current at the time, and profiles merge: the trail of a
person covers their live profile id and every id merged into it. A profile id that no longer
resolves (the person was erased) still finds the entries written under it, which is what a
regulator asks to see after an erasure.

Example::

    trail = customer_usage(ws, "phone:13812345678", limit=20)
    trail.subject_refs        # ['prof_9a…', 'prof_31…']  live id first, then merged ids
"""

from __future__ import annotations

from custodia.core.errors import NotFoundError
from custodia.pipeline.profile_view import ProfileView
from custodia.privacy.audit_events import check_surrogate
from custodia.privacy.usage_trail import UsageTrail, usage_trail
from custodia.storage.store import AuditLog
from custodia.storage.store_identity import IdentityGraphStore
from custodia.workspace import Workspace

__all__ = ["customer_usage", "profile_ids_of"]


def customer_usage(
    ws: Workspace, ref: str, *, limit: int = 100, before_seq: int | None = None
) -> UsageTrail:
    """Who used the data of the person ``ref`` names, newest first (one page)."""
    ids = profile_ids_of(ws, ref)
    return usage_trail(AuditLog(ws.store, ws.clock), ids, limit=limit, before_seq=before_seq)


def profile_ids_of(ws: Workspace, ref: str) -> list[str]:
    """The live profile id of ``ref`` (``ID_TYPE:VALUE`` or a bare profile id) and every id
    merged into it; a bare id that no longer resolves stands for itself."""
    bare = ":" not in ref
    try:
        live = ProfileView(ws).find(f"profile_id:{ref}" if bare else ref)
    except NotFoundError:
        if not bare:
            raise
        return [check_surrogate("profile", ref)]
    return _with_aliases(IdentityGraphStore(ws.store), live)


def _with_aliases(graph: IdentityGraphStore, live: str) -> list[str]:
    ids, pending = [live], [live]
    while pending:
        for alias in graph.aliases_of(pending.pop()):
            if alias not in ids:
                ids.append(alias)
                pending.append(alias)
    return ids

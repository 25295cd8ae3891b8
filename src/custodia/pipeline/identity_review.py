"""Explaining and undoing merges: ``identity explain`` and ``identity unmerge``.

An explanation lists the profile's records (source, kind, flagged identifiers), the identifiers
that tie them together (masked: ``138****5678``), every edge among them with its rule, score,
evidence and whether it was applied, refused by a guard (and why) or undone, and the profile ids
that were merged into this one.

An unmerge splits one record out of a profile: a ``manual:cannot_link`` edge between the record
and each other member keeps them apart in every later run, the record's edges are marked undone
(nothing is deleted), the affected records are re-clustered and their golden records rebuilt, and
the audit log says who did it and why.

Example::

    explanation = explain_profile(ws, "prof_1a2b")
    result = unmerge_record(ws, "prof_1a2b", record_id="crm_members:...", actor="steward")
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from custodia.core.errors import NotFoundError, ValidationError
from custodia.core.masking import mask_identifier
from custodia.identity.matching import MANUAL_CANNOT_LINK, edge_id
from custodia.pipeline.identifier_blinding import opened_traits
from custodia.pipeline.identity_resolve import recluster
from custodia.pipeline.identity_workspace import load_workspace_spec
from custodia.storage.store import AuditLog
from custodia.storage.store_identity import IdentityGraphStore
from custodia.workspace import Workspace

__all__ = [
    "Explanation",
    "UnmergeResult",
    "explain_profile",
    "resolve_profile_id",
    "unmerge_record",
]


class Explanation(BaseModel):
    """Why a profile holds the records it holds."""

    profile_id: str
    requested: str
    aliases: list[str]
    records: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    traits: dict[str, Any]


class UnmergeResult(BaseModel):
    """Where the split record went."""

    profile_id: str
    record_id: str
    new_profile_id: str
    edges_undone: int


def resolve_profile_id(graph: IdentityGraphStore, profile_id: str) -> str:
    """The live profile for ``profile_id`` (following merges) or NotFoundError."""
    live = graph.live_profile(profile_id)
    if live is None:
        raise NotFoundError(f"profile {profile_id} not found")
    return live


def explain_profile(ws: Workspace, profile_id: str) -> Explanation:
    """Records, identifiers and edges of a profile, with the reason for each decision."""
    graph = IdentityGraphStore(ws.store)
    live = resolve_profile_id(graph, profile_id)
    members = graph.records_of_profiles([live])
    identifiers: dict[str, list[dict[str, str]]] = {}
    for record_id, id_type, value in graph.identifiers_of(members):
        masked = mask_identifier(id_type, value)
        identifiers.setdefault(record_id, []).append({"type": id_type, "value": masked})
    records = [
        {
            "record_id": row["record_id"],
            "source": row["source"],
            "kind": row["kind"],
            "identifiers": identifiers.get(row["record_id"], []),
            "flags": row["flags"] or [],
            "first_seen": _iso(row["first_seen"]),
            "last_seen": _iso(row["last_seen"]),
        }
        for row in graph.records(members)
    ]
    edges = [
        {
            "edge_id": e.edge_id,
            "left_record": e.left_record,
            "right_record": e.right_record,
            "rule": e.rule,
            "score": e.score,
            "evidence": e.evidence,
            "status": _status(e.undone_at, e.refused_reason, e.rule),
            "created_by": e.created_by,
            "undone_by": e.undone_by,
        }
        for e in graph.edges_touching(members, include_undone=True)
    ]
    aliases = graph.aliases_of(live)
    entry = graph.registry([live]).get(live)
    return Explanation(
        profile_id=live,
        requested=profile_id,
        aliases=aliases,
        records=records,
        edges=edges,
        traits=opened_traits(ws, live, entry.traits) if entry else {},
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _status(undone_at: Any, refused: str | None, rule: str) -> str:
    if rule == MANUAL_CANNOT_LINK:
        return "constraint"
    if undone_at is not None:
        return "undone"
    if refused and refused != "already_linked":
        return f"refused:{refused}"
    return "applied"


def unmerge_record(
    ws: Workspace, profile_id: str, *, record_id: str, actor: str, reason: str | None = None
) -> UnmergeResult:
    """Split ``record_id`` out of ``profile_id``; later runs keep it apart."""
    graph = IdentityGraphStore(ws.store)
    live = resolve_profile_id(graph, profile_id)
    members = graph.records_of_profiles([live])
    if record_id not in members:
        raise ValidationError("record", "member_of_profile", "record: not part of this profile")
    if len(members) == 1:
        raise ValidationError("record", "not_alone", "record: the profile has no other record")
    now = ws.clock.now()
    constraints = [
        {
            "edge_id": edge_id(MANUAL_CANNOT_LINK, *sorted((record_id, other))),
            "left_record": min(record_id, other),
            "right_record": max(record_id, other),
            "rule": MANUAL_CANNOT_LINK,
            "score": 0.0,
            "evidence": {"profile_id": live, "reason": reason or ""},
            "created_at": now,
            "created_by": actor,
        }
        for other in members
        if other != record_id
    ]
    graph.add_edges(constraints)
    incident = [
        e.edge_id for e in graph.edges_touching([record_id]) if e.rule != MANUAL_CANNOT_LINK
    ]
    undone = graph.undo_edges(incident, by=actor, at=now)
    spec = load_workspace_spec(ws)
    recluster(ws, graph, spec, members, progress=lambda *_: None)
    new_profile = graph.profiles_of([record_id]).get(record_id) or ""
    AuditLog(ws.store, ws.clock).append(
        actor,
        "identity.unmerge",
        "profiles",
        subject_ref=live,
        details={"record_id": record_id, "new_profile_id": new_profile, "reason": reason or ""},
    )
    return UnmergeResult(
        profile_id=live, record_id=record_id, new_profile_id=new_profile, edges_undone=undone
    )

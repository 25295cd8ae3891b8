"""Deterministic matching: normalized identifiers, flags for bad ones, and the edges they make.

Every identifier column of a record goes through its normalizer. A value that fails (a 10-digit
phone, an ID number with a wrong check digit) or sits on the blocklist (``13800000000``,
``test@test.com``) is *flagged* on its record with the reason and not used for matching; the
record itself still takes part with its other identifiers.

Records sharing a valid value are linked by edges. A value held by n records yields n-1 edges,
a star from one centre record (the smallest id that no unmerge has detached), so a popular value
never explodes into n² edges and the graph stays explainable.

Example::

    found = extract_identifiers(["r1", "r2"], {"phone": ["138 1234 5678", "13812345678"]}, spec)
    edges = shared_identifier_edges(found.identifiers, spec, created_by="run_1", now=now)
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from custodia.identity.models import IdentitySpec
from custodia.identity.normalize import normalize_values

__all__ = [
    "IdentifierExtraction",
    "edge_id",
    "extract_identifiers",
    "group_edges",
    "rule_priority",
    "shared_identifier_edges",
]

Identifier = tuple[str, str, str]
"""(record_id, id_type, normalized value)."""

PROBABILISTIC_RULE = "probabilistic"
MANUAL_CANNOT_LINK = "manual:cannot_link"


@dataclass(slots=True)
class IdentifierExtraction:
    """Valid identifiers of a batch of records, and the flags of the rejected ones."""

    identifiers: list[Identifier] = field(default_factory=list)
    flags: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def flag(self, record_id: str, id_type: str, reason: str) -> None:
        self.flags.setdefault(record_id, []).append({"field": id_type, "reason": reason})


def extract_identifiers(
    record_ids: Sequence[str],
    columns: Mapping[str, Sequence[str | None]],
    spec: IdentitySpec,
) -> IdentifierExtraction:
    """Normalize each identifier column; keep valid values, flag bad and blocklisted ones."""
    out = IdentifierExtraction()
    for id_type, raw_values in columns.items():
        rule = spec.identifiers.get(id_type)
        if rule is None or not rule.match:
            continue
        blocked = spec.blocked(id_type)
        values, reasons = normalize_values(id_type, raw_values)
        for record_id, raw, value, reason in zip(
            record_ids, raw_values, values, reasons, strict=True
        ):
            if value is None:
                if reason is not None:
                    out.flag(record_id, id_type, reason)
                continue
            if id_type == "email" and spec.email_strip_plus_tag:
                value = _strip_plus_tag(value)
            if value.casefold() in blocked or (raw or "").strip().casefold() in blocked:
                out.flag(record_id, id_type, f"{id_type}.blocklisted")
                continue
            out.identifiers.append((record_id, id_type, value))
    return out


def _strip_plus_tag(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def edge_id(rule: str, left: str, right: str) -> str:
    """Stable id of an edge: the same evidence always gives the same edge."""
    digest = hashlib.sha256(f"{rule}|{left}|{right}".encode()).hexdigest()
    return f"e_{digest[:32]}"


def rule_priority(rule: str, spec: IdentitySpec) -> int:
    """Order in which edges are applied: identifier priority first, probabilistic last."""
    if rule.startswith("same_"):
        identifier = spec.identifiers.get(rule.removeprefix("same_"))
        return identifier.priority if identifier else 99
    return 1000


def shared_identifier_edges(
    identifiers: Iterable[Identifier],
    spec: IdentitySpec,
    *,
    created_by: str,
    now: datetime,
    detached: Collection[str] = (),
) -> list[dict[str, Any]]:
    """Edges between records sharing a valid value: a star from the group's centre record."""
    groups: dict[tuple[str, str], set[str]] = {}
    for record_id, id_type, value in identifiers:
        groups.setdefault((id_type, value), set()).add(record_id)
    edges: dict[str, dict[str, Any]] = {}
    for (id_type, _value), members in groups.items():
        for edge in group_edges(id_type, members, created_by=created_by, now=now,
                                detached=detached):  # fmt: skip
            edges[edge["edge_id"]] = edge
    return list(edges.values())


def group_edges(
    id_type: str,
    members: Collection[str],
    *,
    created_by: str,
    now: datetime,
    detached: Collection[str] = (),
) -> list[dict[str, Any]]:
    """The star of edges of one shared value: its centre record to every other holder."""
    if len(members) < 2:
        return []
    ordered = sorted(members)
    candidates = [r for r in ordered if r not in detached] or ordered
    centre = candidates[0]
    rule = f"same_{id_type}"
    evidence = {"identifier": id_type, "group_size": len(members)}
    edges = []
    for member in ordered:
        if member == centre:
            continue
        left, right = min(centre, member), max(centre, member)
        edges.append({
            "edge_id": edge_id(rule, left, right),
            "left_record": left,
            "right_record": right,
            "rule": rule,
            "score": 1.0,
            "evidence": evidence,
            "created_at": now,
            "created_by": created_by,
        })  # fmt: skip
    return edges

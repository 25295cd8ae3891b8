"""Stable profile ids across reruns, merges and splits.

Analysts bookmark profiles, segments export them, service agents paste them into tickets: an id
must not change because the pipeline ran again. The rules:

- a cluster whose records already carry one profile id keeps it (a new record joins it);
- when a cluster holds records of several profiles (a merge), the **oldest** id survives and the
  others become aliases of it (looking them up still finds the person);
- when a profile's records end up in several clusters (an unmerge), the id stays with the cluster
  holding most of its records (ties: the one with the smallest record id); the others get new ids;
- a brand-new cluster gets an id derived from its smallest record id, so a rebuild from scratch
  issues the same ids again.

Example::

    plan = assign_profile_ids({"c1": ["r1", "r2"]}, previous={"r1": "p_a", "r2": "p_b"},
                              created={"p_a": t1, "p_b": t2}, taken={"p_a", "p_b"})
    plan.assignment   # {"r1": "p_a", "r2": "p_a"} if t1 < t2
    plan.merged       # {"p_b": "p_a"}
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["ProfileIdPlan", "assign_profile_ids", "new_profile_id"]


def new_profile_id(seed_record: str, taken: Collection[str]) -> str:
    """An id derived from ``seed_record``, made unique against ``taken``."""
    base = "prof_" + hashlib.sha256(seed_record.encode()).hexdigest()[:20]
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


@dataclass(slots=True)
class ProfileIdPlan:
    """Where every record goes, which ids merged into which, and which ids are new."""

    assignment: dict[str, str] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    split_from: dict[str, str] = field(default_factory=dict)
    """New id -> the profile id its records carried before an unmerge."""


def assign_profile_ids(
    clusters: Mapping[str, Sequence[str]],
    *,
    previous: Mapping[str, str | None],
    created: Mapping[str, datetime],
    taken: Collection[str],
) -> ProfileIdPlan:
    """Decide each cluster's profile id from the ids its records carried before."""
    claims: dict[str, list[str]] = {}
    for pid, cluster in _owner_of_each_previous_id(clusters, previous).items():
        claims.setdefault(cluster, []).append(pid)
    plan = ProfileIdPlan()
    issued = set(taken)
    for key in sorted(clusters, key=lambda k: min(clusters[k])):
        records = clusters[key]
        claimed = sorted(
            claims.get(key, ()),
            key=lambda pid: (created[pid].timestamp() if pid in created else float("inf"), pid),
        )
        if claimed:
            profile_id = claimed[0]
            for loser in claimed[1:]:
                plan.merged[loser] = profile_id
        else:
            profile_id = new_profile_id(min(records), issued)
            issued.add(profile_id)
            plan.created.append(profile_id)
            before = {previous.get(r) for r in records} - {None}
            if before:
                plan.split_from[profile_id] = sorted(p for p in before if p)[0]
        for record in records:
            plan.assignment[record] = profile_id
    return plan


def _owner_of_each_previous_id(
    clusters: Mapping[str, Sequence[str]], previous: Mapping[str, str | None]
) -> dict[str, str]:
    """Each previous profile id goes to the cluster holding most of its records."""
    votes: dict[str, Counter[str]] = {}
    smallest: dict[tuple[str, str], str] = {}
    for key, records in clusters.items():
        for record in records:
            pid = previous.get(record)
            if pid is None:
                continue
            votes.setdefault(pid, Counter())[key] += 1
            pair = (pid, key)
            smallest[pair] = min(smallest.get(pair, record), record)
    return {
        pid: min(counter, key=lambda k: (-counter[k], smallest[(pid, k)]))
        for pid, counter in votes.items()
    }

"""Pipeline run: identity resolution, from records to stable golden profiles.

One run (kind ``identity_resolve``):

1. reads the identity records in scope: everything with ``full``, else what was loaded since
   the last run (:mod:`custodia.pipeline.identity_inputs`);
2. normalizes their identifiers, flags bad and blocklisted ones, stores the rest;
3. adds deterministic edges (shared identifiers) and, when the spec enables it, probabilistic
   edges (Fellegi-Sunter with Splink; the model is trained once and saved in the workspace);
4. re-clusters the part of the graph the new edges touch, with the spec's guards;
5. gives each cluster its stable profile id (merged ids become aliases) and rebuilds the golden
   records of the profiles that changed, in the store (fast lookups) and the lakehouse
   (``profiles``, ``profile_identifiers``).

Example::

    report = resolve_identities(ws)              # incremental
    report = resolve_identities(ws, full=True)   # rebuild every edge and cluster
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from custodia.identity.clusters import GuardedClusterer
from custodia.identity.matching import (
    MANUAL_CANNOT_LINK,
    extract_identifiers,
    group_edges,
    rule_priority,
    shared_identifier_edges,
)
from custodia.identity.models import IdentitySpec
from custodia.identity.profile_ids import assign_profile_ids
from custodia.pipeline.identifier_blinding import IdentifierBlinding
from custodia.pipeline.identity_inputs import IdentityInputs, read_identity_inputs
from custodia.pipeline.identity_matching import probabilistic_edges
from custodia.pipeline.identity_profiles import write_profiles
from custodia.pipeline.identity_workspace import load_workspace_spec
from custodia.storage.store import Watermarks
from custodia.storage.store_identity import EdgeRow, IdentityGraphStore
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["RUN_KIND", "ResolveReport", "recluster", "resolve_identities"]

Progress = Callable[[str, int, int], None]
RUN_KIND = "identity_resolve"
WATERMARK = ("identity", "records")


class ResolveReport(BaseModel):
    """What one resolution run did."""

    run_id: str
    full: bool
    records_in_scope: int = Field(description="Records read (new or changed since the last run)")
    records_flagged: int = Field(description="Records with at least one rejected identifier")
    flags: dict[str, int] = Field(description="Rejected identifiers by reason")
    edges_added: dict[str, int] = Field(description="New edges by rule")
    edges_refused: dict[str, int] = Field(description="Edges the guards refused, by reason")
    records_clustered: int = Field(description="Records re-clustered (scope and their profiles)")
    profiles_affected: int
    profiles_created: int
    profiles_merged: int = Field(description="Profile ids that became aliases of another")
    profiles_total: int
    model_trained: bool = False
    probabilistic_skipped: str | None = Field(
        default=None, description="Why probabilistic matching did not run, if it was enabled"
    )


def resolve_identities(
    ws: Workspace,
    *,
    full: bool = False,
    actor: str = "cli",
    progress: Progress | None = None,
) -> ResolveReport:
    """Resolve the records in scope into profiles, in one recorded run."""
    runs = RunLog(ws.store, ws.clock)
    run_id = runs.start_run(RUN_KIND, {"full": full, "actor": actor})
    try:
        report = _resolve(ws, run_id, full, progress or (lambda *_: None))
    except Exception as exc:
        runs.fail_run(run_id, exc)
        raise
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats=report.model_dump(exclude={"run_id"}))
    return report


def _resolve(ws: Workspace, run_id: str, full: bool, progress: Progress) -> ResolveReport:
    spec = load_workspace_spec(ws)
    graph = IdentityGraphStore(ws.store)
    now = ws.clock.now()
    watermark = None if full else _watermark(ws)
    everything = full or watermark is None  # a first run has every record in scope
    progress("read", 0, 1)
    inputs = read_identity_inputs(
        ws,
        since=watermark,
        stitch_events=spec.stitch_events,
        trait_identifiers=spec.trait_identifiers,
    )
    progress("read", 1, 1)
    scope = sorted(inputs.records)
    flags = _store_records(graph, inputs, spec, now, IdentifierBlinding(ws))
    flagged = Counter(f["reason"] for fl in flags.values() for f in fl)
    records_flagged, max_loaded_at = len(flags), inputs.max_loaded_at
    del flags
    inputs.forget_identifiers()  # stored now; a million records' tuples need not stay in memory
    progress("match", 0, 2)
    added: Counter[str] = Counter()
    for batch in _deterministic_edges(graph, spec, None if everything else scope, run_id, now):
        added.update(e["rule"] for e in graph.add_edges(batch))
    progress("match", 1, 2)
    prob = probabilistic_edges(
        ws, spec, inputs, full=full, run_id=run_id, now=now,
        progress=lambda done, total: progress("probabilistic", done, total),
    )  # fmt: skip
    del inputs
    added.update(e["rule"] for e in graph.add_edges(prob.edges))
    model_trained, probabilistic_skipped = prob.trained, prob.skipped
    del prob
    progress("match", 2, 2)
    outcome = recluster(ws, graph, spec, None if everything else scope, progress=progress)
    if max_loaded_at is not None:
        Watermarks(ws.store, ws.clock).set(*WATERMARK, max_loaded_at.isoformat())
    return ResolveReport(
        run_id=run_id,
        full=full,
        records_in_scope=len(scope),
        records_flagged=records_flagged,
        flags=dict(sorted(flagged.items())),
        edges_added=dict(sorted(added.items())),
        edges_refused=outcome.refused,
        records_clustered=outcome.records,
        profiles_affected=outcome.affected,
        profiles_created=outcome.created,
        profiles_merged=outcome.merged,
        profiles_total=outcome.total,
        model_trained=model_trained,
        probabilistic_skipped=probabilistic_skipped,
    )


def _watermark(ws: Workspace) -> datetime | None:
    value = Watermarks(ws.store, ws.clock).get(*WATERMARK)
    return datetime.fromisoformat(value) if value else None


def _store_records(
    graph: IdentityGraphStore,
    inputs: IdentityInputs,
    spec: IdentitySpec,
    now: datetime,
    blinding: IdentifierBlinding,
) -> dict[str, list[dict[str, str]]]:
    by_type: dict[str, tuple[list[str], list[str | None]]] = {}
    for record_id, id_type, raw in inputs.raw_identifiers:
        ids, values = by_type.setdefault(id_type, ([], []))
        ids.append(record_id)
        values.append(raw)
    identifiers: list[tuple[str, str, str]] = []
    flags: dict[str, list[dict[str, str]]] = {}
    for id_type, (ids, values) in sorted(by_type.items()):
        found = extract_identifiers(ids, {id_type: values}, spec)
        identifiers.extend(blinding.triples(found.identifiers))
        for record_id, record_flags in found.flags.items():
            flags.setdefault(record_id, []).extend(record_flags)
    rows = [
        {"record_id": rid, **meta, "flags": flags.get(rid), "resolved_at": now}
        for rid, meta in sorted(inputs.records.items())
    ]
    graph.upsert_records(rows)
    graph.replace_identifiers(sorted(inputs.records), sorted(set(identifiers)))
    return flags


EDGE_BATCH = 50_000


def _deterministic_edges(
    graph: IdentityGraphStore,
    spec: IdentitySpec,
    scope: Sequence[str] | None,
    run_id: str,
    now: datetime,
) -> Iterator[list[dict[str, Any]]]:
    """Shared-identifier edges in batches: of the scope's identifiers (incremental), or of
    every value two records hold, streamed from the store (a full run)."""
    detached = graph.cannot_link_records(MANUAL_CANNOT_LINK)
    if scope is not None:
        holders = _holders(graph, scope)
        yield shared_identifier_edges(holders, spec, created_by=run_id, now=now, detached=detached)
        return
    batch: list[dict[str, Any]] = []
    for id_type, members in graph.shared_values():
        batch.extend(group_edges(id_type, members, created_by=run_id, now=now, detached=detached))
        if len(batch) >= EDGE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _holders(graph: IdentityGraphStore, scope: Sequence[str]) -> list[tuple[str, str, str]]:
    """Identifiers of the scope records plus every stored record sharing one of them."""
    own = graph.identifiers_of(scope)
    return own + graph.records_holding((t, v) for _r, t, v in own)


class ReclusterOutcome(BaseModel):
    records: int
    affected: int
    created: int
    merged: int
    total: int
    refused: dict[str, int]


def recluster(
    ws: Workspace,
    graph: IdentityGraphStore,
    spec: IdentitySpec,
    scope: Sequence[str] | None,
    *,
    progress: Progress,
) -> ReclusterOutcome:
    """Re-cluster ``scope`` (all records when ``None``) with everything connected to it."""
    records, edges = _closure(graph, scope)
    progress("cluster", 0, len(edges))
    clusterer = GuardedClusterer(
        limits=spec.limits(),
        guarded=spec.guarded(),
        cannot_link=[
            (e.left_record, e.right_record) for e in edges if e.rule == MANUAL_CANNOT_LINK
        ],
    )
    for record_id in records:
        clusterer.add_record(record_id)
    for record_id, held in graph.identifiers_by_record(None if scope is None else records):
        clusterer.add_record(record_id, held)
    refusals: dict[str, str | None] = {}
    for edge in _ordered(edges, spec):
        outcome = clusterer.link(edge.left_record, edge.right_record)
        why = None if outcome.accepted else outcome.reason
        if why != edge.refused_reason:
            refusals[edge.edge_id] = why
    graph.set_refusals(refusals)
    progress("cluster", len(edges), len(edges))
    components = clusterer.components()
    previous = graph.profiles_of(records if scope is not None else None)
    issued = graph.issued_profiles()
    plan = assign_profile_ids(components, previous=previous, created=issued, taken=issued.keys())
    graph.assign(plan.assignment)
    affected = sorted(set(plan.assignment.values()))
    gone = sorted({p for p in previous.values() if p} - set(affected))
    write_profiles(ws, graph, spec, plan, affected=affected, gone=gone, full=scope is None)
    refused = Counter((refusals.get(e.edge_id, e.refused_reason) or "") for e in edges)
    refused.pop("", None)
    refused.pop("already_linked", None)
    return ReclusterOutcome(
        records=len(records),
        affected=len(affected),
        created=len(plan.created),
        merged=len(plan.merged),
        total=graph.live_profile_count(),
        refused=dict(sorted(refused.items())),
    )


def _closure(
    graph: IdentityGraphStore, scope: Sequence[str] | None
) -> tuple[list[str], list[EdgeRow]]:
    """The records to re-cluster: the scope, the profiles it touches, repeated to a fixpoint."""
    if scope is None:
        return sorted(graph.known_record_ids()), graph.edges_touching(None, with_evidence=False)
    records: set[str] = set(scope)
    frontier: set[str] = set(scope)
    found: dict[str, EdgeRow] = {}
    while frontier:
        new_edges = graph.edges_touching(sorted(frontier), with_evidence=False)
        found.update((e.edge_id, e) for e in new_edges)
        touched = {r for e in new_edges for r in (e.left_record, e.right_record)}
        profiles = {p for p in graph.profiles_of(sorted(touched | frontier)).values() if p}
        members = set(graph.records_of_profiles(sorted(profiles)))
        frontier = (touched | members) - records
        records |= frontier
    return sorted(records), list(found.values())


def _ordered(edges: Iterable[EdgeRow], spec: IdentitySpec) -> list[EdgeRow]:
    usable = [e for e in edges if e.rule != MANUAL_CANNOT_LINK and e.undone_at is None]
    return sorted(
        usable,
        key=lambda e: (rule_priority(e.rule, spec), -e.score, e.left_record, e.right_record),
    )

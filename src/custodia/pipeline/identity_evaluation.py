"""Scoring a workspace's resolution against ground truth (the demo's ``persons.parquet``).

Each truth row names a source record (``source``, ``key_type``, ``record_key``) and its true
person. The record is attached to a profile the way the product attaches it:

- customer and event records through their own identity record;
- orders, receipts, touchpoints and service texts through the identifier they carry
  (``customer_ref_type``/``customer_ref``), looked up like ``/v1/profiles/{type}:{value}``.

Pairwise precision, recall and F1 are computed over the truth records that could be attached
(``coverage`` says how many), together with the number of profiles holding two different valid
resident ID numbers (must be 0).

Some truth links leave no trace in the data: a browser whose anonymous id never logs in (never
seen with a user id, no ``alias``) belongs to its person only in the generator's memory. The
``observable`` figures leave out records known only by such an anonymous id (the clickstream
record itself and marketing touchpoints keyed by it), decided from the raw events alone.

Example::

    scores = evaluate_resolution(ws, pq.read_table("ground_truth/persons.parquet"))
    scores.f1, scores.coverage
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pyarrow as pa
from pydantic import BaseModel

from custodia.core.errors import TableNotFoundError
from custodia.core.ids import record_key
from custodia.identity.accuracy import pairwise_scores
from custodia.identity.normalize import normalize_values
from custodia.pipeline.identity_inputs import EVENTS_SOURCE
from custodia.storage.store_identity import IdentityGraphStore
from custodia.workspace import Workspace

__all__ = ["ResolutionScores", "evaluate_resolution"]

# demo truth source -> (Custodia source name, how its records are found)
_CUSTOMER_SOURCES = {"crm": "crm_members", "enrichment": "enrichment_third_party"}
_REF_TABLES = {
    "ecommerce": ("orders", "order_id", "ecommerce_orders"),
    "pos": ("orders", "order_id", "pos_receipts"),
    "marketing": ("touchpoints", "touchpoint_id", "marketing_touchpoints"),
    "service_tickets": ("interactions", "interaction_id", "service_tickets"),
    "service_reviews": ("interactions", "interaction_id", "service_reviews"),
}


class ResolutionScores(BaseModel):
    """Pairwise accuracy of a resolution against ground truth."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    records: int
    attached: int
    coverage: float
    by_source: dict[str, int]
    profiles_with_two_resident_ids: int
    observable_records: int
    observable_precision: float
    observable_recall: float
    observable_f1: float


def evaluate_resolution(ws: Workspace, truth: pa.Table) -> ResolutionScores:
    """Score the workspace's current profiles against ``truth`` (source, key_type, key, person)."""
    graph = IdentityGraphStore(ws.store)
    assignment = {r: p for r, p in graph.profiles_of(None).items() if p}
    ref_profiles = _reference_profiles(ws, graph)
    truth_of: dict[str, str] = {}
    predicted: dict[str, str] = {}
    attached_by_source: dict[str, int] = {}
    for row in truth.to_pylist():
        name = f"{row['source']}|{row['key_type']}|{row['record_key']}"
        truth_of[name] = row["person_id"]
        profile = _profile_for(row, assignment, ref_profiles)
        if profile is not None:
            predicted[name] = profile
            attached_by_source[row["source"]] = attached_by_source.get(row["source"], 0) + 1
    scored_truth = {k: v for k, v in truth_of.items() if k in predicted}
    scores = pairwise_scores(scored_truth, predicted)
    hidden = _unobservable(ws, truth)
    observable = {k: v for k, v in scored_truth.items() if k not in hidden}
    seen = pairwise_scores(observable, predicted)
    return ResolutionScores(
        precision=scores.precision,
        recall=scores.recall,
        f1=scores.f1,
        true_pairs=scores.true_pairs,
        predicted_pairs=scores.predicted_pairs,
        correct_pairs=scores.correct_pairs,
        records=len(truth_of),
        attached=len(predicted),
        coverage=len(predicted) / len(truth_of) if truth_of else 0.0,
        by_source=dict(sorted(attached_by_source.items())),
        profiles_with_two_resident_ids=_double_ids(graph, assignment),
        observable_records=len(observable),
        observable_precision=seen.precision,
        observable_recall=seen.recall,
        observable_f1=seen.f1,
    )


def _unobservable(ws: Workspace, truth: pa.Table) -> set[str]:
    """Truth records known only by an anonymous id that never meets a known id in events."""
    try:
        linked_rows = ws.query_engine().query(
            "SELECT DISTINCT anonymous_id AS a FROM events "
            "WHERE anonymous_id IS NOT NULL AND user_id IS NOT NULL "
            "UNION SELECT DISTINCT previous_id FROM events WHERE type = 'alias'"
        )
        anon_refs = ws.query_engine().query(
            "SELECT touchpoint_id AS key, customer_ref AS a FROM touchpoints "
            "WHERE customer_ref_type = 'anonymous_id'"
        )
    except TableNotFoundError:
        return set()
    linked = set(linked_rows.column("a").to_pylist())
    touch_anon = dict(zip(anon_refs.column("key").to_pylist(), anon_refs.column("a").to_pylist(),
                          strict=True))  # fmt: skip
    hidden: set[str] = set()
    for row in truth.to_pylist():
        source, key_type, key = row["source"], row["key_type"], row["record_key"]
        anon = None
        if source == "clickstream" and key_type == "anonymous_id":
            anon = key
        elif source == "marketing":
            anon = touch_anon.get(record_key(_REF_TABLES["marketing"][2], key))
        if anon is not None and anon not in linked:
            hidden.add(f"{source}|{key_type}|{key}")
    return hidden


def _profile_for(
    row: Mapping[str, str],
    assignment: Mapping[str, str],
    ref_profiles: Mapping[str, str | None],
) -> str | None:
    source, key_type, key = row["source"], row["key_type"], row["record_key"]
    if source in _CUSTOMER_SOURCES:
        return assignment.get(record_key(_CUSTOMER_SOURCES[source], key))
    if source == "clickstream":
        return assignment.get(record_key(EVENTS_SOURCE, f"{key_type}:{key}"))
    if source in _REF_TABLES:
        return ref_profiles.get(record_key(_REF_TABLES[source][2], key))
    return None


_LOOKUP_TYPES: Final = frozenset({"member_id", "user_id", "phone", "email", "anonymous_id"})
"""The reference types a profile can hold (others, e.g. a loyalty card, lead nowhere)."""


def _reference_profiles(ws: Workspace, graph: IdentityGraphStore) -> dict[str, str | None]:
    """Surrogate key of each order, touchpoint and interaction -> its profile (by customer_ref).

    References are normalized and looked up in batches (one query per thousand values and id
    type), not one at a time: the demo at scale holds millions of them."""
    tables: list[pa.Table] = []
    for table, key in sorted({(t, k) for t, k, _s in _REF_TABLES.values()}):
        try:
            tables.append(ws.query_engine().query(
                f"SELECT {key} AS key, customer_ref_type, customer_ref FROM {table} "
                "WHERE customer_ref IS NOT NULL"
            ))  # fmt: skip
        except TableNotFoundError:
            continue
    columns = [
        (
            rows.column("key").to_pylist(),
            rows.column("customer_ref_type").to_pylist(),
            rows.column("customer_ref").to_pylist(),
        )
        for rows in tables
    ]
    refs = {ref for _keys, types, values in columns for ref in zip(types, values, strict=True)}
    profile_of = _lookups(graph, refs)
    out: dict[str, str | None] = {}
    for keys, types, values in columns:
        for key, ref in zip(keys, zip(types, values, strict=True), strict=True):
            out[key] = profile_of.get(ref)
    return out


def _lookups(graph: IdentityGraphStore, refs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(id type, raw value) -> live profile, for the references a profile holds."""
    by_type: dict[str, list[str]] = {}
    for id_type, raw in refs:
        if id_type in _LOOKUP_TYPES:
            by_type.setdefault(id_type, []).append(raw)
    live = graph.live_profiles()
    out: dict[tuple[str, str], str] = {}
    for id_type, raws in by_type.items():
        normalized = normalize_values(id_type, raws)[0]
        found = graph.lookup_many(id_type, sorted({v for v in normalized if v is not None}))
        for raw, value in zip(raws, normalized, strict=True):
            profile = live.get(found[value]) if value is not None and value in found else None
            if profile is not None:
                out[(id_type, raw)] = profile
    return out


def _double_ids(graph: IdentityGraphStore, assignment: Mapping[str, str]) -> int:
    ids: dict[str, set[str]] = {}
    for record_id, id_type, value in graph.identifiers_of(None):
        if id_type == "resident_id" and record_id in assignment:
            ids.setdefault(assignment[record_id], set()).add(value)
    return sum(1 for values in ids.values() if len(values) > 1)

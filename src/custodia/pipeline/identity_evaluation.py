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
import pyarrow.compute as pc
from pydantic import BaseModel

from custodia.core.errors import TableNotFoundError
from custodia.core.ids import record_key
from custodia.identity.accuracy import PairwiseScores, pairs_within, scores_from_counts
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
    """Score the workspace's current profiles against ``truth`` (source, key_type, key, person).

    Truth is read one source at a time, in columns: the demo at a million customers holds about
    20 million truth rows, too many to hold as one Python dict each."""
    graph = IdentityGraphStore(ws.store)
    assignment = {r: p for r, p in graph.profiles_of(None).items() if p}
    linked, touch_anon = _linked_anonymous_ids(ws)
    references: dict[str, dict[str, str | None]] = {}  # per table: orders serve two sources
    attached: list[pa.Table] = []
    attached_by_source: dict[str, int] = {}
    sources = truth.column("source").cast(pa.string())
    for source in sorted(pc.unique(sources).to_pylist()):
        rows = truth.filter(pc.equal(sources, source))
        key_types = rows.column("key_type").cast(pa.string()).to_pylist()
        keys = rows.column("record_key").to_pylist()
        profiles = pa.array(
            _profiles_of(ws, graph, source, key_types, keys, assignment, references), pa.string()
        )
        hidden = _hidden(source, key_types, keys, linked, touch_anon)
        found = pa.table({
            "person": rows.column("person_id"),
            "profile": profiles,
            "hidden": pa.array(hidden, pa.bool_()),
        }).filter(pc.is_valid(profiles))  # fmt: skip
        if found.num_rows:
            attached.append(found)
            attached_by_source[source] = found.num_rows
    scored = pa.concat_tables(attached) if attached else _EMPTY
    observable = scored.filter(pc.invert(scored.column("hidden")))
    scores, seen = _pair_scores(scored), _pair_scores(observable)
    return ResolutionScores(
        precision=scores.precision,
        recall=scores.recall,
        f1=scores.f1,
        true_pairs=scores.true_pairs,
        predicted_pairs=scores.predicted_pairs,
        correct_pairs=scores.correct_pairs,
        records=truth.num_rows,
        attached=scored.num_rows,
        coverage=scored.num_rows / truth.num_rows if truth.num_rows else 0.0,
        by_source=dict(sorted(attached_by_source.items())),
        profiles_with_two_resident_ids=_double_ids(graph, assignment),
        observable_records=observable.num_rows,
        observable_precision=seen.precision,
        observable_recall=seen.recall,
        observable_f1=seen.f1,
    )


_EMPTY = pa.table({"person": pa.array([], pa.string()), "profile": pa.array([], pa.string()),
                   "hidden": pa.array([], pa.bool_())})  # fmt: skip


def _pair_scores(table: pa.Table) -> PairwiseScores:
    """Pairwise scores from group sizes: by true person, by profile, and by both."""

    def pairs(keys: list[str]) -> int:
        counts = table.group_by(keys).aggregate([([], "count_all")]).column("count_all")
        return pairs_within(counts.to_pylist())

    return scores_from_counts(pairs(["person"]), pairs(["profile"]), pairs(["person", "profile"]))


def _linked_anonymous_ids(ws: Workspace) -> tuple[set[str], dict[str, str]]:
    """Anonymous ids that met a known id in events (a user id, an ``alias``), and the
    anonymous id of each touchpoint keyed by one (touchpoint surrogate key -> anonymous id)."""
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
        return set(), {}
    linked = set(linked_rows.column("a").to_pylist())
    touch_anon = dict(zip(anon_refs.column("key").to_pylist(), anon_refs.column("a").to_pylist(),
                          strict=True))  # fmt: skip
    return linked, touch_anon


def _hidden(
    source: str,
    key_types: list[str],
    keys: list[str],
    linked: set[str],
    touch_anon: Mapping[str, str],
) -> list[bool]:
    """Per truth row: known only by an anonymous id that never meets a known id in events."""
    if source == "clickstream":
        return [t == "anonymous_id" and k not in linked for t, k in zip(key_types, keys,
                                                                        strict=True)]  # fmt: skip
    if source == "marketing":
        surrogate = _REF_TABLES["marketing"][2]
        anons = (touch_anon.get(record_key(surrogate, k)) for k in keys)
        return [a is not None and a not in linked for a in anons]
    return [False] * len(keys)


def _profiles_of(
    ws: Workspace,
    graph: IdentityGraphStore,
    source: str,
    key_types: list[str],
    keys: list[str],
    assignment: Mapping[str, str],
    references: dict[str, dict[str, str | None]],
) -> list[str | None]:
    """The profile each truth row of ``source`` is attached to, or None (``references`` keeps
    each reference table's profiles once read)."""
    if source in _CUSTOMER_SOURCES:
        name = _CUSTOMER_SOURCES[source]
        return [assignment.get(record_key(name, k)) for k in keys]
    if source == "clickstream":
        return [assignment.get(record_key(EVENTS_SOURCE, f"{t}:{k}"))
                for t, k in zip(key_types, keys, strict=True)]  # fmt: skip
    if source in _REF_TABLES:
        table, key, surrogate = _REF_TABLES[source]
        if table not in references:
            references[table] = _reference_profiles(ws, graph, table, key)
        profile_of = references[table]
        return [profile_of.get(record_key(surrogate, k)) for k in keys]
    return [None] * len(keys)


_LOOKUP_TYPES: Final = frozenset({"member_id", "user_id", "phone", "email", "anonymous_id"})
"""The reference types a profile can hold (others, e.g. a loyalty card, lead nowhere)."""


def _reference_profiles(
    ws: Workspace, graph: IdentityGraphStore, table: str, key: str
) -> dict[str, str | None]:
    """Surrogate key of each row of ``table`` (orders, touchpoints, interactions) -> its profile
    (by customer_ref). References are normalized and looked up in batches (one query per
    thousand values and id type), not one at a time: the demo at scale holds millions."""
    try:
        rows = ws.query_engine().query(
            f"SELECT {key} AS key, customer_ref_type, customer_ref FROM {table} "
            "WHERE customer_ref IS NOT NULL"
        )
    except TableNotFoundError:
        return {}
    keys = rows.column("key").to_pylist()
    refs = list(zip(rows.column("customer_ref_type").to_pylist(),
                    rows.column("customer_ref").to_pylist(), strict=True))  # fmt: skip
    del rows
    profile_of = _lookups(graph, set(refs))
    return {k: profile_of.get(ref) for k, ref in zip(keys, refs, strict=True)}


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
    for record_id, value in graph.identifiers_of_type("resident_id"):
        if record_id in assignment:
            ids.setdefault(assignment[record_id], set()).add(value)
    return sum(1 for values in ids.values() if len(values) > 1)

"""Golden records of the profiles a resolution run changed, written to the store and the lake.

For every affected profile, each attribute's candidate values (normalized: phones in E.164,
emails lowercased, names in their display form) are ranked by the spec's survivorship rules in
one SQL query; the winners form the golden record, the losers stay listed as its conflicts.

- The store's ``profile_registry`` gets the golden record with its conflicts (fast lookups for
  the API); merged ids are kept there as aliases of the survivor.
- The lake's ``profiles`` and ``profile_identifiers`` are rewritten for the affected profiles
  only (or wholly on a full run).

Example::

    write_profiles(ws, graph, spec, plan, affected=["prof_1"], gone=[], full=False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from custodia.core.errors import TableNotFoundError
from custodia.core.tables import PROFILE_IDENTIFIERS, PROFILES
from custodia.identity.golden import survivorship_sql
from custodia.identity.models import SURVIVING_ATTRIBUTES, IdentitySpec
from custodia.identity.normalize import normalize_name, normalize_values
from custodia.identity.profile_ids import ProfileIdPlan
from custodia.storage.store_identity import IdentityGraphStore
from custodia.workspace import Workspace

__all__ = ["PROFILES_PER_CHUNK", "golden_traits", "write_profiles"]

PROFILES_PER_CHUNK = 50_000

_NORMALIZED = ("phone", "email", "resident_id")


def write_profiles(
    ws: Workspace,
    graph: IdentityGraphStore,
    spec: IdentitySpec,
    plan: ProfileIdPlan,
    *,
    affected: Sequence[str],
    gone: Sequence[str],
    full: bool,
) -> None:
    """Rebuild the golden records of ``affected``; retire ``gone`` ids (merged into others).

    Profiles are processed in chunks of :data:`PROFILES_PER_CHUNK`, so memory stays bounded
    however many profiles a full run rebuilds.
    """
    now = ws.clock.now()
    created = graph.issued_profiles()
    stats = graph.profile_stats(None if full else list(affected))
    customers = _customer_rows(ws)
    members: dict[str, list[str]] = {}
    for record_id, profile_id in plan.assignment.items():
        members.setdefault(profile_id, []).append(record_id)
    lake_parts: list[pa.Table] = []
    for start in range(0, len(affected), PROFILES_PER_CHUNK):
        chunk = affected[start : start + PROFILES_PER_CHUNK]
        assignment = {r: p for p in chunk for r in members.get(p, ())}
        traits = golden_traits(ws, spec, assignment, customers)
        stored = _stored_traits(ws, chunk, traits, stats)
        rows = []
        for profile_id in chunk:
            rows.append({
                "profile_id": profile_id,
                "created_at": created.get(profile_id, now),
                "merged_into": None,
                "merged_at": None,
                "record_count": stats.get(profile_id, (0, None, None))[0],
                "traits": stored[profile_id],
                "updated_at": now,
            })  # fmt: skip
        graph.register_profiles(rows)
        lake_parts.append(_profile_rows(chunk, traits, stats, now))
    graph.register_profiles([
        {"profile_id": loser, "created_at": created.get(loser, now), "merged_into": survivor,
         "merged_at": now, "record_count": 0, "traits": None, "updated_at": now}
        for loser, survivor in sorted(plan.merged.items())
    ])  # fmt: skip
    profiles = pa.concat_tables(lake_parts) if lake_parts else PROFILES.arrow_schema().empty_table()
    identifiers = _identifier_rows(graph, None if full else affected)
    _write_lake(ws, affected, gone, profiles, identifiers, full=full)


def _stored_traits(
    ws: Workspace,
    chunk: Sequence[str],
    traits: dict[str, dict[str, Any]],
    stats: dict[str, tuple[int, datetime | None, datetime | None]],
) -> dict[str, Any]:
    """Traits of a chunk of profiles as the store keeps them: first and last seen added, L3
    values sealed (see privacy.column_sealing), all the chunk's keys in one batch."""
    out: dict[str, Any] = {}
    for profile_id in chunk:
        _count, first, last = stats.get(profile_id, (0, None, None))
        out[profile_id] = {**traits.get(profile_id, {}), "_seen": [_iso(first), _iso(last)]}
    return ws.sealing.seal_traits_of(out) if ws.sealing else out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _customer_rows(ws: Workspace) -> pa.Table | None:
    try:
        columns = ("record_id", "source", "updated_at", *SURVIVING_ATTRIBUTES)
        return ws.query_engine().query(f"SELECT {', '.join(columns)} FROM customer_records")
    except TableNotFoundError:
        return None


def _candidate_values(attribute: str, column: pa.ChunkedArray) -> list[str | None]:
    raw = column.to_pylist()
    if attribute in _NORMALIZED:
        return list(normalize_values(attribute, raw)[0])
    if attribute == "name":
        return [normalize_name(v).value if v is not None else None for v in raw]
    return [_text(v) for v in raw]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def golden_traits(
    ws: Workspace,
    spec: IdentitySpec,
    assignment: Mapping[str, str],
    customers: pa.Table | None,
) -> dict[str, dict[str, Any]]:
    """profile_id -> {attribute: {value, source, record_id, conflicts: [...]}} for the
    ``customers`` rows (``customer_records``) of the records in ``assignment``."""
    if customers is None or not assignment:
        return {}
    wanted = pa.array(sorted(assignment), pa.string())
    rows = customers.filter(pc.is_in(customers.column("record_id"), wanted))
    if rows.num_rows == 0:
        return {}
    record_ids = rows.column("record_id").to_pylist()
    profile_ids = [assignment[r] for r in record_ids]
    parts = []
    for attribute in SURVIVING_ATTRIBUTES:
        values = _candidate_values(attribute, rows.column(attribute))
        part = pa.table({
            "profile_id": pa.array(profile_ids, pa.string()),
            "record_id": rows.column("record_id"),
            "source": rows.column("source"),
            "updated_at": rows.column("updated_at"),
            "attribute": pa.array([attribute] * rows.num_rows, pa.string()),
            "value": pa.array(values, pa.string()),
        })  # fmt: skip
        parts.append(part.filter(pc.is_valid(part.column("value"))))
    candidates = pa.concat_tables(parts)
    ranked = ws.transform(survivorship_sql(spec), relations={"candidates": candidates})
    return _traits_from_ranked(ranked)


def _traits_from_ranked(ranked: pa.Table) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in ranked.to_pylist():
        attrs = out.setdefault(row["profile_id"], {})
        entry = attrs.get(row["attribute"])
        described = {"value": row["value"], "source": row["source"], "support": row["support"]}
        if row["chosen"]:
            attrs[row["attribute"]] = {**described, "record_id": row["record_id"], "conflicts": []}
        elif (
            entry is not None
            and row["value"] != entry["value"]
            and all(c["value"] != row["value"] for c in entry["conflicts"])
        ):
            entry["conflicts"].append(described)
    return out


def _profile_rows(
    chunk: Sequence[str],
    traits: Mapping[str, Mapping[str, Any]],
    stats: Mapping[str, tuple[int, datetime | None, datetime | None]],
    now: datetime,
) -> pa.Table:
    columns = {c.name for c in PROFILES.columns}
    rows = []
    for profile_id in chunk:
        row: dict[str, Any] = {"profile_id": profile_id}
        attrs = traits.get(profile_id, {})
        for attribute in SURVIVING_ATTRIBUTES:
            if attribute in columns:
                value = attrs.get(attribute, {}).get("value")
                is_date = attribute == "birthday" and value
                row[attribute] = date.fromisoformat(value) if is_date else value
        count, first, last = stats.get(profile_id, (0, None, None))
        row.update(record_count=count, first_seen=first, last_seen=last, updated_at=now)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=PROFILES.arrow_schema())


def _write_lake(
    ws: Workspace,
    affected: Sequence[str],
    gone: Sequence[str],
    profiles: pa.Table,
    identifiers: pa.Table,
    *,
    full: bool,
) -> None:
    lake = ws.lake
    info = {"job": "identity_resolve"}
    if full:
        lake.overwrite(PROFILES.zone.value, PROFILES.name, profiles, commit_info=info)
        lake.overwrite(
            PROFILE_IDENTIFIERS.zone.value, PROFILE_IDENTIFIERS.name, identifiers, commit_info=info
        )
        return
    if gone:
        lake.delete_by_keys(
            PROFILES.zone.value, PROFILES.name, "profile_id", list(gone), commit_info=info
        )
    lake.merge(PROFILES.zone.value, PROFILES.name, profiles, ["profile_id"], commit_info=info)
    retire = sorted(set(affected) | set(gone))
    lake.delete_by_keys(
        PROFILE_IDENTIFIERS.zone.value,
        PROFILE_IDENTIFIERS.name,
        "profile_id",
        retire,
        commit_info=info,
    )
    lake.append(
        PROFILE_IDENTIFIERS.zone.value, PROFILE_IDENTIFIERS.name, identifiers, commit_info=info
    )


def _identifier_rows(graph: IdentityGraphStore, profile_ids: Sequence[str] | None) -> pa.Table:
    """``profile_identifiers`` rows, converted to Arrow batch by batch (a full run reads
    millions of identifiers; never all of them as Python tuples at once)."""
    names = ("profile_id", "id_type", "id_value_normalized", "source", "record_id",
             "first_seen", "last_seen")  # fmt: skip
    schema = PROFILE_IDENTIFIERS.arrow_schema()
    types = [schema.field(name).type for name in names]
    batches = [
        pa.RecordBatch.from_arrays(
            [pa.array(col, kind) for kind, col in zip(types, zip(*rows, strict=True), strict=True)],
            schema=schema,
        )
        for rows in graph.identifier_rows(None if profile_ids is None else list(profile_ids))
        if rows
    ]
    return pa.Table.from_batches(batches, schema=schema)

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

__all__ = ["golden_traits", "write_profiles"]

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
    """Rebuild the golden records of ``affected``; retire ``gone`` ids (merged into others)."""
    now = ws.clock.now()
    scope = None if full else list(plan.assignment)
    records = [r for r in graph.records(scope) if r["record_id"] in plan.assignment]
    traits = golden_traits(ws, spec, plan.assignment)
    registry = graph.registry(list(affected) + list(plan.merged))
    stats = _record_stats(records, plan.assignment)
    rows = []
    for profile_id in affected:
        entry = registry.get(profile_id)
        count, first, last = stats.get(profile_id, (0, None, None))
        rows.append({
            "profile_id": profile_id,
            "created_at": entry.created_at if entry else now,
            "merged_into": None,
            "merged_at": None,
            "record_count": count,
            "traits": {**traits.get(profile_id, {}), "_seen": [_iso(first), _iso(last)]},
            "updated_at": now,
        })  # fmt: skip
    for loser, survivor in sorted(plan.merged.items()):
        entry = registry.get(loser)
        rows.append({
            "profile_id": loser,
            "created_at": entry.created_at if entry else now,
            "merged_into": survivor,
            "merged_at": now,
            "record_count": 0,
            "traits": None,
            "updated_at": now,
        })  # fmt: skip
    graph.register_profiles(rows)
    identifiers = _identifier_rows(graph, plan.assignment, records, scope)
    _write_lake(ws, plan, affected, gone, traits, stats, identifiers, full=full)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _record_stats(
    records: Sequence[Mapping[str, Any]], assignment: Mapping[str, str]
) -> dict[str, tuple[int, datetime | None, datetime | None]]:
    out: dict[str, tuple[int, datetime | None, datetime | None]] = {}
    for row in records:
        pid = assignment.get(row["record_id"])
        if pid is None:
            continue
        count, first, last = out.get(pid, (0, None, None))
        seen_first, seen_last = row["first_seen"], row["last_seen"]
        if seen_first is not None and (first is None or seen_first < first):
            first = seen_first
        if seen_last is not None and (last is None or seen_last > last):
            last = seen_last
        out[pid] = (count + 1, first, last)
    return out


def _customer_rows(ws: Workspace, record_ids: Sequence[str]) -> pa.Table | None:
    try:
        table = ws.query_engine().query("SELECT * FROM customer_records")
    except TableNotFoundError:
        return None
    return table.filter(pc.is_in(table.column("record_id"), pa.array(record_ids, pa.string())))


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
    ws: Workspace, spec: IdentitySpec, assignment: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """profile_id -> {attribute: {value, source, record_id, conflicts: [...]}}."""
    rows = _customer_rows(ws, sorted(assignment))
    if rows is None or rows.num_rows == 0:
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


def _profile_row(
    profile_id: str,
    traits: Mapping[str, Any],
    stats: tuple[int, datetime | None, datetime | None],
    now: datetime,
) -> dict[str, Any]:
    row: dict[str, Any] = {"profile_id": profile_id}
    for attribute in SURVIVING_ATTRIBUTES:
        if attribute not in {c.name for c in PROFILES.columns}:
            continue
        value = traits.get(attribute, {}).get("value")
        row[attribute] = date.fromisoformat(value) if attribute == "birthday" and value else value
    row.update(record_count=stats[0], first_seen=stats[1], last_seen=stats[2], updated_at=now)
    return row


def _write_lake(
    ws: Workspace,
    plan: ProfileIdPlan,
    affected: Sequence[str],
    gone: Sequence[str],
    traits: Mapping[str, Mapping[str, Any]],
    stats: Mapping[str, tuple[int, datetime | None, datetime | None]],
    identifiers: pa.Table,
    *,
    full: bool,
) -> None:
    now = ws.clock.now()
    lake = ws.lake
    profiles = pa.Table.from_pylist(
        [_profile_row(p, traits.get(p, {}), stats.get(p, (0, None, None)), now) for p in affected],
        schema=PROFILES.arrow_schema(),
    )
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


def _identifier_rows(
    graph: IdentityGraphStore,
    assignment: Mapping[str, str],
    records: Sequence[Mapping[str, Any]],
    scope: Sequence[str] | None,
) -> pa.Table:
    by_id = {r["record_id"]: r for r in records}
    rows = []
    for record_id, id_type, value in graph.identifiers_of(scope):
        if record_id not in assignment:
            continue
        meta = by_id.get(record_id, {})
        rows.append({
            "profile_id": assignment[record_id],
            "id_type": id_type,
            "id_value_normalized": value,
            "source": meta.get("source"),
            "record_id": record_id,
            "first_seen": meta.get("first_seen"),
            "last_seen": meta.get("last_seen"),
        })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=PROFILE_IDENTIFIERS.arrow_schema())

"""Enforcing one customer-set expiry ("delete after use"): the named data of one person goes.

The person is found from the expiry's ``profile_id`` (and the ids merged into it) with the
erasure's :func:`~custodia.pipeline.privacy_scope.person_scope`, so the same rows count as
theirs. Then, for the expiry's fields (:func:`~custodia.privacy.user_expiry.expiry_coverage`):

1. the fields are cleared (set to null) in the person's ``customer_records``,
   ``customer_records_filled`` and golden ``profiles`` rows, and their values noted;
2. identifiers of those types are deleted from the identity index and blind indexes, golden
   traits of those names from the profile registry, and the person's ``profile_identifiers``
   rows of those types from the lake;
3. the noted values are cut out of the person's raw landing rows, quarantined payloads and
   events' JSON (:mod:`custodia.privacy.value_removal`): they hold the same values under the
   source's own keys.

For the expiry's tables, the person's rows of those tables are deleted by surrogate key. The
caller vacuums and cleans the logs of every table touched, once per run.

Example::

    counts = enforce_expiry(ws, LakeEdits(ws, apply=True), expiry_row)
    counts["lake.customer_records.phone"]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Final

from custodia.core.errors import NotFoundError
from custodia.core.tables import table_spec
from custodia.pipeline.privacy_scope import PersonScope, person_scope
from custodia.pipeline.profile_view import ref_variants
from custodia.pipeline.retention_writes import LakeEdits
from custodia.privacy.user_expiry import expiry_coverage
from custodia.privacy.value_removal import ValueRemover
from custodia.storage.store_identity import IdentityGraphStore
from custodia.storage.store_retention import remove_person_fields
from custodia.workspace import Workspace

__all__ = ["enforce_expiry"]

_FIELD_TABLES: Final = (
    ("customer_records", "record_id"),
    ("customer_records_filled", "record_id"),
    ("profiles", "profile_id"),
)
_PAYLOADS: Final = (
    ("source_records_raw", "raw_id", ("payload",)),
    ("quarantine", "quarantine_id", ("payload",)),
    ("events", "message_id", ("traits", "properties", "context")),
)


def enforce_expiry(ws: Workspace, edits: LakeEdits, expiry: dict[str, Any]) -> dict[str, int]:
    """Remove what ``expiry`` (a ``user_expiries`` row) names; returns counts per place."""
    fields, tables = expiry_coverage(str(expiry["scope"]), list(expiry["names"]))
    try:
        scope = person_scope(ws, f"profile_id:{expiry['profile_id']}")
    except NotFoundError:
        return {}  # erased meanwhile: nothing of theirs is left
    if fields:
        _remove_fields(ws, edits, scope, fields)
    for table in tables:
        keys = scope.lake_keys.get(table)
        if keys is not None:
            edits.delete(table, keys.column, keys.keys)
    return dict(edits.counts)


def _remove_fields(
    ws: Workspace, edits: LakeEdits, scope: PersonScope, fields: Sequence[str]
) -> None:
    values: set[str] = set()
    for table, key in _FIELD_TABLES:
        keys = scope.lake_keys.get(table)
        if keys is not None:
            values |= _clear(edits, table, key, keys.keys, fields)
    values |= _identifier_values(ws, scope, fields)
    _store_fields(ws, edits, scope, fields)
    _profile_identifiers(edits, scope, fields)
    remover = ValueRemover(values)
    for table, key, columns in _PAYLOADS:
        keys = scope.lake_keys.get(table)
        if keys is not None:
            _rewrite(edits, table, key, keys.keys, columns, remover)


def _clear(
    edits: LakeEdits, table: str, key: str, keys: Sequence[str], fields: Sequence[str]
) -> set[str]:
    """Null ``fields`` in the rows of ``keys``; returns the values they held."""
    present = [f for f in fields if f in table_spec(table).column_names]
    if not present:
        return set()
    values: set[str] = set()
    rows = []
    for row in edits.read(table, key, keys, present):
        held = [f for f in present if row[f] is not None]
        values |= {v for f in held for v in _forms(row[f])}
        if held:
            rows.append({**row, **dict.fromkeys(present)})
    edits.update(table, key, rows, present)
    return values


def _forms(value: object) -> list[str]:
    """How a value may be written elsewhere (dates in the usual layouts)."""
    if isinstance(value, date):
        return [value.isoformat(), value.strftime("%Y%m%d"), value.strftime("%Y/%m/%d")]
    return [str(value)]


def _identifier_values(ws: Workspace, scope: PersonScope, fields: Sequence[str]) -> set[str]:
    found = IdentityGraphStore(ws.store).identifiers_of(scope.record_ids)
    return {v for _r, t, value in found if t in fields for v in ref_variants(t, value)}


def _store_fields(
    ws: Workspace, edits: LakeEdits, scope: PersonScope, fields: Sequence[str]
) -> None:
    counts = remove_person_fields(
        ws.store, profile_ids=scope.profile_ids, record_ids=scope.record_ids,
        fields=fields, apply=edits.apply,
    )  # fmt: skip
    for place, n in counts.items():
        edits.add_count(place, n)


def _profile_identifiers(edits: LakeEdits, scope: PersonScope, fields: Sequence[str]) -> None:
    """Drop the person's identifier rows of those types: delete theirs, put the others back."""
    table = "profile_identifiers"
    if table not in scope.lake_keys:
        return
    columns = table_spec(table).column_names
    rows = edits.read(table, "profile_id", scope.profile_ids, columns)
    gone = [r for r in rows if r["id_type"] in fields]
    if not gone:
        return
    edits.add_count(f"lake.{table}", len(gone))
    kept = [r for r in rows if r["id_type"] not in fields]
    edits.replace_rows(table, "profile_id", scope.profile_ids, kept)


def _rewrite(
    edits: LakeEdits,
    table: str,
    key: str,
    keys: Iterable[str],
    columns: Sequence[str],
    remover: ValueRemover,
) -> None:
    """Cut the values out of JSON ``columns``; each changed column counted per row."""
    for column in columns:
        rows = []
        for row in edits.read(table, key, list(keys), [column]):
            cleaned = remover(row[column])
            if cleaned is not None:
                rows.append({**row, column: cleaned})
        edits.update(table, key, rows, [column])

"""Access requests: everything the workspace holds about one person, machine-readable.

The rows come from :func:`custodia.pipeline.privacy_scope.person_scope` (the same scope an
erasure deletes), so an export holds the person's records, events, orders with their lines and
deliveries, interactions, touchpoints, raw landing rows, quarantined payloads, golden profile
and identifiers, and their store rows (identity graph, consents, review tasks, corrections,
unmask requests) - and nothing found only through an identifier someone else also holds.

Layout of the bundle directory::

    manifest.json        profile id, time, actor, files and row counts
    schema.json          per table: columns, types, tiers and descriptions (from core.tables)
    json/<table>.json    rows as a JSON array
    csv/<table>.csv      the same rows as CSV (nested values as JSON text)

Token hashes are never exported. One ``privacy.export`` audit event records the export.

Example::

    bundle = export_person(ws, "member_id:M1", actor="cli:dpo")
    bundle.files["customer_records"]     # rows exported from that table
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from custodia.core.errors import TableNotFoundError
from custodia.core.ids import new_id
from custodia.core.tables import table_spec
from custodia.pipeline.privacy_erasure import exports_dir
from custodia.pipeline.privacy_scope import PersonScope, person_scope
from custodia.privacy.audit_events import PrivacyAction, PrivacyEvent, record_privacy_event
from custodia.storage.store import AuditLog
from custodia.storage.store_erasure import person_rows
from custodia.workspace import Workspace

__all__ = ["ExportBundle", "export_person"]

_CHUNK = 400


@dataclass(frozen=True)
class ExportBundle:
    """Where an export was written and how many rows each table contributed."""

    export_id: str
    profile_id: str
    path: Path
    exported_at: datetime
    files: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "profile_id": self.profile_id,
            "path": str(self.path),
            "exported_at": self.exported_at.isoformat(),
            "tables": dict(sorted(self.files.items())),
        }


def export_person(ws: Workspace, ref: str, *, actor: str, out: Path | None = None) -> ExportBundle:
    """Write the person's data to ``out`` (default ``HOME/privacy/exports/<profile>-<id>``)."""
    scope = person_scope(ws, ref)
    export_id = new_id("exp")
    path = out or exports_dir(ws) / f"{scope.profile_id}-{export_id}"
    tables = {**_lake_rows(ws, scope), **_store_rows(ws, scope)}
    now = ws.clock.now()
    for name, rows in tables.items():
        _write_table(path, name, rows)
    counts = {name: len(rows) for name, rows in tables.items()}
    _write_json(path / "schema.json", _schema(tables))
    manifest = {"export_id": export_id, "profile_id": scope.profile_id,
                "exported_at": now.isoformat(), "tables": counts}  # fmt: skip
    _write_json(path / "manifest.json", manifest)
    bundle = ExportBundle(export_id, scope.profile_id, path, now, counts)
    _audit(ws, actor, bundle)
    return bundle


def _lake_rows(ws: Workspace, scope: PersonScope) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    engine = ws.query_engine()
    for keys in scope.lake_keys.values():
        rows: list[dict[str, Any]] = []
        for start in range(0, len(keys.keys), _CHUNK):
            chunk = list(keys.keys[start : start + _CHUNK])
            marks = ", ".join("?" for _ in chunk)
            sql = f'SELECT * FROM {keys.table} WHERE "{keys.column}" IN ({marks})'
            try:
                rows += engine.query(sql, chunk).to_pylist()
            except TableNotFoundError:
                break
        if rows:
            out[keys.table] = rows
    return out


def _store_rows(ws: Workspace, scope: PersonScope) -> dict[str, list[dict[str, Any]]]:
    found = person_rows(ws.store, profile_ids=scope.profile_ids, record_ids=scope.record_ids)
    return {
        f"store_{name}": [{k: v for k, v in row.items() if "hash" not in k} for row in rows]
        for name, rows in found.items()
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _write_table(path: Path, name: str, rows: list[dict[str, Any]]) -> None:
    plain = [{k: _plain(v) for k, v in row.items()} for row in rows]
    _write_json(path / "json" / f"{name}.json", plain)
    (path / "csv").mkdir(parents=True, exist_ok=True)
    with (path / "csv" / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(plain[0]))
        writer.writeheader()
        for row in plain:
            writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _write_json(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def _schema(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Columns of each exported table: type, tier and description from core.tables if known."""
    schema: dict[str, Any] = {}
    for name, rows in tables.items():
        try:
            spec = table_spec(name)
        except TableNotFoundError:
            schema[name] = {"columns": [{"name": c} for c in rows[0]]}
            continue
        schema[name] = {
            "description": spec.description,
            "columns": [
                {
                    "name": c.name,
                    "type": str(c.type),
                    "tier": c.tier.value,
                    "personal": c.personal,
                    "description": c.description,
                }
                for c in spec.columns
            ],
        }
    return schema


def _audit(ws: Workspace, actor: str, bundle: ExportBundle) -> None:
    event = PrivacyEvent(
        PrivacyAction.EXPORT.value,
        "profiles",
        subject_ref=bundle.profile_id,
        purpose="access_request",
        refs={"export_id": bundle.export_id},
        counts={"tables": len(bundle.files), "rows": sum(bundle.files.values())},
    )
    record_privacy_event(AuditLog(ws.store, ws.clock), actor, event)

"""The quarantine: what could not be stored as it should, kept with its payload and reason.

Nothing is dropped. A message that breaks the Segment spec or a tracking plan, a line that cannot
be read, a row a mapping cannot map: each becomes a :class:`QuarantineEntry` in the lakehouse table
``quarantine`` with the rule, the field and a one-line reason (never the value). Entries are keyed
by their content and origin, so loading the same bad file twice quarantines it once.

Example::

    q = Quarantine(ws.lake)
    q.add([QuarantineEntry.for_problem(source="pos", entity="pos_receipts", rule="invalid_json",
                                       reason="line is not valid JSON", payload=text,
                                       source_file="pos/a.csv", position=7, ...)])
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from custodia.core.ids import record_key
from custodia.core.tables import QUARANTINE
from custodia.storage.lake import Lakehouse


@dataclass(frozen=True)
class QuarantineEntry:
    """One thing that could not be stored, and why."""

    source: str
    kind: str  # event | record | line
    entity: str
    rule: str
    field: str | None
    reason: str
    payload: str
    received_at: datetime
    run_id: str
    source_file: str | None = None
    position: int | None = None
    status: str = "open"  # open: not stored, waits for a replay | flagged: stored, kept for review

    @property
    def quarantine_id(self) -> str:
        digest = hashlib.sha256(self.payload.encode("utf-8")).hexdigest()[:16]
        origin = f"{self.kind}|{self.source_file or ''}|{self.position or 0}|{self.rule}|{digest}"
        return record_key(self.source, origin)


class Quarantine:
    """Writes entries to the ``quarantine`` table (insert if absent)."""

    def __init__(self, lake: Lakehouse) -> None:
        self._lake = lake

    def add(self, entries: Sequence[QuarantineEntry], *, loaded_at: datetime) -> int:
        """Store the entries not stored yet; returns how many were new."""
        unique = {e.quarantine_id: e for e in entries}
        if not unique:
            return 0
        table = pa.Table.from_pylist(
            [_row(qid, e, loaded_at) for qid, e in unique.items()],
            schema=QUARANTINE.arrow_schema(),
        )
        return self._lake.append_new(
            QUARANTINE.zone.value, QUARANTINE.name, table, "quarantine_id"
        ).inserted

    def resolve(self, entries: Mapping[str, str], *, status: str, run_id: str, at: datetime) -> int:
        """Close entries (``replayed`` or ``discarded``) in one commit; returns how many changed.

        ``entries`` maps each ``quarantine_id`` to its source (the table's partition). Only the
        status columns are written: payload, rule and reason stay as they were.
        """
        ids = sorted(entries)
        if not ids:
            return 0
        changes = pa.table(
            {
                "quarantine_id": pa.array(ids, pa.string()),
                "status": pa.array([status] * len(ids), pa.string()),
                "resolved_at": pa.array([at] * len(ids), QUARANTINE.column("resolved_at").type),
                "resolved_run_id": pa.array([run_id] * len(ids), pa.string()),
                "source": pa.array([entries[i] for i in ids], pa.string()),
            }
        )
        result = self._lake.merge(
            QUARANTINE.zone.value, QUARANTINE.name, changes, ["quarantine_id"]
        )
        return result.updated


def _row(quarantine_id: str, entry: QuarantineEntry, loaded_at: datetime) -> dict[str, object]:
    return {
        "quarantine_id": quarantine_id,
        "kind": entry.kind,
        "entity": entry.entity,
        "rule": entry.rule,
        "field": entry.field,
        "reason": entry.reason,
        "payload": entry.payload,
        "source_file": entry.source_file,
        "position": entry.position,
        "received_at": entry.received_at,
        "status": entry.status,
        "resolved_at": None,
        "resolved_run_id": None,
        "source": entry.source,
        "run_id": entry.run_id,
        "loaded_at": loaded_at,
    }

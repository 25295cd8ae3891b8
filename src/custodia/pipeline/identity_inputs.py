"""What identity resolution reads: customer records, and the identities events reveal.

Two kinds of *identity records* enter the graph:

- ``customer`` records: rows of ``customer_records`` (CRM members, shop accounts, POS loyalty
  customers, enrichment rows), with their identifier columns;
- ``events`` records derived from the ``events`` table: one per anonymous id (holding every user
  id seen with it, e.g. by ``identify``), one per user id, and one per ``alias`` call (previous id
  and new user id). Linking these stitches a visitor's anonymous history to the known person,
  retroactively: earlier events of the anonymous id belong to the profile as soon as it is linked.

Each input is returned in long form, ``(record_id, id_type, raw value)``, next to the record
rows. ``since`` restricts both to what was loaded after a watermark (incremental runs).

Example::

    inputs = read_identity_inputs(ws, since=None)   # everything
    len(inputs.records), inputs.raw_identifiers[:1]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from custodia.core.errors import TableNotFoundError
from custodia.core.ids import record_key
from custodia.core.sql_text import quote_literal
from custodia.workspace import Workspace

__all__ = ["EVENTS_SOURCE", "IdentityInputs", "read_identity_inputs"]

EVENTS_SOURCE = "events"
CUSTOMER_ID_COLUMNS = ("resident_id", "member_id", "user_id", "phone", "email")


@dataclass(slots=True)
class IdentityInputs:
    """Identity records in scope, their raw identifiers and their customer-record rows."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    """record_id -> {source, kind, first_seen, last_seen}."""
    raw_identifiers: list[tuple[str, str, str | None]] = field(default_factory=list)
    customer_rows: pa.Table | None = None
    """The ``customer_records`` rows in scope (keys, times and identifier columns)."""
    max_loaded_at: datetime | None = None

    def forget_identifiers(self) -> None:
        """Drop the record rows and raw identifiers once stored (``customer_rows`` stays)."""
        self.records = {}
        self.raw_identifiers = []


def read_identity_inputs(
    ws: Workspace,
    *,
    since: datetime | None,
    stitch_events: bool = True,
    trait_identifiers: Mapping[str, Sequence[str]] | None = None,
) -> IdentityInputs:
    """Read the records to resolve: all of them, or those loaded after ``since``."""
    inputs = IdentityInputs()
    _read_customer_records(ws, since, inputs)
    if stitch_events:
        _read_event_identities(ws, since, inputs)
        if trait_identifiers:
            _read_trait_identities(ws, since, trait_identifiers, inputs)
    return inputs


def _query(ws: Workspace, sql: str, params: list[Any]) -> pa.Table | None:
    try:
        return ws.query_engine().query(sql, params)
    except TableNotFoundError:
        return None


def _read_customer_records(ws: Workspace, since: datetime | None, inputs: IdentityInputs) -> None:
    where, params = ("WHERE loaded_at > ?", [since]) if since else ("", [])
    columns = ", ".join(("record_id", "source", "registered_at", "updated_at", "loaded_at",
                         *CUSTOMER_ID_COLUMNS))  # fmt: skip
    table = _query(ws, f"SELECT {columns} FROM customer_records {where} ORDER BY record_id", params)
    if table is None or table.num_rows == 0:
        return
    inputs.customer_rows = table
    columns = table.to_pydict()
    for i, record_id in enumerate(columns["record_id"]):
        seen = columns["registered_at"][i] or columns["updated_at"][i]
        inputs.records[record_id] = {
            "source": columns["source"][i],
            "kind": "customer",
            "first_seen": seen,
            "last_seen": columns["updated_at"][i] or seen,
        }
        for id_type in CUSTOMER_ID_COLUMNS:
            value = columns[id_type][i]
            if value is not None:
                inputs.raw_identifiers.append((record_id, id_type, value))
    _note_loaded(inputs, table)


def _note_loaded(inputs: IdentityInputs, table: pa.Table) -> None:
    loaded = [v for v in table.column("loaded_at").to_pylist() if v is not None]
    if loaded:
        latest = max(loaded)
        inputs.max_loaded_at = max(inputs.max_loaded_at or latest, latest)


_EVENT_IDENTITIES_SQL = """
WITH scope AS (
  SELECT * FROM events {where}
),
touched_anon AS (SELECT DISTINCT anonymous_id FROM scope WHERE anonymous_id IS NOT NULL),
touched_user AS (SELECT DISTINCT user_id FROM scope WHERE user_id IS NOT NULL)
SELECT 'anonymous_id' AS kind, anonymous_id AS key, NULL AS previous_id,
       list(DISTINCT user_id) AS user_ids,
       min(timestamp) AS first_seen, max(timestamp) AS last_seen, max(loaded_at) AS loaded_at
FROM events WHERE anonymous_id IN (SELECT anonymous_id FROM touched_anon)
GROUP BY anonymous_id
UNION ALL
SELECT 'user_id', user_id, NULL, list(DISTINCT user_id), min(timestamp), max(timestamp),
       max(loaded_at)
FROM events WHERE user_id IN (SELECT user_id FROM touched_user)
GROUP BY user_id
UNION ALL
SELECT 'alias', user_id, previous_id, [user_id], min(timestamp), max(timestamp),
       max(loaded_at)
FROM scope WHERE type = 'alias' AND previous_id IS NOT NULL AND user_id IS NOT NULL
GROUP BY previous_id, user_id
ORDER BY 1, 2, 3
"""


def _read_event_identities(ws: Workspace, since: datetime | None, inputs: IdentityInputs) -> None:
    where, params = ("WHERE loaded_at > ?", [since]) if since else ("", [])
    table = _query(ws, _EVENT_IDENTITIES_SQL.format(where=where), params)
    if table is None or table.num_rows == 0:
        return
    for row in table.to_pylist():
        kind, key, previous = row["kind"], row["key"], row["previous_id"]
        label = f"{kind}:{previous}|{key}" if kind == "alias" else f"{kind}:{key}"
        record_id = record_key(EVENTS_SOURCE, label)
        inputs.records[record_id] = {
            "source": EVENTS_SOURCE,
            "kind": "events",
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
        }
        user_ids = [u for u in row["user_ids"] or [] if u is not None]
        if kind == "anonymous_id":
            inputs.raw_identifiers.append((record_id, "anonymous_id", key))
        elif kind == "alias":
            inputs.raw_identifiers.append((record_id, "anonymous_id", previous))
            inputs.raw_identifiers.append((record_id, "user_id", previous))
        inputs.raw_identifiers.extend((record_id, "user_id", u) for u in user_ids)
    _note_loaded(inputs, table)


def _trait_identities_sql(trait_identifiers: Mapping[str, Sequence[str]], where: str) -> str:
    lists = []
    for id_type, keys in sorted(trait_identifiers.items()):
        value = "coalesce(" + ", ".join(f"traits->>{quote_literal(k)}" for k in keys) + ")"
        lists.append(f"list(DISTINCT {value}) FILTER (WHERE {value} IS NOT NULL) AS {id_type}")
    return f"""
SELECT user_id, anonymous_id, {", ".join(lists)}, min(timestamp) AS first_seen,
       max(timestamp) AS last_seen, max(loaded_at) AS loaded_at
FROM events
WHERE type IN ('identify', 'group') AND traits IS NOT NULL
  AND (user_id IS NOT NULL OR anonymous_id IS NOT NULL) {where}
GROUP BY user_id, anonymous_id
ORDER BY user_id NULLS LAST, anonymous_id NULLS LAST
"""


def _read_trait_identities(
    ws: Workspace,
    since: datetime | None,
    trait_identifiers: Mapping[str, Sequence[str]],
    inputs: IdentityInputs,
) -> None:
    """Identifiers sent as traits (identify calls): one record per user id / anonymous id pair."""
    where, params = ("AND loaded_at > ?", [since]) if since else ("", [])
    table = _query(ws, _trait_identities_sql(trait_identifiers, where), params)
    if table is None or table.num_rows == 0:
        return
    for row in table.to_pylist():
        if not any(row[id_type] for id_type in trait_identifiers):
            continue  # traits without identifiers add nothing to the graph
        key = f"traits:{row['user_id'] or ''}|{row['anonymous_id'] or ''}"
        record_id = record_key(EVENTS_SOURCE, key)
        inputs.records[record_id] = {
            "source": EVENTS_SOURCE,
            "kind": "events",
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
        }
        if row["user_id"]:
            inputs.raw_identifiers.append((record_id, "user_id", row["user_id"]))
        if row["anonymous_id"]:
            inputs.raw_identifiers.append((record_id, "anonymous_id", row["anonymous_id"]))
        for id_type in sorted(trait_identifiers):
            inputs.raw_identifiers.extend((record_id, id_type, v) for v in row[id_type] or [])
    _note_loaded(inputs, table)

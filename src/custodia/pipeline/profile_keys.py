"""The link from every customer reference in the fact tables to its live profile (``profile_keys``).

Orders, touchpoints and interactions name their customer as ``(customer_ref_type,
customer_ref)`` in the source's own spelling (``139 1234 0002``, ``ZhangWei@Example.com``);
events name them by ``user_id`` and ``anonymous_id``. Identity resolution knows each person's
identifiers in normalized form (``profile_identifiers``). This step reads every distinct
reference once, normalizes it with identity resolution's own normalizers (and blind-indexes the
L3 types, as identity does), finds the live profile holding it and writes one row per reference
to the curated table ``profile_keys``. Analyses then reach profiles with a plain equi-join, on
DuckDB here and on Spark at scale::

    orders o JOIN profile_keys k
      ON k.ref_type = o.customer_ref_type AND k.ref_value = o.customer_ref

A reference several profiles hold (a family's shared phone) goes to the lowest profile id, with
``candidates`` saying how many held it. The table is rebuilt only when one of its inputs has a
new Delta version since the last build (:func:`refresh_profile_keys` checks; ``force`` rebuilds).

Example::

    report = refresh_profile_keys(ws)   # ProfileKeysReport(rebuilt=True, references=..., ...)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import pyarrow as pa

from custodia.core.tables import PROFILE_IDENTIFIERS, PROFILE_KEYS, table_spec
from custodia.identity.models import ID_TYPES
from custodia.identity.normalize import normalize_values
from custodia.pipeline.identifier_blinding import IdentifierBlinding
from custodia.storage.store import Watermarks
from custodia.workspace import Workspace

__all__ = ["REF_TABLES", "ProfileKeysReport", "refresh_profile_keys"]

REF_TABLES: Final = ("orders", "touchpoints", "interactions")
"""Tables naming their customer as (customer_ref_type, customer_ref)."""
_EVENT_KEYS: Final = ("user_id", "anonymous_id")
_WATERMARK: Final = ("pipeline", "profile_keys")
_FORMAT: Final = 2
"""The table's layout, part of the build stamp: a table built by an older release (before
``profile_key``, format 1) is rebuilt on the first refresh after an upgrade."""


@dataclass(frozen=True, slots=True)
class ProfileKeysReport:
    """What a refresh did: whether it rebuilt, references seen, linked and shared."""

    rebuilt: bool
    references: int = 0
    linked: int = 0
    shared: int = 0


def refresh_profile_keys(ws: Workspace, *, force: bool = False) -> ProfileKeysReport:
    """Rebuild ``profile_keys`` if an input changed since the last build (or ``force``)."""
    inputs = _input_versions(ws)
    stamp = json.dumps({"format": _FORMAT, "inputs": inputs}, sort_keys=True)
    watermarks = Watermarks(ws.store, ws.clock)
    present = ws.lake.exists(PROFILE_KEYS.zone.value, PROFILE_KEYS.name)
    if not force and present and watermarks.get(*_WATERMARK) == stamp:
        return ProfileKeysReport(rebuilt=False)
    refs = _references(ws, inputs)
    keys = _normalized(ws, refs)
    linked = _linked(ws, keys, inputs)
    _write(ws, linked)
    watermarks.set(*_WATERMARK, stamp)
    candidates = linked.column("candidates").to_pylist()
    return ProfileKeysReport(
        rebuilt=True,
        references=refs.num_rows,
        linked=linked.num_rows,
        shared=sum(1 for n in candidates if n > 1),
    )


def _input_versions(ws: Workspace) -> dict[str, int]:
    names = (PROFILE_IDENTIFIERS.name, *REF_TABLES, "events")
    out = {}
    for name in names:
        spec = table_spec(name)
        if ws.lake.exists(spec.zone.value, name):
            out[name] = ws.lake.version(spec.zone.value, name)
    return out


def _references(ws: Workspace, inputs: dict[str, int]) -> pa.Table:
    """Distinct (ref_type, ref_value) of every input table that exists."""
    parts = [
        f"SELECT DISTINCT customer_ref_type AS ref_type, customer_ref AS ref_value FROM {name} "
        "WHERE customer_ref_type IS NOT NULL AND customer_ref IS NOT NULL"
        for name in REF_TABLES
        if name in inputs
    ]
    if "events" in inputs:
        parts += [
            f"SELECT DISTINCT '{key}' AS ref_type, {key} AS ref_value FROM events "
            f"WHERE {key} IS NOT NULL"
            for key in _EVENT_KEYS
        ]
    if not parts:
        return pa.table({"ref_type": pa.array([], pa.string()), "ref_value": []})
    sql = "SELECT DISTINCT ref_type, ref_value FROM (" + " UNION ALL ".join(parts) + ")"
    return ws.query_engine().run_trusted(sql)


def _normalized(ws: Workspace, refs: pa.Table) -> pa.Table:
    """refs with the identifier value identity resolution stores for each (None: unusable)."""
    blinding = IdentifierBlinding(ws)
    types = refs.column("ref_type").to_pylist()
    values = refs.column("ref_value").to_pylist()
    out: list[str | None] = [None] * len(values)
    for id_type in sorted(set(types)):
        if id_type not in ID_TYPES:
            continue
        at = [i for i, t in enumerate(types) if t == id_type]
        normalized = normalize_values(id_type, [str(values[i]) for i in at])[0]
        for i, value in zip(at, normalized, strict=True):
            out[i] = None if value is None else blinding.value(id_type, value)
    return refs.append_column("id_value", pa.array(out, pa.string()))


_LINK_SQL = """
WITH linked AS (
  SELECT r.ref_type, CAST(r.ref_value AS VARCHAR) AS ref_value,
         min(i.profile_id) AS profile_id,
         CAST(count(DISTINCT i.profile_id) AS INTEGER) AS candidates
  FROM refs r
  JOIN ids i ON i.id_type = r.ref_type AND i.id_value_normalized = r.id_value
  GROUP BY 1, 2
)
SELECT ref_type, ref_value, profile_id,
       CAST(dense_rank() OVER (ORDER BY profile_id) AS BIGINT) AS profile_key, candidates
FROM linked
ORDER BY 1, 2
"""


def _linked(ws: Workspace, keys: pa.Table, inputs: dict[str, int]) -> pa.Table:
    if PROFILE_IDENTIFIERS.name not in inputs or keys.num_rows == 0:
        return PROFILE_KEYS.arrow_schema().empty_table()
    ids = ws.query_engine().run_trusted(
        "SELECT DISTINCT id_type, id_value_normalized, profile_id FROM profile_identifiers"
    )
    rows = ws.transform(_LINK_SQL, relations={"refs": keys, "ids": ids})
    now = pa.array([ws.clock.now()] * rows.num_rows, pa.timestamp("us", tz="UTC"))
    return rows.append_column("updated_at", now)


def _write(ws: Workspace, rows: pa.Table) -> None:
    ws.ensure_lake_table(PROFILE_KEYS)
    ws.lake.overwrite(
        PROFILE_KEYS.zone.value, PROFILE_KEYS.name, rows, commit_info={"job": "profile_keys"}
    )

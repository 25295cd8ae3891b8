"""The retention job's lake writes: delete rows by key, clear or rewrite columns by key.

Every change goes by surrogate key (no value reaches a commit predicate) and is counted per
place (``lake.events`` rows deleted, ``lake.customer_records.phone`` values cleared). In a dry
run (``apply=False``) nothing is written and the counts say what would change. The tables
written are remembered, so the run can vacuum them and clean their logs once at the end.

Example::

    edits = LakeEdits(ws, apply=True)
    edits.delete("events", "message_id", ["m-1"])
    rows = edits.read("profiles", "profile_id", ["prof_1"], ["phone"])
    edits.update("profiles", "profile_id", [{**rows[0], "phone": None}], ["phone"])
    edits.counts, edits.touched
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import pyarrow as pa

from custodia.core.sql_text import quote_ident
from custodia.core.tables import table_spec
from custodia.pipeline.privacy_scope import lake_rows
from custodia.workspace import Workspace

__all__ = ["COMMIT_INFO", "LakeEdits"]

COMMIT_INFO: Final = {"custodia_action": "privacy.retention"}
_CHUNK: Final = 400


class LakeEdits:
    """Counted, key-addressed changes to lake tables; writes only when ``apply``."""

    def __init__(self, ws: Workspace, *, apply: bool) -> None:
        self._ws = ws
        self.apply = apply
        self.counts: dict[str, int] = {}
        self.touched: set[tuple[str, str]] = set()

    def exists(self, table: str) -> bool:
        return self._ws.lake.exists(table_spec(table).zone.value, table)

    def select(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows of a read-only query over the canonical tables ([] when a table is missing)."""
        return lake_rows(self._ws, sql, params)

    def read(
        self, table: str, key: str, keys: Sequence[str], columns: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The rows of ``keys``: the key, the table's required columns and ``columns``."""
        spec = table_spec(table)
        wanted = _unique([key, *_required(table), *columns])
        select_list = ", ".join(quote_ident(c) for c in wanted)
        rows: list[dict[str, Any]] = []
        unique = sorted(set(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = (
                f"SELECT {select_list} FROM {quote_ident(spec.name)} "
                f"WHERE {quote_ident(key)} IN ({marks})"
            )
            rows += self.select(sql, chunk)
        return rows

    def delete(self, table: str, column: str, keys: Sequence[str]) -> int:
        """Delete the rows whose ``column`` is one of ``keys``; returns the rows (to be) deleted."""
        if not keys or not self.exists(table):
            return 0
        zone = table_spec(table).zone.value
        if self.apply:
            done = self._ws.lake.delete_by_keys(
                zone,  # type: ignore[arg-type]
                table, column, list(keys), commit_info=COMMIT_INFO,
            ).deleted  # fmt: skip
        else:
            done = len(self.read(table, column, keys, []))
        self.add_count(f"lake.{table}", done)
        if done and self.apply:
            self.touched.add((zone, table))
        return done

    def update(
        self, table: str, key: str, rows: Sequence[dict[str, Any]], changed: Sequence[str]
    ) -> None:
        """Write ``rows`` (from :meth:`read`, with new values in ``changed``) by key; each
        ``changed`` column is counted once per row."""
        if not rows:
            return
        for column in changed:
            self.add_count(f"lake.{table}.{column}", len(rows))
        if not self.apply:
            return
        schema = table_spec(table).arrow_schema()
        names = _unique([key, *_required(table), *changed])
        data = pa.table({n: pa.array([r[n] for r in rows], schema.field(n).type) for n in names})
        zone = table_spec(table).zone.value
        self._ws.lake.merge(zone, table, data, [key], commit_info=COMMIT_INFO)  # type: ignore[arg-type]
        self.touched.add((zone, table))

    def replace_rows(
        self, table: str, key: str, keys: Sequence[str], rows: Sequence[dict[str, Any]]
    ) -> None:
        """Delete the rows of ``keys`` and append ``rows`` (full rows) in their place: for a
        table without a one-column key (not counted here; the caller counts what it drops)."""
        if not self.apply:
            return
        spec = table_spec(table)
        zone = spec.zone.value
        lake = self._ws.lake
        lake.delete_by_keys(zone, table, key, list(keys), commit_info=COMMIT_INFO)  # type: ignore[arg-type]
        schema = spec.arrow_schema()
        data = pa.Table.from_pylist(list(rows), schema=schema)
        lake.append(zone, table, data, commit_info=COMMIT_INFO)  # type: ignore[arg-type]
        self.touched.add((zone, table))

    def add_count(self, place: str, n: int) -> None:
        if n:
            self.counts[place] = self.counts.get(place, 0) + n


def _required(table: str) -> list[str]:
    """Columns a write must carry (NOT NULL); a merge keeps their stored values."""
    return [c.name for c in table_spec(table).columns if not c.nullable]


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))

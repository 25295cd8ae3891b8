"""Land a source's records raw, in large columnar commits, and quarantine what cannot be read.

Records arrive as Arrow chunks. Chunks with the same fields are gathered up to ``LAND_ROWS`` rows
and landed in one Delta commit to ``source_records_raw``: the JSON payload and the key of every
row are built in one SQL statement over the chunk (see :mod:`custodia.collect.landing_sql`), never
row by row in Python. Read problems go to the quarantine in the same rhythm. The records are kept
columnar (with ``_source_file`` and ``_position``) for staging when the source has targets.

Example::

    landing = land_records(ws, run_id, source, read.items, at=now, keep=True)
    landing.landed, landing.rejected, landing.relation
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from custodia.collect.landing_sql import raw_landing_sql
from custodia.collect.mapping_spec import SourceMapping
from custodia.collect.mapping_sql import mapping_macros_sql
from custodia.collect.quarantine import Quarantine, QuarantineEntry
from custodia.collect.records import ReadProblem, RecordChunk
from custodia.core.tables import SOURCE_RECORDS_RAW
from custodia.workspace import Workspace

__all__ = ["LAND_ROWS", "Landing", "land_records", "problem_entry"]

LAND_ROWS = 250_000
RowsProgress = Callable[[int], None]


@dataclass
class Landing:
    """What landing one source produced: counts, and its records as Arrow for staging."""

    rows_in: int = 0
    landed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    chunks: list[pa.Table] = field(default_factory=list)

    @property
    def relation(self) -> pa.Table | None:
        """All records landed (fields, ``_source_file``, ``_position``), or ``None``."""
        if not self.chunks:
            return None
        return pa.concat_tables(self.chunks, promote_options="permissive")


@dataclass
class _Pending:
    chunks: list[RecordChunk] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(c.num_rows for c in self.chunks)

    def fits(self, chunk: RecordChunk) -> bool:
        return not self.chunks or self.chunks[0].table.schema.equals(chunk.table.schema)


def land_records(
    ws: Workspace,
    run_id: str,
    source: SourceMapping,
    items: Iterable[RecordChunk | ReadProblem],
    at: datetime,
    *,
    keep: bool,
    progress: RowsProgress | None = None,
) -> Landing:
    """Land every record raw and quarantine every read problem; keep records if ``keep``."""
    landing = Landing()
    pending = _Pending()
    for item in items:
        if isinstance(item, ReadProblem):
            pending.problems.append(item)
            continue
        if not pending.fits(item) or pending.rows >= LAND_ROWS:
            _flush(ws, run_id, source, at, pending, landing, keep)
            pending = _Pending()
            if progress:
                progress(landing.rows_in)
        pending.chunks.append(item)
    _flush(ws, run_id, source, at, pending, landing, keep)
    if progress:
        progress(landing.rows_in)
    return landing


def _flush(
    ws: Workspace,
    run_id: str,
    source: SourceMapping,
    at: datetime,
    pending: _Pending,
    landing: Landing,
    keep: bool,
) -> None:
    if pending.problems:
        entries = [problem_entry(source, p, run_id, at) for p in pending.problems]
        Quarantine(ws.lake).add(entries, loaded_at=at)
        landing.rejected.update(p.rule for p in pending.problems)
        landing.rows_in += len(pending.problems)
    if not pending.chunks:
        return
    records = pa.concat_tables([_located(chunk) for chunk in pending.chunks])
    fields = pending.chunks[0].table.column_names
    sql = raw_landing_sql(
        source=source.name, entity=source.entity, fields=fields, run_id=run_id, loaded_at=at
    )
    raw = ws.transform(sql, relations={"records": records}, setup=mapping_macros_sql(source))
    ws.lake.append(SOURCE_RECORDS_RAW.zone.value, SOURCE_RECORDS_RAW.name, raw)
    landing.rows_in += records.num_rows
    landing.landed += records.num_rows
    if keep:
        landing.chunks.append(records.drop_columns(["_key_scope"]))


def _located(chunk: RecordChunk) -> pa.Table:
    """The chunk's fields plus where each row came from."""
    rows = chunk.num_rows
    table = chunk.table.append_column("_source_file", pa.array([chunk.source_file] * rows))
    table = table.append_column("_position", chunk.positions)
    return table.append_column("_key_scope", pa.array([chunk.scope] * rows))


def problem_entry(
    source: SourceMapping, problem: ReadProblem, run_id: str, at: datetime
) -> QuarantineEntry:
    """The quarantine entry of a part of a file that could not be read as a record."""
    return QuarantineEntry(
        source=source.name,
        kind="line",
        entity=source.entity,
        rule=problem.rule,
        field=None,
        reason=problem.reason or problem.rule,
        payload=problem.raw,
        received_at=at,
        run_id=run_id,
        source_file=problem.source_file,
        position=problem.position,
    )

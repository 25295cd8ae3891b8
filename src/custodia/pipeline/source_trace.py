"""From a group of rows (a source's rows of one store) back to the files and load runs they came
from, and the files that never came.

Three sources of truth meet here: the canonical table (its rows carry ``source`` and ``run_id``),
the raw landing zone (``source_records_raw``: every record with the file it was read from) and
lineage (run events say which record field became the row's ``source_key``, so a row is joined
to the raw records that made it). From them: the group's last row, its files (newest first,
each with its rows, time span and the run that loaded it), the source's latest load, and the
files other groups delivered after the group's last one under a name that differs only by the
group's value (``store_SH002_2026-07.csv`` exists, ``store_SH001_2026-07.csv`` does not).

Example::

    trace = trace_group(ws, engine, "orders", "pos_receipts", {"store_id": "SH001"})
    trace.last_row_at, trace.files[0].file, trace.missing_files[:2]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from custodia.core.sql_text import quote_ident, quote_literal
from custodia.core.tables import SOURCE_RECORDS_RAW, table_spec
from custodia.pipeline.lineage_report import lineage_report
from custodia.pipeline.load_rerun import LOAD_JOBS
from custodia.storage.engine import QueryEngine
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

__all__ = ["FileLoad", "GroupTrace", "RunInfo", "trace_group"]

MAX_FILES = 5
MAX_MISSING = 24


class RunInfo(BaseModel):
    run_id: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None


class FileLoad(BaseModel):
    """One file of the group: how many of the group's rows it gave, their span, its load."""

    file: str
    rows: int
    first_at: datetime | None
    last_at: datetime | None
    run_id: str | None
    loaded_at: datetime | None


class GroupTrace(BaseModel):
    """Where one group's rows of one table come from (see the module docstring)."""

    table: str
    source: str
    filters: dict[str, str]
    rows: int
    first_row_at: datetime | None
    last_row_at: datetime | None
    time_column: str | None
    files: list[FileLoad] = []
    file_count: int = 0
    source_files: int = 0
    missing_files: list[str] = []
    """Files other groups have after the group's last file, named for this group (by analogy)."""
    runs: list[RunInfo] = []
    """The runs that loaded the group's newest files."""
    last_load: RunInfo | None = None
    """The source's newest load run, whatever it read."""
    key_field: str | None = None
    """The source field that became ``source_key`` (how rows were joined to raw records)."""
    note: str = ""


def trace_group(
    ws: Workspace,
    engine: QueryEngine,
    table: str,
    source: str,
    filters: Mapping[str, str],
) -> GroupTrace:
    """Trace the rows of ``table`` from ``source`` matching ``filters`` (column -> value)."""
    spec = table_spec(table)
    usable = {c: v for c, v in filters.items() if c in spec.column_names and c != "source"}
    where = _where(source, usable)
    time_column = spec.time_column
    summary = _summary(engine, table, where, time_column)
    trace = GroupTrace(table=table, source=source, filters=usable, time_column=time_column,
                       **summary)  # fmt: skip
    key_field = _key_field(ws, table, source)
    trace.key_field = key_field
    if key_field is not None:
        files = _files(engine, table, where, time_column, key_field)
        trace.files, trace.file_count = files[:MAX_FILES], len(files)
        all_files = _source_files(engine, source)
        trace.source_files = len(all_files)
        trace.missing_files = _missing(all_files, files, _values(engine, table, source, usable))
    trace.runs = _runs(ws, [f.run_id for f in trace.files if f.run_id])
    trace.last_load = _last_load(ws, source)
    trace.note = _note(trace)
    return trace


def _where(source: str, filters: Mapping[str, str]) -> str:
    parts = [f"t.source = {quote_literal(source)}"]
    parts += [
        f"t.{quote_ident(c)} IS NULL" if v == "(none)"
        else f"CAST(t.{quote_ident(c)} AS VARCHAR) = {quote_literal(v)}"
        for c, v in sorted(filters.items())
    ]  # fmt: skip
    return " AND ".join(parts)


def _summary(
    engine: QueryEngine, table: str, where: str, time_column: str | None
) -> dict[str, Any]:
    span = (
        f", min(t.{quote_ident(time_column)}) AS first_row_at, "
        f"max(t.{quote_ident(time_column)}) AS last_row_at"
        if time_column else ", NULL AS first_row_at, NULL AS last_row_at"
    )  # fmt: skip
    sql = f"SELECT count(*) AS rows{span} FROM {quote_ident(table)} AS t WHERE {where}"
    return dict(engine.query(sql).to_pylist()[0])


def _key_field(ws: Workspace, table: str, source: str) -> str | None:
    """The one source field the mapping made the row's ``source_key`` of, if it is one."""
    if "source_key" not in table_spec(table).column_names:
        return None
    view = lineage_report(ws, f"{table}.source_key")
    for origin in view.columns.get("source_key", []):
        if origin.source == source and len(origin.input_fields) == 1:
            field = origin.input_fields[0]
            expression = origin.expression.split("  [from ", 1)[0].strip().strip('"')
            return field if expression == field else None
    return None


def _files(
    engine: QueryEngine, table: str, where: str, time_column: str | None, key_field: str
) -> list[FileLoad]:
    time = f"t.{quote_ident(time_column)}" if time_column else "CAST(NULL AS TIMESTAMP)"
    path = quote_literal("$." + _json_name(key_field))
    sql = (
        f"SELECT r.source_file AS file, count(DISTINCT t.source_key) AS rows, "
        f"min({time}) AS first_at, max({time}) AS last_at, max(r.run_id) AS run_id, "
        f"max(r.loaded_at) AS loaded_at\n"
        f"FROM {quote_ident(table)} AS t JOIN {quote_ident(SOURCE_RECORDS_RAW.name)} AS r\n"
        f"  ON r.source = t.source AND json_extract_string(r.payload, {path}) = t.source_key\n"
        f"WHERE {where}\nGROUP BY 1\nORDER BY last_at DESC NULLS LAST, file DESC"
    )
    return [FileLoad(**row) for row in engine.query(sql).to_pylist()]


def _json_name(field: str) -> str:
    return field if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field) else f'"{field}"'


def _source_files(engine: QueryEngine, source: str) -> list[str]:
    sql = (
        f"SELECT DISTINCT source_file AS file FROM {quote_ident(SOURCE_RECORDS_RAW.name)} "
        f"WHERE source = {quote_literal(source)} AND source_file IS NOT NULL"
    )
    return sorted(str(row["file"]) for row in engine.query(sql).to_pylist())


def _values(
    engine: QueryEngine, table: str, source: str, filters: Mapping[str, str]
) -> dict[str, list[str]]:
    """Every value each filter column takes in the source's rows (the other groups)."""
    out: dict[str, list[str]] = {}
    for column in filters:
        sql = (
            f"SELECT DISTINCT CAST({quote_ident(column)} AS VARCHAR) AS v "
            f"FROM {quote_ident(table)} WHERE source = {quote_literal(source)}"
        )
        out[column] = [str(r["v"]) for r in engine.query(sql).to_pylist() if r["v"]]
    return out


def _missing(
    all_files: Sequence[str], group_files: Sequence[FileLoad], values: Mapping[str, list[str]]
) -> list[str]:
    """Names other groups' files would have for this group, that no file has, after the
    group's last file; kept when most other groups have one."""
    if not group_files:
        return []
    have = set(all_files)
    last = max(f.file for f in group_files[:1])
    votes: Counter[str] = Counter()
    others = 0
    for column, listed in values.items():
        mine = _group_value(column, group_files, listed)
        if mine is None:
            continue
        others = max(others, len(listed) - 1)
        for name in all_files:
            for other in listed:
                if other != mine and other in name:
                    candidate = name.replace(other, mine)
                    if candidate not in have and candidate > last:
                        votes[candidate] += 1
    needed = max(1, others // 2)
    return sorted(name for name, n in votes.items() if n >= needed)[:MAX_MISSING]


def _group_value(column: str, group_files: Sequence[FileLoad], listed: list[str]) -> str | None:
    """The group's value of ``column`` if the group's file names carry it."""
    names = [f.file for f in group_files]
    found = [v for v in listed if all(v in name for name in names)]
    return max(found, key=len) if found else None


def _runs(ws: Workspace, run_ids: Sequence[str]) -> list[RunInfo]:
    log = RunLog(ws.store)
    out = []
    for run_id in dict.fromkeys(run_ids):
        record = log.get_run(run_id)
        if record is not None:
            out.append(_run_info(record))
    return out


def _last_load(ws: Workspace, source: str) -> RunInfo | None:
    for record in RunLog(ws.store).list_runs(limit=200):
        params = record.params if isinstance(record.params, dict) else {}
        sources = params.get("sources")
        if record.kind in LOAD_JOBS and isinstance(sources, list) and source in sources:
            return _run_info(record)
    return None


def _run_info(record: Any) -> RunInfo:
    return RunInfo(run_id=record.run_id, kind=record.kind, status=record.status.value,
                   started_at=record.started_at, finished_at=record.finished_at)  # fmt: skip


def _note(trace: GroupTrace) -> str:
    who = ", ".join(f"{c} {v}" for c, v in trace.filters.items()) or "all rows"
    if not trace.rows:
        return f"{trace.source}: no rows of {trace.table} for {who}"
    text = f"{trace.source}: {who}'s last row in {trace.table} is {_at(trace.last_row_at)}"
    if trace.files:
        newest = trace.files[0]
        text += (f"; its last file {newest.file} ({newest.rows} rows up to "
                 f"{_at(newest.last_at)}) was loaded by run {newest.run_id} at "
                 f"{_at(newest.loaded_at)}")  # fmt: skip
    if trace.last_load is not None:
        text += (f"; the source's latest load is run {trace.last_load.run_id} "
                 f"({trace.last_load.kind}, {_at(trace.last_load.started_at)})")  # fmt: skip
    if trace.missing_files:
        shown = ", ".join(trace.missing_files[:4])
        more = f" and {len(trace.missing_files) - 4} more" if len(trace.missing_files) > 4 else ""
        text += f"; no file {shown}{more} (other groups have theirs)"
    return text


def _at(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")

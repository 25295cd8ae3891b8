"""Running an analysis as a recorded job whose results become curated tables.

Every analysis (RFM, funnels, paths, retention, attribution, ...) is defined once in
:mod:`custodia.analytics` as DuckDB-dialect SQL plus, where needed, Python over the aggregated
rows. :func:`run_analysis` gives it an :class:`~custodia.pipeline.sql_engines.EngineSession`
(DuckDB here, Spark at scale: the same SQL, transpiled), records a run (kind
``analyse.<kind>``, with the parameters and the summary), and stores each result table
(declared in :mod:`custodia.core.analysis_tables`) with ``analysis_name``, ``analysis_id`` and
``computed_at``: a new run of a name replaces that name's rows, older results stay reachable by
Delta time travel and by the run record.

Before the analysis runs, ``profile_keys`` (customer reference -> live profile) is refreshed
when the analysis reads it and its inputs changed (:mod:`custodia.pipeline.profile_keys`).

Example::

    run = run_analysis(ws, kind="rfm", name="rfm", params=params, reads=["orders", "profile_keys"],
                       compute=lambda session: rfm_output(session, params, now))
    run.summary, run.rows        # {"tiers": [...]}, {"analysis_rfm": 3477}
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pyarrow as pa
from pydantic import BaseModel

from custodia.core.analysis_tables import ANALYSIS_TABLES
from custodia.core.errors import ValidationError
from custodia.core.sql_text import quote_literal
from custodia.core.tables import PROFILE_KEYS, TableSpec, table_spec
from custodia.pipeline.profile_keys import refresh_profile_keys
from custodia.pipeline.sql_engines import EngineSession, engine_session
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = [
    "AnalysisOutput",
    "AnalysisRun",
    "Progress",
    "RowUpdate",
    "check_analysis_name",
    "run_analysis",
]

Progress = Callable[[str, int, int], None]
"""progress(message, done, total): long analyses report their steps (CLI bars, API job status)."""

_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class AnalysisOutput:
    """What an analysis computed: rows per result table, and a JSON-able summary."""

    tables: Mapping[str, pa.Table]
    summary: dict[str, Any] = field(default_factory=dict)
    updates: Mapping[str, RowUpdate] = field(default_factory=dict)
    """Tables updated in place instead of replaced (incremental analyses, e.g. traits)."""


@dataclass(frozen=True)
class RowUpdate:
    """An in-place update of one result table: the rows given are merged on ``key`` (within
    the analysis name) and the rows whose ``key`` is in ``removed`` are deleted (under every
    name: e.g. profiles that no longer exist)."""

    key: str
    removed: Sequence[str] = ()


@dataclass(frozen=True)
class AnalysisRun:
    """A finished analysis: its run id, parameters, summary and rows stored per table."""

    analysis_id: str
    kind: str
    name: str
    params: dict[str, Any]
    summary: dict[str, Any]
    rows: dict[str, int]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "analysis_id": self.analysis_id,
            "kind": self.kind,
            "name": self.name,
            "params": self.params,
            "summary": self.summary,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
        }


def check_analysis_name(name: str) -> str:
    """A run name: lower-case letters, digits and ``_`` (it is stored in every result row)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationError(
            "name", "identifier", "name: lower-case letters, digits and '_', starting with a letter"
        )
    return name


def run_analysis(
    ws: Workspace,
    *,
    kind: str,
    name: str,
    params: BaseModel,
    reads: Sequence[str],
    compute: Callable[[EngineSession], AnalysisOutput],
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Run ``compute`` over ``reads`` on ``engine`` as one recorded run; store its tables."""
    check_analysis_name(name)
    report = progress or _silent
    param_doc = params.model_dump(mode="json")
    runs = RunLog(ws.store, ws.clock)
    run_id = runs.start_run(f"analyse.{kind}", {"name": name, "engine": engine, **param_doc})
    started = time.perf_counter()
    try:
        if PROFILE_KEYS.name in reads:
            report("linking customer references to profiles", 0, 3)
            refresh_profile_keys(ws)
        report(f"computing {kind}", 1, 3)
        present = [t for t in reads if _exists(ws, t)]
        with engine_session(ws, present, engine=engine, purpose="analysis") as session:
            output = compute(session)
        report("storing results", 2, 3)
        rows = _store(ws, run_id, name, output.tables, output.updates)
    except Exception as exc:
        runs.fail_run(run_id, exc)
        raise
    runs.finish_run(
        run_id, RunStatus.SUCCEEDED, stats={"name": name, "rows": rows, "summary": output.summary}
    )
    report("done", 3, 3)
    return AnalysisRun(
        analysis_id=run_id,
        kind=kind,
        name=name,
        params=param_doc,
        summary=output.summary,
        rows=rows,
        seconds=time.perf_counter() - started,
    )


def _exists(ws: Workspace, table: str) -> bool:
    return ws.lake.exists(table_spec(table).zone.value, table)


def missing_result(kind: str, name: str, *, field: str) -> ValidationError:
    """The error for a parameter ``field`` naming an analysis run that stored no results."""
    return ValidationError(
        field, "analysis_run",
        f"{field}: no {kind} analysis named {name!r}; run `custodia analyse {kind}` first",
    )  # fmt: skip


def has_results(ws: Workspace, session: EngineSession | None, table: str, name: str) -> bool:
    """Whether the analysis ``name`` stored rows in its result ``table`` (``session``: also
    count the rows; ``None``: only check the table exists, before a session is opened)."""
    if not _exists(ws, table):
        return False
    if session is None:
        return True
    sql = f"SELECT count(*) AS n FROM {table} WHERE analysis_name = {quote_literal(name)}"
    return bool(session.run(sql).to_pylist()[0]["n"])


def _store(
    ws: Workspace,
    run_id: str,
    name: str,
    tables: Mapping[str, pa.Table],
    updates: Mapping[str, RowUpdate],
) -> dict[str, int]:
    specs = {spec.name: spec for spec in ANALYSIS_TABLES}
    now = ws.clock.now()
    rows: dict[str, int] = {}
    for table, data in tables.items():
        spec = specs.get(table)
        if spec is None:
            raise ValidationError("table", "analysis_table", f"{table}: not an analysis table")
        stamped = _stamped(spec, data, run_id, name, now)
        ws.ensure_lake_table(spec)
        info = {"job": f"analyse:{name}", "run_id": run_id}
        update = updates.get(table)
        if update is not None:
            keys = ("analysis_name", update.key)
            ws.lake.merge(spec.zone.value, spec.name, stamped, keys, commit_info=info)
            ws.lake.delete_by_keys(
                spec.zone.value, spec.name, update.key, update.removed, commit_info=info
            )
        else:  # one commit: readers see the previous run's rows or this run's, never neither
            ws.lake.replace_where(
                spec.zone.value, spec.name, stamped, "analysis_name", name, commit_info=info
            )
        rows[table] = stamped.num_rows
    return rows


def _stamped(spec: TableSpec, data: pa.Table, run_id: str, name: str, now: Any) -> pa.Table:
    n = data.num_rows
    columns = {  # one value repeated: built in C, not from a Python list per row
        "analysis_name": pa.repeat(pa.scalar(name, pa.string()), n),
        "analysis_id": pa.repeat(pa.scalar(run_id, pa.string()), n),
        "computed_at": pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), n),
    }
    arrays = []
    for column in spec.columns:
        if column.name in columns:
            arrays.append(columns[column.name])
        elif column.name in data.column_names:
            arrays.append(data.column(column.name).cast(column.type))
        else:
            arrays.append(pa.nulls(n, column.type))
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema())


def _silent(_message: str, _done: int, _total: int) -> None:
    return None

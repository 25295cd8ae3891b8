"""Computed traits and tags on profiles, materialized in ``analysis_profile_traits``.

The spec comes from ``HOME/analytics/traits.yaml`` (written from the shipped file on the first
run, for the team to edit; a broken edit is reported in the run's summary and the last valid copy
stays in force). A run computes one row per live profile on the engine (DuckDB or Spark, one
definition: :mod:`custodia.analytics.traits_sql`), finishes the rows (JSON map, tags) and stores
them.

Incremental by default: after a first full run, a run recomputes only the *due* profiles, those
that may have changed since the last run (docs/analytics-traits.md, "Incremental rule"):

- rows of a source loaded since (``loaded_at`` above the newest the last run saw);
- rows entering or leaving a window because the as-of date moved (and ages that changed);
- profiles rebuilt since (``profiles.updated_at``), new profiles, and profiles whose customer
  references moved (``profile_keys`` compared with the version the last run read);
- rows of profiles that no longer exist are deleted.

A changed spec, a missing state or ``full`` recomputes every profile.

Example::

    run = run_traits(ws, TraitsParams(as_of=date(2026, 11, 1)))
    run.summary["mode"], run.summary["profiles_computed"]      # "full", 528
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from custodia.analytics.traits_spec import (
    TraitsParams,
    TraitsSpec,
    load_traits_file,
    parse_traits,
    shipped_traits_text,
)
from custodia.analytics.traits_sql import DueSince, due_sql, finish_sql, traits_sql
from custodia.core.errors import TableNotFoundError, TimeTravelError
from custodia.core.tables import PROFILE_KEYS, table_spec
from custodia.pipeline.analysis_runs import (
    AnalysisOutput,
    AnalysisRun,
    Progress,
    RowUpdate,
    check_analysis_name,
    run_analysis,
)
from custodia.pipeline.file_in_force import FileInForce, InForce
from custodia.pipeline.sql_engines import EngineSession
from custodia.storage.store import Watermarks
from custodia.workspace import Workspace

__all__ = ["TRAITS_TABLE", "profile_traits", "run_traits", "traits_in_force", "traits_path"]

TRAITS_TABLE: Final = "analysis_profile_traits"
_SOURCES: Final = ("orders", "order_lines", "events", "interactions", "touchpoints")
_STATE: Final = "analysis_traits"


def traits_path(ws: Workspace) -> Path:
    return ws.home / "analytics" / "traits.yaml"


def _traits_file(ws: Workspace) -> FileInForce[TraitsSpec]:
    return FileInForce(
        traits_path(ws), shipped_traits_text,
        lambda text, origin: parse_traits(text, origin=origin), load_traits_file,
    )  # fmt: skip


def traits_in_force(ws: Workspace) -> InForce[TraitsSpec]:
    """The workspace's spec: its file if valid, else the last valid copy, else the shipped."""
    return _traits_file(ws).in_force()


@dataclasses.dataclass(frozen=True)
class _State:
    """What the last successful run of a name saw (stored as JSON in the watermarks)."""

    digest: str
    as_of: date
    keys_version: int | None
    loaded: dict[str, datetime]

    def to_json(self) -> str:
        return json.dumps({
            "digest": self.digest, "as_of": self.as_of.isoformat(),
            "keys_version": self.keys_version,
            "loaded": {k: v.isoformat() for k, v in sorted(self.loaded.items())},
        })  # fmt: skip

    @staticmethod
    def from_json(text: str | None) -> _State | None:
        if not text:
            return None
        doc = json.loads(text)
        return _State(
            doc["digest"], date.fromisoformat(doc["as_of"]), doc["keys_version"],
            {k: datetime.fromisoformat(v) for k, v in doc["loaded"].items()},
        )  # fmt: skip


def run_traits(
    ws: Workspace,
    params: TraitsParams,
    *,
    name: str = "traits",
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> AnalysisRun:
    """Compute the traits (incrementally unless ``params.full``) as a recorded analysis."""
    check_analysis_name(name)
    file = _traits_file(ws)
    file.ensure()
    found = file.in_force()
    spec = found.value
    resolved = params.model_copy(update={"as_of": params.as_of or ws.clock.now().date()})
    as_of = resolved.as_of
    assert as_of is not None
    marks = Watermarks(ws.store, ws.clock)
    last = _State.from_json(marks.get(_STATE, name))
    seen: dict[str, _State] = {}

    def compute(session: EngineSession) -> AnalysisOutput:
        present = {t for t in ("profiles", PROFILE_KEYS.name, *_SOURCES) if _exists(ws, t)}
        state = _State(spec.digest(), as_of, _keys_version(ws, present), _loaded(session, present))
        seen["state"] = state
        incremental = _can_increment(ws, name, resolved, last, state, present)
        extra = {"spec": found.origin, **({"spec_error": found.error} if found.error else {})}
        if incremental is None:
            return _output(ws, spec, session, as_of, present, None, extra)
        assert last is not None
        due, removed = _due_profiles(ws, session, spec, name, as_of, last, present)
        session.add_relation("due_profiles", due)
        return _output(ws, spec, session, as_of, present, removed, extra)

    run = run_analysis(
        ws, kind="traits", name=name, params=resolved, reads=["profiles", PROFILE_KEYS.name,
        *_SOURCES], compute=compute, engine=engine, progress=progress,
    )  # fmt: skip
    marks.set(_STATE, name, seen["state"].to_json())
    summary = {**run.summary, "tags": _tag_counts(ws, name)}
    return dataclasses.replace(run, summary=summary)


def _exists(ws: Workspace, table: str) -> bool:
    return ws.lake.exists(table_spec(table).zone.value, table)


def _keys_version(ws: Workspace, present: set[str]) -> int | None:
    if PROFILE_KEYS.name not in present:
        return None
    return ws.lake.version(PROFILE_KEYS.zone.value, PROFILE_KEYS.name)


def _loaded(session: EngineSession, present: set[str]) -> dict[str, datetime]:
    """Newest ``loaded_at`` of each source (``updated_at`` of profiles) in this session."""
    parts = [
        f"SELECT '{t}' AS t, max({'updated_at' if t == 'profiles' else 'loaded_at'}) AS m FROM {t}"
        for t in ("profiles", *_SOURCES)
        if t in present
    ]
    if not parts:
        return {}
    rows = session.run(" UNION ALL ".join(parts)).to_pylist()
    return {r["t"]: r["m"] for r in rows if r["m"] is not None}


def _can_increment(
    ws: Workspace,
    name: str,
    params: TraitsParams,
    last: _State | None,
    state: _State,
    present: set[str],
) -> _State | None:
    """The last state when this run may be incremental (same spec, stored rows), else None."""
    if params.full or last is None or last.digest != state.digest:
        return None
    if TRAITS_TABLE not in {t for t in ws.table_locations() if _table_exists(ws, t)}:
        return None
    if "profiles" not in present:
        return None
    return last


def _table_exists(ws: Workspace, table: str) -> bool:
    try:
        return _exists(ws, table)
    except Exception:  # a table name the model does not declare
        return False


def _due_profiles(
    ws: Workspace,
    session: EngineSession,
    spec: TraitsSpec,
    name: str,
    as_of: date,
    last: _State,
    present: set[str],
) -> tuple[pa.Table, list[str]]:
    """The profiles to recompute, and the stored profiles that no longer exist."""
    due: set[str] = set()
    sql = due_sql(spec, as_of, DueSince(last.as_of, last.loaded), present=present)
    if sql is not None:
        due.update(session.run(sql).column("profile_id").to_pylist())
    due.update(_rekeyed(ws, last.keys_version, present))
    stored = ws.query_engine().run_trusted(
        f"SELECT profile_id FROM {TRAITS_TABLE} WHERE analysis_name = ?", [name]
    )
    live = session.run("SELECT profile_id FROM profiles").column("profile_id").to_pylist()
    kept = set(stored.column("profile_id").to_pylist())
    due.update(set(live) - kept)
    due &= set(live)
    removed = sorted(kept - set(live))
    return pa.table({"profile_id": pa.array(sorted(due), pa.string())}), removed


def _rekeyed(ws: Workspace, version: int | None, present: set[str]) -> set[str]:
    """Profiles gaining or losing a customer reference since ``profile_keys`` ``version``."""
    current = _keys_version(ws, present)
    if current is None or version == current:
        return set()
    cols = "ref_type, ref_value, profile_id"
    if version is None:
        old = f"SELECT {cols} FROM profile_keys WHERE false"
    else:
        old = f"SELECT {cols} FROM profile_keys VERSION AS OF {int(version)}"
    new = f"SELECT {cols} FROM profile_keys"
    sql = f"SELECT DISTINCT profile_id FROM (({new} EXCEPT {old}) UNION ALL ({old} EXCEPT {new}))"
    try:
        rows = ws.query_engine().run_trusted(sql)
    except TimeTravelError:  # history cleaned: every linked profile is due
        rows = ws.query_engine().run_trusted("SELECT DISTINCT profile_id FROM profile_keys")
    return set(rows.column("profile_id").to_pylist())


def _output(
    ws: Workspace,
    spec: TraitsSpec,
    session: EngineSession,
    as_of: date,
    present: set[str],
    removed: list[str] | None,
    extra: dict[str, Any],
) -> AnalysisOutput:
    if "profiles" in present:
        wide = session.run(traits_sql(spec, as_of, present=present, due=removed is not None))
    else:
        wide = pa.table({"profile_id": pa.array([], pa.string())})
    rows = _finish(ws, spec, wide, as_of)
    summary = {
        "as_of": as_of.isoformat(),
        "mode": "full" if removed is None else "incremental",
        "profiles_computed": rows.num_rows,
        "profiles_removed": len(removed or []),
        "traits": len(spec.traits),
        **extra,
    }
    updates = {} if removed is None else {TRAITS_TABLE: RowUpdate("profile_id", removed)}
    return AnalysisOutput(tables={TRAITS_TABLE: rows}, summary=summary, updates=updates)


def _finish(ws: Workspace, spec: TraitsSpec, wide: pa.Table, as_of: date) -> pa.Table:
    """JSON map and tags over the engine's rows (one per profile), with the as-of date."""
    wide = _conformed(spec, wide)
    rows = ws.transform(finish_sql(spec), relations={"wide": wide})
    return rows.append_column("as_of", pa.array([as_of] * rows.num_rows, pa.date32()))


def _conformed(spec: TraitsSpec, wide: pa.Table) -> pa.Table:
    """Every trait column present (an empty result has none), timestamps as ISO text, decimals
    as floats, so the JSON map reads the same from either engine."""
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"profile_id": wide.column("profile_id")}
    for trait in spec.traits:
        if trait.name not in wide.column_names:
            kind = pa.list_(pa.string()) if trait.is_list else pa.string()
            columns[trait.name] = pa.nulls(wide.num_rows, kind)
            continue
        column = wide.column(trait.name)
        if pa.types.is_timestamp(column.type):
            utc = column.cast(pa.timestamp("s", tz="UTC"), safe=False)
            column = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_decimal(column.type):
            column = column.cast(pa.float64())
        columns[trait.name] = column
    return pa.table(columns)


def _tag_counts(ws: Workspace, name: str) -> list[dict[str, Any]]:
    """Profiles per tag in the stored table (after this run), most frequent first."""
    sql = (
        "SELECT tag, count(*) AS profiles FROM (SELECT unnest(tags) AS tag FROM "
        f"{TRAITS_TABLE} WHERE analysis_name = ?) GROUP BY tag ORDER BY profiles DESC, tag"
    )
    rows: list[dict[str, Any]] = ws.query_engine().run_trusted(sql, [name]).to_pylist()
    return rows


def profile_traits(ws: Workspace, profile_id: str, *, name: str = "traits") -> dict[str, Any]:
    """The stored traits and tags of one profile ({} before the first run): for the 360 view."""
    sql = (
        "SELECT as_of, traits, identity_tags, need_tags, value_tags, computed_at FROM "
        f"{TRAITS_TABLE} WHERE analysis_name = ? AND profile_id = ?"
    )
    try:
        rows = ws.query_engine().run_trusted(sql, [name, profile_id]).to_pylist()
    except TableNotFoundError:
        return {}
    if not rows:
        return {}
    row = rows[0]
    return {
        "as_of": row["as_of"].isoformat(),
        "computed_at": row["computed_at"].isoformat(),
        "traits": json.loads(row["traits"]),
        "tags": {d: row[f"{d}_tags"] for d in ("identity", "need", "value")},
    }

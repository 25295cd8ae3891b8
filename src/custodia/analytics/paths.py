"""Paths: where people go after a start event, or how they arrive at an end event.

Each person's behavioural calls (see :mod:`custodia.analytics.event_stream`) are cut into
sessions (a gap longer than ``session_minutes`` starts a new one), labels are cleaned by the
regex rules in order (``/p/SKU-123`` -> ``/p/*``, ``Product Detail`` -> ``Product``), and, by
default, a label repeated back to back counts once. In every session holding the start event
(its first occurrence), steps 0..``steps`` follow it; for an end event (its last occurrence in
the session), steps -``steps``..0 lead to it. The result is Sankey data: nodes (step, label)
and links (step, source -> target; ``(end)`` when the session ended early, ``(start)`` when it
began less than ``steps`` before the end), plus the most frequent whole paths. One SQL
statement, DuckDB dialect, transpiled to Spark; events are sorted by a 64-bit key of the person
(:data:`~custodia.analytics.event_stream.PERSON_KEY`), and :func:`path_rows_of` reruns the
query on the people themselves when two of them share a key.

Example::

    params = PathParams(start_event="Home", steps=4, clean=["^Product Detail$=Product"])
    rows = path_rows_of(lambda sql: session.run(sql).to_pylist(), params, linked=True)
    table_rows, summary = path_rows(rows, params)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from custodia.analytics.event_stream import LABEL_SQL, PERSON_KEY, TimeRange, event_stream_sql
from custodia.core.sql_text import quote_literal

__all__ = [
    "END",
    "MIXED",
    "START",
    "CleanRule",
    "PathParams",
    "path_rows",
    "path_rows_of",
    "paths_sql",
]

END: Final = "(end)"
MIXED: Final = "mixed"
"""The kind of the row saying two people shared a person key (the query then reruns)."""
START: Final = "(start)"
_ORDER: Final = "ORDER BY ts, message_id"


class CleanRule(BaseModel):
    """Replace every match of ``pattern`` in a label by ``replacement`` (plain text: no group
    references, as DuckDB and Spark write them differently)."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(min_length=1, max_length=200)
    replacement: str = Field(default="", max_length=200)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"clean: not a regular expression ({exc.msg})") from None
        return value

    @field_validator("replacement")
    @classmethod
    def _plain(cls, value: str) -> str:
        if "\\" in value or "$" in value:
            raise ValueError("clean: the replacement is plain text (no \\ or $)")
        return value

    @classmethod
    def parse(cls, text: str) -> CleanRule:
        """``REGEX=REPLACEMENT`` (split at the last ``=``)."""
        pattern, sep, replacement = text.rpartition("=")
        if not sep:
            raise ValueError("clean: REGEX=REPLACEMENT")
        return cls(pattern=pattern, replacement=replacement)


class PathParams(TimeRange):
    """A path query: exactly one of ``start_event`` / ``end_event``."""

    start_event: str | None = Field(default=None, min_length=1, max_length=200)
    end_event: str | None = Field(default=None, min_length=1, max_length=200)
    steps: int = Field(default=5, ge=1, le=20, description="Steps after the start / before the end")
    session_minutes: int = Field(default=30, ge=1, le=1440, description="Gap ending a session")
    clean: list[CleanRule] = Field(default_factory=list, max_length=20)
    collapse_repeats: bool = Field(default=True, description="A label repeated back to back once")
    top: int = Field(default=20, ge=1, le=500, description="Most frequent whole paths kept")

    @field_validator("clean", mode="before")
    @classmethod
    def _parse_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [CleanRule.parse(v) if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _one_anchor(self) -> PathParams:
        if (self.start_event is None) == (self.end_event is None):
            raise ValueError("start_event: give exactly one of start_event and end_event")
        return self

    @property
    def anchor(self) -> str:
        return self.start_event or self.end_event or ""

    @property
    def forward(self) -> bool:
        return self.start_event is not None


def cleaned_label_sql(rules: list[CleanRule]) -> str:
    out = LABEL_SQL
    for rule in rules:
        out = (
            f"regexp_replace({out}, {quote_literal(rule.pattern)}, "
            f"{quote_literal(rule.replacement)}, 'g')"
        )
    return out


def path_rows_of(
    run: Callable[[str], list[dict[str, Any]]],
    params: PathParams,
    *,
    linked: bool,
    key: str = PERSON_KEY,
) -> list[dict[str, Any]]:
    """The rows of :func:`paths_sql` as run by ``run``. Events are sorted by a 64-bit key of
    the person; when two people ever share a key, the query runs again on the people
    themselves, so the result is exact."""
    rows = run(paths_sql(params, linked=linked, key=key))
    if any(row["kind"] == MIXED for row in rows):
        rows = run(paths_sql(params, linked=linked, key=None))
    return rows


def paths_sql(params: PathParams, *, linked: bool, key: str | None = PERSON_KEY) -> str:
    """Nodes, links and top paths as one result: ``kind, step, source, target, path, rank,
    sessions, persons``; and a row of kind ``mixed`` when two people shared a ``key`` (the SQL
    function keying a person's events; ``None`` keys them by the person itself).

    Two sorts of each person's events: the first finds session starts and repeats (the
    previous event), the second numbers what is kept and cuts sessions. Positions count over
    the person's whole stream, so a step is a difference of positions within one session."""
    n, gap_ms = params.steps, params.session_minutes * 60_000
    stream = event_stream_sql(
        [f"{cleaned_label_sql(params.clean)} AS node"], params.where_sql(), linked=linked
    )
    pk = "person" if key is None else f"{key}(person)"
    over = f"OVER (PARTITION BY pk {_ORDER})"
    again = "OVER (PARTITION BY pk ORDER BY rn)"  # rn: the first sort's order
    running = "OVER (PARTITION BY pk ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    collapse = "WHERE new_session = 1 OR node <> prev_node" if params.collapse_repeats else ""
    anchor = quote_literal(params.anchor)
    if params.forward:
        first, within = "min(pos)", f"p.pos BETWEEN a.apos AND a.apos + {n}"
        near = f"ROWS BETWEEN {n} PRECEDING AND CURRENT ROW"
        nxt = "CASE WHEN p.next_new = 0 THEN p.next_node END"
    else:
        first, within = "max(pos)", f"p.pos BETWEEN a.apos - {n} AND a.apos"
        near = f"ROWS BETWEEN CURRENT ROW AND {n} FOLLOWING"
        nxt = "CASE WHEN p.next_new = 0 AND p.pos < a.apos THEN p.next_node END"
    ctes = [
        f"base AS (SELECT *, {pk} AS pk, unix_millis(ts) AS ms FROM ({stream}) s)",
        f"prev AS (SELECT pk, person, ms, node, row_number() {over} AS rn, "
        f"lag(node) {over} AS prev_node, lag(ms) {over} AS prev_ms, "
        f"lag(person) {over} AS prev_person FROM base)",
        "flags AS (SELECT pk, rn, node, prev_node, "
        "coalesce(prev_person <> person, FALSE) AS mixed, "
        f"CASE WHEN prev_ms IS NULL OR ms - prev_ms > {gap_ms} OR prev_person <> person "
        "THEN 1 ELSE 0 END AS new_session FROM prev)",
        f"kept AS (SELECT * FROM flags {collapse})",
        f"pos AS (SELECT pk, node, mixed, new_session, sum(new_session) {running} AS sid, "
        f"row_number() {again} AS pos, lead(node) {again} AS next_node, "
        f"coalesce(lead(new_session) {again}, 1) AS next_new, "
        f"max(CASE WHEN node = {anchor} THEN 1 ELSE 0 END) OVER (PARTITION BY pk ORDER BY rn "
        f"{near}) AS near FROM kept)",
        f"anchor AS (SELECT pk, sid, {first} AS apos FROM pos WHERE node = {anchor} "
        "GROUP BY pk, sid)",
        f"walk AS (SELECT p.pk, p.sid, CAST(p.pos - a.apos AS INTEGER) AS step, p.node, "
        f"{nxt} AS nxt, p.new_session AS first FROM pos p "
        f"JOIN anchor a ON p.pk = a.pk AND p.sid = a.sid WHERE p.near = 1 AND {within})",
        f"links AS ({_links_sql(params)})",
        f"whole AS (SELECT pk, concat_ws(' > ', {_path_columns(params)}) AS path "
        "FROM walk GROUP BY pk, sid)",
        "ranked AS (SELECT path, count(*) AS sessions, count(DISTINCT pk) AS persons, "
        "row_number() OVER (ORDER BY count(*) DESC, path) AS rank FROM whole GROUP BY path)",
    ]
    null_s, null_i = "CAST(NULL AS VARCHAR)", "CAST(NULL AS INTEGER)"
    parts = [
        f"SELECT 'node' AS kind, step, node AS source, {null_s} AS target, {null_s} AS path, "
        f"{null_i} AS rank, count(*) AS sessions, count(DISTINCT pk) AS persons "
        "FROM walk GROUP BY step, node",
        f"SELECT 'link', step, source, target, {null_s}, {null_i}, count(*), "
        "count(DISTINCT pk) FROM links GROUP BY step, source, target",
        f"SELECT 'path', {null_i}, {null_s}, {null_s}, path, CAST(rank AS INTEGER), sessions, "
        f"persons FROM ranked WHERE rank <= {params.top}",
    ]
    if key is not None:
        parts.append(
            f"SELECT '{MIXED}', {null_i}, {null_s}, {null_s}, {null_s}, {null_i}, count(*), "
            "count(*) FROM pos WHERE mixed HAVING count(*) > 0"
        )
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL ".join(parts)


def _links_sql(params: PathParams) -> str:
    if params.forward:
        return (
            f"SELECT pk, step, node AS source, coalesce(nxt, '{END}') AS target FROM walk "
            f"WHERE step < {params.steps}"
        )
    return (
        "SELECT pk, step, node AS source, nxt AS target FROM walk WHERE nxt IS NOT NULL "
        f"UNION ALL SELECT pk, step - 1, '{START}', node FROM walk "
        f"WHERE first = 1 AND step > -{params.steps}"
    )


def _path_columns(params: PathParams) -> str:
    n = params.steps
    steps = range(0, n + 1) if params.forward else range(-n, 1)
    return ", ".join(f"max(CASE WHEN step = {i} THEN node END)" for i in steps)


def path_rows(
    rows: list[dict[str, Any]], params: PathParams
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of ``analysis_paths`` with shares of the anchor's sessions, and the summary."""
    sessions = sum(r["sessions"] for r in rows if r["kind"] == "node" and r["step"] == 0)
    out = []
    for row in sorted(rows, key=_row_order):
        share = round(row["sessions"] / sessions, 6) if sessions else None
        out.append({**row, "share": share})
    links = [r for r in out if r["kind"] == "link"]
    summary = {
        "anchor": params.anchor,
        "direction": "from" if params.forward else "to",
        "steps": params.steps,
        "session_minutes": params.session_minutes,
        "sessions": sessions,
        "top_paths": [
            {"path": r["path"], "sessions": r["sessions"], "share": r["share"]}
            for r in out
            if r["kind"] == "path"
        ][:10],
        "top_links": [
            {k: r[k] for k in ("step", "source", "target", "sessions")}
            for r in sorted(links, key=lambda r: (-r["sessions"], r["step"]))[:10]
        ],
    }
    return out, summary


def _row_order(row: dict[str, Any]) -> tuple[Any, ...]:
    kinds = {"node": 0, "link": 1, "path": 2}
    return (kinds[row["kind"]], row["step"] or 0, -row["sessions"], row["rank"] or 0,
            row["source"] or "", row["target"] or "")  # fmt: skip

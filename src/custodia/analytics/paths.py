"""Paths: where people go after a start event, or how they arrive at an end event.

Each person's behavioural calls (see :mod:`custodia.analytics.event_stream`) are cut into
sessions (a gap longer than ``session_minutes`` starts a new one), labels are cleaned by the
regex rules in order (``/p/SKU-123`` -> ``/p/*``, ``Product Detail`` -> ``Product``), and, by
default, a label repeated back to back counts once. In every session holding the start event
(its first occurrence), steps 0..``steps`` follow it; for an end event (its last occurrence in
the session), steps -``steps``..0 lead to it. The result is Sankey data: nodes (step, label)
and links (step, source -> target; ``(end)`` when the session ended early, ``(start)`` when it
began less than ``steps`` before the end), plus the most frequent whole paths. One SQL
statement, DuckDB dialect, transpiled to Spark.

Example::

    params = PathParams(start_event="Home", steps=4, clean=["^Product Detail$=Product"])
    rows = session.run(paths_sql(params, linked=True)).to_pylist()
    table_rows, summary = path_rows(rows, params)
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from custodia.analytics.event_stream import LABEL_SQL, TimeRange, event_stream_sql
from custodia.core.sql_text import quote_literal

__all__ = ["END", "START", "CleanRule", "PathParams", "path_rows", "paths_sql"]

END: Final = "(end)"
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


def paths_sql(params: PathParams, *, linked: bool) -> str:
    """Nodes, links and top paths as one result: ``kind, step, source, target, path, rank,
    sessions, persons``."""
    n, gap = params.steps, params.session_minutes * 60
    lag = f"OVER (PARTITION BY person {_ORDER})"
    stream = event_stream_sql(
        [f"{cleaned_label_sql(params.clean)} AS node"], params.where_sql(), linked=linked
    )
    collapse = "WHERE new_session = 1 OR node <> prev_node" if params.collapse_repeats else ""
    anchor = quote_literal(params.anchor)
    if params.forward:
        first, within = "min(pos)", f"p.pos BETWEEN a.apos AND a.apos + {n}"
    else:
        first, within = "max(pos)", f"p.pos BETWEEN a.apos - {n} AND a.apos"
    ctes = [
        f"base AS ({stream})",
        f"gaps AS (SELECT person, ts, message_id, node, lag(node) {lag} AS prev_node, "
        f"CASE WHEN lag(ts) {lag} IS NULL OR date_diff('second', lag(ts) {lag}, ts) > {gap} "
        "THEN 1 ELSE 0 END AS new_session FROM base)",
        f"sess AS (SELECT *, sum(new_session) OVER (PARTITION BY person {_ORDER} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sid FROM gaps)",
        f"kept AS (SELECT * FROM sess {collapse})",
        f"pos AS (SELECT *, row_number() OVER (PARTITION BY person, sid {_ORDER}) AS pos "
        "FROM kept)",
        f"anchor AS (SELECT person, sid, {first} AS apos FROM pos WHERE node = {anchor} "
        "GROUP BY person, sid)",
        "walk AS (SELECT p.person, p.sid, CAST(p.pos - a.apos AS INTEGER) AS step, p.node, "
        "lead(p.node) OVER (PARTITION BY p.person, p.sid ORDER BY p.pos) AS nxt, "
        "lag(p.node) OVER (PARTITION BY p.person, p.sid ORDER BY p.pos) AS prv "
        f"FROM pos p JOIN anchor a ON p.person = a.person AND p.sid = a.sid WHERE {within})",
        f"links AS ({_links_sql(params)})",
        f"whole AS (SELECT person, concat_ws(' > ', {_path_columns(params)}) AS path "
        "FROM walk GROUP BY person, sid)",
        "ranked AS (SELECT path, count(*) AS sessions, count(DISTINCT person) AS persons, "
        "row_number() OVER (ORDER BY count(*) DESC, path) AS rank FROM whole GROUP BY path)",
    ]
    null_s, null_i = "CAST(NULL AS VARCHAR)", "CAST(NULL AS INTEGER)"
    parts = [
        f"SELECT 'node' AS kind, step, node AS source, {null_s} AS target, {null_s} AS path, "
        f"{null_i} AS rank, count(*) AS sessions, count(DISTINCT person) AS persons "
        "FROM walk GROUP BY step, node",
        f"SELECT 'link', step, source, target, {null_s}, {null_i}, count(*), "
        "count(DISTINCT person) FROM links GROUP BY step, source, target",
        f"SELECT 'path', {null_i}, {null_s}, {null_s}, path, CAST(rank AS INTEGER), sessions, "
        f"persons FROM ranked WHERE rank <= {params.top}",
    ]
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL ".join(parts)


def _links_sql(params: PathParams) -> str:
    if params.forward:
        return (
            f"SELECT person, step, node AS source, coalesce(nxt, '{END}') AS target FROM walk "
            f"WHERE step < {params.steps}"
        )
    return (
        "SELECT person, step, node AS source, nxt AS target FROM walk WHERE nxt IS NOT NULL "
        f"UNION ALL SELECT person, step - 1, '{START}', node FROM walk "
        f"WHERE prv IS NULL AND step > -{params.steps}"
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

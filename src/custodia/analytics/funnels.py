"""Funnels: how many people go through ordered steps within a conversion window.

One SQL statement (DuckDB dialect, transpiled to Spark) does the work over the event stream of
:mod:`custodia.analytics.event_stream`; Python only reshapes the aggregated rows.

Matching rules (documented in docs/analytics-funnel.md):

- **sequential** (default): the steps happen in order, other events may come between. Every
  step-1 event starts an attempt; each later step takes the *first* matching event after the
  previous step's (the greedy choice is optimal for a fixed start), within ``window`` of the
  step-1 event. A person counts once, with the attempt that got furthest (ties: the earliest).
- **strict**: as sequential, but each step must be the person's very next event (any
  track/page/screen call in between breaks the attempt).
- **any**: steps 1..k all happen within ``window`` in any order. Every step event starts a
  window; step k is reached when events of steps 1..k all fall into one.
- **exclusions**: an excluded event between two steps (sequential) or inside the window before a
  step's event (any) stops the attempt before that step.

How it runs, without a per-person Python loop or a join of events with events:

- **sequential**: each event becomes one integer, its *code* (its milliseconds, then the steps
  and the exclusion it matches as bits), so that codes order a person's events and say what
  each is. The codes are sorted by a 64-bit key of the person, then gathered into one list
  per key (twice as fast as a hash aggregation by the person's text; a key shared by two people
  is detected and the query runs again by the text: :func:`aggregate_funnel`); every step-1
  event starts an attempt, and each next step is the smallest
  code of that step after the previous one (list functions over the person's few codes).
- **strict** and **any**: each person's events get a row number; a window function gives every
  event the row of the next event of each step (and of the next excluded event), reading the
  rows from the end (a running minimum, linear on both engines); the attempts then follow those
  pointers with one equi-join per step.

A person's furthest attempt (ties: the earliest) is picked with one ``min_by`` per person.

Example::

    params = FunnelParams(steps=["Product Viewed", "Product Added", "Order Completed"])
    run = lambda sql: session.run(sql).to_pylist()
    aggregated = aggregate_funnel(run, params, linked=True)  # per breakdown group, the total
    rows, summary = funnel_rows(aggregated, params)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final, Literal

from pydantic import Field, field_validator, model_validator

from custodia.analytics.event_stream import (
    PERSON_ID,
    PERSON_KEY,
    EventMatch,
    TimeRange,
    checked_path,
    event_stream_sql,
    instant_sql,
    property_sql,
)
from custodia.core.durations import parse_duration
from custodia.core.sql_text import quote_ident, quote_literal

__all__ = [
    "ANALYSIS_BREAKDOWNS",
    "PROFILE_BREAKDOWNS",
    "TOTAL",
    "FunnelMode",
    "FunnelParams",
    "aggregate_funnel",
    "funnel_rows",
    "funnel_sql",
]

FunnelMode = Literal["sequential", "strict", "any"]
TOTAL: Final = "(all)"
"""The segment value of the rows over everyone (beside the breakdown groups)."""
NONE: Final = "(none)"
PROFILE_BREAKDOWNS: Final = ("member_level", "province", "city", "occupation", "industry")
"""Profile attributes a funnel may be broken down by (``--by profile.member_level``): the
non-personal golden traits."""
ANALYSIS_BREAKDOWNS: Final = {
    "rfm": ("analysis_rfm", ("tier", "tier_label", "rfm_cell", "r_score", "f_score", "m_score")),
    "clusters": ("analysis_clusters", ("cluster", "tier")),
}
"""Results of other analyses a funnel may be broken down by (``--by rfm.tier``): kind ->
(result table, columns). The analysis read is the run named ``by_analysis`` (default: the kind's
default name, ``rfm`` or ``clusters``)."""
_BACKWARDS: Final = (
    "OVER (PARTITION BY person ORDER BY rn DESC ROWS BETWEEN UNBOUNDED PRECEDING AND"
)
_AFTER: Final = f"{_BACKWARDS} 1 PRECEDING)"
"""A running aggregate over the person's later events (read from the end: linear)."""
_FROM_HERE: Final = f"{_BACKWARDS} CURRENT ROW)"
_NEXT: Final = "OVER (PARTITION BY person ORDER BY rn DESC)"
"""With rows read backwards, ``lag`` is the person's next event: the same sort as above."""
_TIE_SLOTS: Final = 1_048_576
_TIE: Final = f"CAST(abs(hash(message_id) % {_TIE_SLOTS}) AS BIGINT)"
"""Events of one millisecond are ordered by a hash of their message_id: ``rn`` (the event's
milliseconds x 2^20 + that hash) orders a person's events with one integer, so one sort serves
every window function (strict and any modes)."""
_MS_SHIFT: Final = 11
"""A sequential code: milliseconds << 11 | one bit per step the event matches (up to ten, step 1
lowest) | the exclusion bit above them. Events of one millisecond come in step order,
exclusions last; two events of one millisecond matching the same steps share a code and count
as one (message ids are not read: a tie-break by them cost a tenth of the funnel's time)."""
_EXCLUDED_BIT: Final = 1 << 10


class FunnelParams(TimeRange):
    """A funnel definition. ``steps`` and ``exclude`` take ``EVENT`` or
    ``EVENT[prop=value,...]`` strings, or ``{"event": ..., "where": {...}}`` objects."""

    steps: list[EventMatch] = Field(min_length=2, max_length=10)
    mode: FunnelMode = "sequential"
    window: str = Field(default="14d", description="Conversion window: 90m, 36h, 14d, 2w")
    exclude: list[EventMatch] = Field(default_factory=list, max_length=10)
    by: str | None = Field(
        default=None,
        max_length=100,
        description="Breakdown: a property of the step-1 event (category, context.campaign.source),"
        " a profile attribute (profile.member_level) or another analysis' result (rfm.tier,"
        " clusters.cluster)",
    )
    by_analysis: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        description="Name of the analysis a breakdown such as rfm.tier reads (default: rfm, "
        "clusters)",
    )
    max_groups: int = Field(default=50, ge=1, le=1000, description="Largest breakdown groups kept")

    @field_validator("steps", "exclude", mode="before")
    @classmethod
    def _parse_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [EventMatch.parse(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        seconds = parse_duration(value).total_seconds()
        if seconds <= 0 or seconds > 366 * 86400:
            raise ValueError("window: between 1m and 366d")
        return value

    @field_validator("by")
    @classmethod
    def _by(cls, value: str | None) -> str | None:
        if value is None:
            return None
        kind, _, column = value.partition(".")
        if kind in ANALYSIS_BREAKDOWNS:
            columns = ANALYSIS_BREAKDOWNS[kind][1]
            if column not in columns:
                known = ", ".join(f"{kind}.{c}" for c in columns)
                raise ValueError(f"by: a {kind} breakdown is one of {known}")
            return value
        if value.startswith("profile."):
            if value.removeprefix("profile.") not in PROFILE_BREAKDOWNS:
                known = ", ".join(f"profile.{c}" for c in PROFILE_BREAKDOWNS)
                raise ValueError(f"by: a profile breakdown is one of {known}")
            return value
        return checked_path(value, "by")

    @model_validator(mode="after")
    def _analysis_named_for_a_result_breakdown(self) -> FunnelParams:
        if self.by_analysis is not None and self.analysis_breakdown is None:
            kinds = ", ".join(f"{k}.*" for k in ANALYSIS_BREAKDOWNS)
            raise ValueError(f"by_analysis: only with a breakdown by {kinds}")
        return self

    @property
    def window_ms(self) -> int:
        return int(parse_duration(self.window) / timedelta(milliseconds=1))

    @property
    def profile_breakdown(self) -> str | None:
        return (
            self.by.removeprefix("profile.") if self.by and self.by.startswith("profile.") else None
        )

    @property
    def analysis_breakdown(self) -> tuple[str, str, str] | None:
        """(result table, column, analysis name) of a breakdown by another analysis' result."""
        kind, _, column = (self.by or "").partition(".")
        if kind not in ANALYSIS_BREAKDOWNS:
            return None
        return ANALYSIS_BREAKDOWNS[kind][0], column, self.by_analysis or kind

    @property
    def property_breakdown(self) -> bool:
        """The breakdown is a property of the step-1 event (not of the person)."""
        return bool(self.by) and not self.profile_breakdown and not self.analysis_breakdown


def aggregate_funnel(
    run: Callable[[str], list[dict[str, Any]]],
    params: FunnelParams,
    *,
    linked: bool,
    key: str = PERSON_KEY,
) -> list[dict[str, Any]]:
    """The rows of :func:`funnel_sql` as run by ``run``. The sequential mode gathers events by a
    64-bit key of the person; when two people ever share a key (for a million people, a chance
    of about 3 in 10^8 per run), the query runs again on the people themselves, so the result
    is exact."""
    rows = run(funnel_sql(params, linked=linked, key=key))
    if any(row["mixed"] for row in rows):
        rows = run(funnel_sql(params, linked=linked, key=None))
    return rows


def funnel_sql(params: FunnelParams, *, linked: bool, key: str | None = PERSON_KEY) -> str:
    """The whole funnel as one query: per breakdown group (and the total, ``is_total``), the
    people reaching each step ``reached_k`` and the seconds to it (``med_k``/``avg_k`` from
    the previous step, ``start_k`` median from the start), and ``mixed``: whether two people
    shared a ``key`` (the SQL function that keys a person's events in sequential mode; ``None``
    keys them by the person itself)."""
    n = len(params.steps)
    flags = [f"{s.condition_sql()} AS s{k}" for k, s in enumerate(params.steps, 1)]
    excluded = " OR ".join(x.condition_sql() for x in params.exclude) or "FALSE"
    breakdown = _breakdown_column(params)
    columns = [*flags, f"{excluded} AS x", f"{breakdown} AS bd"]
    where = params.where_sql(extend=parse_duration(params.window))
    if params.mode != "strict":  # other events cannot matter: read only the named ones
        names = [s.condition_sql() for s in (*params.steps, *params.exclude)]
        where.append(" OR ".join(names))
    if params.mode == "sequential":
        chain = _sequential_chain(params, key)
    else:
        chain = (_ordered_chain if params.mode == "strict" else _any_chain)(params)
    ctes = [
        f"base AS ({event_stream_sql(columns, where, linked=linked)})",
        "timed AS (SELECT *, unix_millis(ts) AS ms FROM base)",
        *chain,
        f"best AS ({_best(params)})",
        f"picked AS ({_picked(params, linked)})",
    ]
    measures = ["count(*) AS reached_1", "coalesce(bool_or(mixed), FALSE) AS mixed"]
    for k in range(2, n + 1):
        gap, start = f"(m{k} - m{k - 1}) / 1000.0", f"(m{k} - m0) / 1000.0"
        measures += [
            f"count(m{k}) AS reached_{k}",
            f"median({gap}) AS med_{k}",
            f"avg({gap}) AS avg_{k}",
            f"median({start}) AS start_{k}",
        ]
    grouping = "GROUP BY GROUPING SETS ((bd), ())" if params.by else ""
    group = "bd, grouping(bd) = 1" if params.by else "CAST(NULL AS VARCHAR) AS bd, TRUE"
    return (
        "WITH "
        + ",\n".join(ctes)
        + f"\nSELECT {group} AS is_total, "
        + ", ".join(measures)
        + f" FROM picked {grouping} ORDER BY is_total, bd"  # a few rows: a stable order
    )


def _breakdown_column(params: FunnelParams) -> str:
    if params.by is None or not params.property_breakdown:
        return "CAST(NULL AS VARCHAR)"
    return property_sql(params.by, "by")


def _sequential_chain(params: FunnelParams, key: str | None) -> list[str]:
    """Sequential: each person's codes in one list; each attempt's next step is the smallest
    code of that step after the previous step's (and before the next excluded event).

    The lists are gathered by ``key(person)``, a 64-bit integer, over the codes sorted by it:
    about twice as fast as a hash aggregation by the person's text (the sort is of two integers,
    and each person's codes then arrive together). ``mixed`` says a key stood for two people."""
    n, window = len(params.steps), params.window_ms
    bits = [f"CASE WHEN s{k} THEN {1 << (k - 1)} ELSE 0 END" for k in range(1, n + 1)]
    if params.exclude:
        bits.append(f"CASE WHEN x THEN {_EXCLUDED_BIT} ELSE 0 END")
    code = f"(ms << {_MS_SHIFT}) + {' + '.join(bits)}"
    last = f"((m0 + {window}) << {_MS_SHIFT}) + {(1 << _MS_SHIFT) - 1}"
    ctes = [
        f"coded AS (SELECT person, bd, s1, ts, ms, {code} AS rn FROM timed)",
    ]
    if key is None:
        ctes.append(
            "lists AS (SELECT person AS pk, person, FALSE AS mixed, list(rn) AS codes "
            "FROM coded GROUP BY person)"
        )
    else:
        ctes.append(
            "lists AS (SELECT pk, min(person) AS person, min(person) <> max(person) AS mixed, "
            f"list(rn) AS codes FROM (SELECT {key}(person) AS pk, person, rn FROM coded "
            "ORDER BY pk) o GROUP BY pk)"
        )
    if params.property_breakdown:  # the step-1 event's property: join it back
        joined = "c.person" if key is None else f"{key}(c.person)"
        ctes.append(
            "c1 AS (SELECT l.pk, l.person, l.mixed, c.bd, c.rn AS r0, c.ms AS m0, c.rn AS r1, "
            f"l.codes FROM coded c JOIN lists l ON l.pk = {joined} "
            f"WHERE c.s1{_anchor_range(params)})"
        )
    else:  # the step-1 codes of the list (reading the events once)
        until = "" if params.end is None else f" WHERE r0 < ({_until_ms(params)} << {_MS_SHIFT})"
        ctes.append(
            f"c1 AS (SELECT pk, person, mixed, CAST(NULL AS VARCHAR) AS bd, r0, "
            f"r0 >> {_MS_SHIFT} AS m0, r0 AS r1, codes FROM (SELECT pk, person, mixed, codes, "
            f"unnest(list_filter(codes, lambda e: (e & 1) <> 0)) AS r0 FROM lists) s{until})"
        )
    for k in range(2, n + 1):
        prev, bit = f"r{k - 1}", 1 << (k - 1)
        found = _smallest(f"(e & {bit}) <> 0 AND e > {prev} AND e <= {last}", prev)
        if not params.exclude:
            ctes.append(f"c{k} AS (SELECT *, {found} AS r{k} FROM c{k - 1})")
            continue
        stop = _smallest(f"(e & {_EXCLUDED_BIT}) <> 0 AND e > {prev}", prev)
        ctes.append(
            f"c{k} AS (SELECT *, CASE WHEN x{k} IS NULL OR t{k} < x{k} THEN t{k} END AS r{k} "
            f"FROM (SELECT *, {found} AS t{k}, {stop} AS x{k} FROM c{k - 1}) q)"
        )
    times = ", ".join(f"r{k} >> {_MS_SHIFT} AS m{k}" for k in range(1, n + 1))
    level = " ".join(f"WHEN r{k} IS NOT NULL THEN {k}" for k in range(n, 1, -1))
    ctes.append(
        f"chain AS (SELECT pk, person, mixed, bd, r0, m0, {times}, "
        f"CASE {level} ELSE 1 END AS lvl FROM c{n})"
    )
    return ctes


def _smallest(condition: str, previous: str) -> str:
    """The smallest of the person's codes meeting ``condition`` (on ``e``), for an attempt whose
    previous step was reached (the list is not read for the others)."""
    return (
        f"CASE WHEN {previous} IS NOT NULL THEN "
        f"list_min(list_filter(codes, lambda e: {condition})) END"
    )


def _ordered_chain(params: FunnelParams) -> list[str]:
    """Strict: a pointer to each event's very next event when it is the next step, then one join
    per step (exclusions cannot come between)."""
    n, window = len(params.steps), params.window_ms
    flags = ", ".join(f"s{k}" for k in range(1, n + 1))
    pointers = []
    for k in range(2, n + 1):
        nxt = f"CASE WHEN lag(s{k}) {_NEXT} THEN lag(rn) {_NEXT} END"
        pointers.append(f"{nxt} AS n{k}")
    ctes = [
        f"ordered AS (SELECT *, ms * {_TIE_SLOTS} + {_TIE} AS rn FROM timed)",
        f"links AS (SELECT person, rn, ms, ts, {flags}, bd, {', '.join(pointers)} FROM ordered)",
        "c1 AS (SELECT person, bd, rn AS r0, ms AS m0, ms AS m1, n2 AS p2 "
        f"FROM links WHERE s1{_anchor_range(params)})",
    ]
    for k in range(2, n + 1):
        nxt = f", l.n{k + 1} AS p{k + 1}" if k < n else ""
        ctes.append(
            f"c{k} AS (SELECT c.*, l.ms AS m{k}{nxt} FROM c{k - 1} c "
            f"LEFT JOIN (SELECT * FROM links WHERE s{k}) l "
            f"ON l.person = c.person AND l.rn = c.p{k} AND l.ms <= c.m0 + {window})"
        )
    level = " ".join(f"WHEN m{k} IS NOT NULL THEN {k}" for k in range(n, 1, -1))
    ctes.append(f"chain AS (SELECT *, CASE {level} ELSE 1 END AS lvl FROM c{n})")
    return ctes


def _anchor_range(params: FunnelParams) -> str:
    """Attempts start within the range; later steps may run ``window`` past its last day."""
    if params.end is None:
        return ""
    return f" AND ts < {instant_sql(_until(params))}"


def _until(params: FunnelParams) -> datetime:
    assert params.end is not None
    return datetime.combine(params.end + timedelta(days=1), time(), tzinfo=UTC)


def _until_ms(params: FunnelParams) -> int:
    return int(_until(params).timestamp() * 1000)


def _any_chain(params: FunnelParams) -> list[str]:
    """Any order: from each step event, the first event of every step at or after it."""
    n, window = len(params.steps), params.window_ms
    here, after = _FROM_HERE, _AFTER
    firsts = []
    for k in range(1, n + 1):
        firsts.append(f"min(CASE WHEN s{k} THEN ms END) {here} AS f{k}")
        firsts.append(f"min(CASE WHEN s{k} THEN rn END) {here} AS g{k}")
    any_step = " OR ".join(f"s{k}" for k in range(1, n + 1))
    ok = [f"(f{k} <= ms + {window} AND (nx IS NULL OR g{k} < nx))" for k in range(1, n + 1)]
    levels = " ".join(f"WHEN {' AND '.join(ok[:k])} THEN {k}" for k in range(n, 0, -1))
    f = [f"f{k}" for k in range(1, n + 1)]
    done = [
        f"CASE WHEN lvl >= {k} THEN greatest({', '.join(f[:k])}) END AS m{k}"
        for k in range(1, n + 1)
    ]
    return [
        f"ordered AS (SELECT *, ms * {_TIE_SLOTS} + {_TIE} AS rn FROM timed)",
        f"links AS (SELECT person, rn, ms, ts, bd, {any_step} AS anchor, {', '.join(firsts)}, "
        f"min(CASE WHEN x THEN rn END) {after} AS nx FROM ordered)",
        f"levels AS (SELECT person, bd, rn AS r0, ms AS m0, {', '.join(f)}, "
        f"CASE {levels} ELSE 0 END AS lvl FROM links WHERE anchor{_anchor_range(params)})",
        f"chain AS (SELECT person, bd, r0, m0, lvl, {', '.join(done)} FROM levels)",
    ]


def _best(params: FunnelParams) -> str:
    """Each person's attempt that got furthest (ties: the earliest), one aggregate per person."""
    times = ", ".join(f"m{k}" for k in range(1, len(params.steps) + 1))
    pick = f"min_by(struct_pack(bd, m0, {times}), struct_pack(l := -lvl, r := r0)) AS b"
    if params.mode != "sequential":
        return f"SELECT person, FALSE AS mixed, {pick} FROM chain WHERE lvl >= 1 GROUP BY person"
    person = "any_value(person) AS person, " if _joins_person(params) else ""
    return f"SELECT {person}bool_or(mixed) AS mixed, {pick} FROM chain WHERE lvl >= 1 GROUP BY pk"


def _joins_person(params: FunnelParams) -> bool:
    return bool(params.profile_breakdown or params.analysis_breakdown)


def _picked(params: FunnelParams, linked: bool) -> str:
    n = len(params.steps)
    times = ", ".join(f"t.b.m{k} AS m{k}" for k in range(1, n + 1))
    picked = f"t.mixed, t.b.m0 AS m0, {times}"
    if not params.profile_breakdown and not params.analysis_breakdown:
        return f"SELECT coalesce(t.b.bd, '{NONE}') AS bd, {picked} FROM best t"
    if not linked:  # no person is a profile: every one falls in the no-value group
        return f"SELECT '{NONE}' AS bd, {picked} FROM best t"
    if params.profile_breakdown:
        column = quote_ident(params.profile_breakdown)
        attribute = f"SELECT profile_id, {column} AS v FROM profiles"
    else:
        assert params.analysis_breakdown is not None
        table, column, name = params.analysis_breakdown
        attribute = (
            f"SELECT profile_id, CAST({quote_ident(column)} AS VARCHAR) AS v FROM {table} "
            f"WHERE analysis_name = {quote_literal(name)}"
        )
    return (
        f"SELECT coalesce(a.v, '{NONE}') AS bd, {picked} FROM best t "
        f"LEFT JOIN ({PERSON_ID}) i ON i.person = t.person "
        f"LEFT JOIN ({attribute}) a ON a.profile_id = i.profile_id"
    )


def funnel_rows(
    aggregated: list[dict[str, Any]], params: FunnelParams
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of ``analysis_funnel`` (one per segment and step) and the run summary."""
    totals = [r for r in aggregated if r["is_total"]]
    groups = sorted(
        (r for r in aggregated if not r["is_total"]), key=lambda r: (-r["reached_1"], str(r["bd"]))
    )
    kept = groups[: params.max_groups]
    total = totals[0] if totals and totals[0]["reached_1"] else None
    rows = [*_segment_rows(TOTAL, total, params)]
    for group in kept:
        rows += _segment_rows(str(group["bd"]), group, params)
    overall = [r for r in rows if r["segment"] == TOTAL]
    largest = next((r for r in overall if r["largest_dropoff"]), None)
    summary = {
        "mode": params.mode,
        "window": params.window,
        "steps": [s.label for s in params.steps],
        "entered": overall[0]["persons"],
        "converted": overall[-1]["persons"],
        "conversion": overall[-1]["conversion_overall"],
        "largest_dropoff": None
        if largest is None
        else {
            "step": largest["step"],
            "event": largest["step_label"],
            "conversion_from_previous": largest["conversion_from_previous"],
        },
        "per_step": [
            {
                k: r[k]
                for k in (
                    "step",
                    "step_label",
                    "persons",
                    "conversion_from_previous",
                    "conversion_overall",
                    "median_seconds",
                )
            }
            for r in overall
        ],
    }
    if params.by:
        summary["by"] = params.by
        summary["groups"] = len(groups)
        summary["groups_kept"] = len(kept)
    return rows, summary


def _segment_rows(
    segment: str, agg: dict[str, Any] | None, params: FunnelParams
) -> list[dict[str, Any]]:
    """One row per step; an empty funnel gives zero counts and no times."""
    out: list[dict[str, Any]] = []
    entered = int(agg["reached_1"]) if agg else 0
    previous = entered
    for k, step in enumerate(params.steps, 1):
        persons = int(agg[f"reached_{k}"]) if agg else 0
        stats = agg if agg and k > 1 else {}
        out.append(
            {
                "segment": segment,
                "step": k,
                "step_label": step.label,
                "persons": persons,
                "dropped": previous - persons,
                "conversion_from_previous": _ratio(persons, previous),
                "conversion_overall": _ratio(persons, entered),
                "median_seconds": _number(stats.get(f"med_{k}")),
                "avg_seconds": _number(stats.get(f"avg_{k}")),
                "median_seconds_from_start": _number(stats.get(f"start_{k}")),
                "largest_dropoff": False,
            }
        )
        previous = persons
    _mark_largest_dropoff(out)
    return out


def _mark_largest_dropoff(rows: list[dict[str, Any]]) -> None:
    """The step whose conversion from the previous step is lowest (ties: the earliest)."""
    candidates = [r for r in rows[1:] if r["conversion_from_previous"] is not None]
    if candidates:
        min(candidates, key=lambda r: (r["conversion_from_previous"], r["step"]))[
            "largest_dropoff"
        ] = True


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)

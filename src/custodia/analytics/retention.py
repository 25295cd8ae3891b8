"""Cohort retention of profiles: who comes back, one, two, ... periods after joining a cohort.

A profile's *activity* is an order (not cancelled) or a named event, reached through
``profile_keys``. Activity is counted per period (UTC day, ISO week starting Monday, or month);
a profile active several times in one period counts once.

- ``first`` cohorts: a profile belongs to the cohort of the period of its first activity.
- ``recurring`` cohorts: a profile belongs to the cohort of every period it is active in (the
  people active in March, and how many of them are active again in April, May, ...).
- Offset 0 is the cohort itself (100 %). Without ``cumulative``, offset k counts the cohort's
  profiles active in period k; with it, those active at least once in periods 1..k (so the curve
  never falls).
- Offsets reach as far as the data does: a cohort of the last period has only offset 0.

The SQL (DuckDB dialect, transpiled for Spark by sqlglot) returns one row per cohort and offset
with the profiles counted there; :func:`retention_rows` fills the grid (offsets with nobody come
back are 0), adds rates and the average curve.

Example::

    params = RetentionParams(period="month", cumulative=True)
    rows = session.run(retention_sql(params))
    table, summary = retention_rows(rows.to_pylist(), params)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from custodia.core.sql_text import quote_literal

__all__ = [
    "RETENTION_COLUMNS",
    "RetentionParams",
    "activity_sql",
    "offset_sql",
    "period_offset",
    "retention_rows",
    "retention_sql",
]

Period = Literal["day", "week", "month"]

RETENTION_COLUMNS = pa.schema(
    [
        ("cohort_start", pa.date32()),
        ("period_offset", pa.int32()),
        ("cohort_size", pa.int64()),
        ("retained", pa.int64()),
        ("retention_rate", pa.float64()),
    ]
)


class RetentionParams(BaseModel):
    """What to measure: cohort kind, period, cumulative or not, the activity and the horizon."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cohort: Literal["first", "recurring"] = Field(
        "first", description="first: by first activity; recurring: every active period"
    )
    period: Period = Field("week", description="day | week (ISO, Monday) | month, in UTC")
    cumulative: bool = Field(False, description="offset k counts returns in periods 1..k")
    event: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="activity is this event (track event or page/screen name); none: orders",
    )
    periods: int = Field(12, ge=1, le=366, description="offsets after the cohort period")
    since: date | None = Field(None, description="first cohort period considered (inclusive)")
    until: date | None = Field(None, description="last cohort period considered (inclusive)")

    @field_validator("until")
    @classmethod
    def _window(cls, until: date | None, info: ValidationInfo) -> date | None:
        since = info.data.get("since")
        if until is not None and since is not None and until < since:
            raise ValueError("must not be before since")
        return until

    @property
    def activity(self) -> str:
        return "orders" if self.event is None else "events"


def offset_sql(period: Period, start: str, end: str) -> str:
    """Whole periods from ``start`` to ``end`` (both period starts), portable to Spark."""
    if period == "month":
        return f"(year({end}) - year({start})) * 12 + month({end}) - month({start})"
    days = f"date_diff('day', {start}, {end})"
    return days if period == "day" else f"CAST({days} / 7 AS INTEGER)"


def period_offset(period: Period, start: date, end: date) -> int:
    """The same count in Python (for the grid of offsets the data reaches)."""
    if period == "month":
        return (end.year - start.year) * 12 + end.month - start.month
    days = (end - start).days
    return days if period == "day" else days // 7


def activity_sql(params: RetentionParams) -> str:
    """(profile_key, ts) of every qualifying activity linked to a live profile (the profile's
    number in ``profile_keys``: the query only counts profiles, so it never reads their ids)."""
    if params.event is None:
        return (
            "SELECT k.profile_key, o.ordered_at AS ts FROM orders o "
            "JOIN profile_keys k ON k.ref_type = o.customer_ref_type "
            "AND k.ref_value = o.customer_ref "
            "WHERE o.status IS NULL OR o.status <> 'cancelled'"
        )
    name = quote_literal(params.event)
    return (
        'SELECT coalesce(ku.profile_key, ka.profile_key) AS profile_key, e."timestamp" AS ts '
        "FROM events e "
        "LEFT JOIN profile_keys ku ON ku.ref_type = 'user_id' AND ku.ref_value = e.user_id "
        "LEFT JOIN profile_keys ka ON ka.ref_type = 'anonymous_id' "
        "AND ka.ref_value = e.anonymous_id "
        f"WHERE coalesce(e.event, e.name) = {name}"
    )


def _cohorts_sql(params: RetentionParams) -> str:
    if params.cohort == "first":
        base = "SELECT profile_key, min(period_start) AS cohort_start FROM act GROUP BY profile_key"
    else:
        base = "SELECT profile_key, period_start AS cohort_start FROM act"
    bounds = [
        f"cohort_start {op} DATE '{day.isoformat()}'"
        for op, day in ((">=", params.since), ("<=", params.until))
        if day is not None
    ]
    return f"SELECT * FROM ({base}) c WHERE {' AND '.join(bounds)}" if bounds else base


def retention_sql(params: RetentionParams) -> str:
    """Rows (cohort_start, period_offset, profiles, last_period): profiles counted per offset
    (per first return when cumulative; offset 0 is the cohort size)."""
    offset = offset_sql(params.period, "c.cohort_start", "a.period_start")
    counted = (
        "SELECT profile_key, cohort_start, min(period_offset) AS period_offset FROM pairs "
        "WHERE period_offset >= 1 GROUP BY profile_key, cohort_start "
        "UNION ALL SELECT profile_key, cohort_start, 0 AS period_offset FROM coh"
        if params.cumulative
        else "SELECT profile_key, cohort_start, period_offset FROM pairs"
    )
    return f"""
WITH act AS (
  SELECT DISTINCT profile_key, CAST(date_trunc('{params.period}', ts) AS DATE) AS period_start
  FROM ({activity_sql(params)}) x
  WHERE profile_key IS NOT NULL AND ts IS NOT NULL
),
coh AS ({_cohorts_sql(params)}),
pairs AS (
  SELECT c.profile_key, c.cohort_start, {offset} AS period_offset
  FROM coh c JOIN act a ON a.profile_key = c.profile_key AND a.period_start >= c.cohort_start
),
counted AS ({counted})
SELECT cohort_start, period_offset, count(*) AS profiles,
       (SELECT max(period_start) FROM act) AS last_period
FROM counted
WHERE period_offset <= {params.periods}
GROUP BY cohort_start, period_offset
ORDER BY cohort_start, period_offset
"""


def retention_rows(
    rows: list[dict[str, Any]], params: RetentionParams
) -> tuple[pa.Table, dict[str, Any]]:
    """The full grid per cohort (offsets up to the data's last period) with rates, and a
    summary with the average curve (weighted by cohort size over cohorts reaching each offset)."""
    counts: dict[date, dict[int, int]] = defaultdict(dict)
    last: date | None = None
    for row in rows:
        counts[row["cohort_start"]][int(row["period_offset"])] = int(row["profiles"])
        last = row["last_period"]
    out: dict[str, list[Any]] = {name: [] for name in RETENTION_COLUMNS.names}
    for cohort in sorted(counts):
        _cohort_grid(out, cohort, counts[cohort], params, last)
    table = pa.table(out, schema=RETENTION_COLUMNS)
    return table, _summary(out, params)


def _cohort_grid(
    out: dict[str, list[Any]],
    cohort: date,
    counts: dict[int, int],
    params: RetentionParams,
    last: date | None,
) -> None:
    size = counts.get(0, 0)
    reach = min(params.periods, period_offset(params.period, cohort, last or cohort))
    retained = 0
    for k in range(reach + 1):
        # offset 0 is the cohort; cumulative offsets add the first returns of 1..k
        retained = (retained if params.cumulative and k > 1 else 0) + counts.get(k, 0)
        out["cohort_start"].append(cohort)
        out["period_offset"].append(k)
        out["cohort_size"].append(size)
        out["retained"].append(retained)
        out["retention_rate"].append(retained / size if size else 0.0)


def _summary(out: dict[str, list[Any]], params: RetentionParams) -> dict[str, Any]:
    sizes: dict[int, int] = defaultdict(int)
    kept: dict[int, int] = defaultdict(int)
    cohorts: dict[int, int] = defaultdict(int)
    for k, size, retained in zip(
        out["period_offset"], out["cohort_size"], out["retained"], strict=True
    ):
        sizes[k] += size
        kept[k] += retained
        cohorts[k] += 1
    average = [
        {
            "period_offset": k,
            "cohorts": cohorts[k],
            "profiles": sizes[k],
            "retention_rate": round(kept[k] / sizes[k], 6) if sizes[k] else 0.0,
        }
        for k in sorted(sizes)
    ]
    return {
        "cohort": params.cohort,
        "period": params.period,
        "cumulative": params.cumulative,
        "activity": params.event or "orders",
        "cohorts": cohorts.get(0, 0),
        "profiles": sizes.get(0, 0),
        "average": average,
    }

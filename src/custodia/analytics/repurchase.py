"""Repurchase cycles per tier over time, and which interests fell at the same time.

Every purchase day of a profile (orders not cancelled, reached through ``profile_keys``; several
orders on one UTC day are one purchase day) starts a *spell* that ends at the profile's next
purchase day (a *repurchase*; its *gap* is the days in between) or, when there is none up to
``as_of``, is *censored* there (no repurchase yet after ``as_of - day`` days). Spells are grouped
by the profile's tier (``member_level``, or the ``rfm_tier`` of an RFM analysis) and by the month
or quarter in which the spell **starts**. Per group and period: the plain mean, median and 75th
percentile of the gaps seen (spells that ended), and the censoring-aware Kaplan-Meier median and
restricted mean (up to ``horizon_days``) of the time to the next purchase over all spells
(:mod:`custodia.analytics.kaplan_meier`). All are computed exactly in Python from the
distribution of whole-day durations the SQL returns (a few thousand rows whatever the data size).

Interests: each order line counts for its category (the line's own, else the category another
line of the same SKU carries) and whether it is a limited edition (its product name, or the name
of any line of the same SKU, starts with one of ``limited_prefixes`` after lower-casing, trimming
and dropping a leading bracket). Shares are of the lines (and orders) of the tier in the period.

The summary compares the last ``recent_months`` months up to ``as_of`` with a baseline (the same
months a year earlier, or the months just before): per tier the gap statistics of the spells
started in each window, the change of the Kaplan-Meier median (else of the restricted mean,
else of the plain mean; ``gap_change_basis`` says which), and the interest whose share of lines
dropped the most per tier (and overall).

Example::

    params = RepurchaseParams(by="member_level", bucket="month")
    w = windows(params, latest)  # latest purchase day
    table, summary = gap_rows(session.run(gap_distribution_sql(params, w)).to_pylist(), params)
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from custodia.analytics.event_stream import day_start_sql
from custodia.analytics.kaplan_meier import kaplan_meier
from custodia.core.sql_text import quote_literal

__all__ = [
    "INTEREST_COLUMNS",
    "REPURCHASE_COLUMNS",
    "RepurchaseParams",
    "Windows",
    "gap_distribution_sql",
    "gap_rows",
    "interest_rows",
    "interest_sql",
    "largest_drops",
    "limited_name_sql",
    "windows",
]

GroupBy = Literal["member_level", "rfm_tier", "all"]
NO_GROUP: Final = "(none)"
UNKNOWN_CATEGORY: Final = "(unknown)"
LIMITED: Final = "limited"
DEFAULT_LIMITED_PREFIXES: Final = ("限量", "limited", "ｌｉｍｉｔｅｄ")
_LEADING_BRACKETS: Final = "【[（(「『《<·• "
_PREFIX: Final = re.compile(r"[^%_'\\]{1,40}")

REPURCHASE_COLUMNS = pa.schema(
    [
        ("group_value", pa.string()),
        ("period_start", pa.date32()),
        ("repurchases", pa.int64()),
        ("customers", pa.int64()),
        ("mean_gap_days", pa.float64()),
        ("median_gap_days", pa.float64()),
        ("p75_gap_days", pa.float64()),
        ("spells", pa.int64()),
        ("censored_spells", pa.int64()),
        ("km_median_gap_days", pa.float64()),
        ("km_restricted_mean_gap_days", pa.float64()),
    ]
)
INTEREST_COLUMNS = pa.schema(
    [
        ("group_value", pa.string()),
        ("period_start", pa.date32()),
        ("interest_kind", pa.string()),
        ("interest", pa.string()),
        ("lines", pa.int64()),
        ("orders", pa.int64()),
        ("line_share", pa.float64()),
        ("order_share", pa.float64()),
    ]
)


class RepurchaseParams(BaseModel):
    """Grouping, time bucket, the windows compared and how limited editions are recognised."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: GroupBy = Field(
        "member_level",
        description="member_level (golden trait), rfm_tier (an RFM run's tier) or all",
    )
    bucket: Literal["month", "quarter"] = Field(
        "month", description="period in which a spell starts (the purchase before the gap)"
    )
    rfm_name: str = Field(
        "rfm", pattern=r"^[a-z][a-z0-9_]{0,62}$", description="RFM analysis read by rfm_tier"
    )
    recent_months: int = Field(6, ge=1, le=60, description="months compared, up to as_of")
    baseline: Literal["previous_year", "preceding"] = Field(
        "previous_year",
        description="compare with the same months a year earlier (seasons cancel out), or "
        "with the baseline_months just before the recent ones",
    )
    baseline_months: int = Field(12, ge=1, le=120, description="length of a preceding baseline")
    as_of: date | None = Field(None, description="last day considered; default latest purchase")
    horizon_days: int = Field(
        150,
        ge=1,
        le=3650,
        description="restricted mean gap: mean of min(gap, horizon_days), Kaplan-Meier",
    )
    limited_prefixes: tuple[str, ...] = Field(
        DEFAULT_LIMITED_PREFIXES,
        min_length=1,
        max_length=20,
        description="product-name prefixes marking a limited edition (case-insensitive)",
    )

    @field_validator("by", mode="before")
    @classmethod
    def _tier_alias(cls, value: object) -> object:
        """``tier`` is the brand's membership tier, i.e. ``member_level``."""
        return "member_level" if value == "tier" else value

    @field_validator("limited_prefixes")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(p.strip().lower() for p in value)
        if not all(_PREFIX.fullmatch(p) for p in cleaned):
            raise ValueError("1-40 characters each, without % _ ' or \\")
        return cleaned


@dataclass(frozen=True)
class Windows:
    """The baseline [baseline_start, baseline_end) and recent [recent_start, as_of] windows."""

    baseline_start: date
    baseline_end: date
    recent_start: date
    as_of: date

    def as_dict(self) -> dict[str, str]:
        names = ("baseline_start", "baseline_end", "recent_start", "as_of")
        return {k: getattr(self, k).isoformat() for k in names}


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def windows(params: RepurchaseParams, latest: date) -> Windows:
    """Recent = the ``recent_months`` calendar months ending with as_of's month; baseline =
    the same months a year earlier, or the ``baseline_months`` just before recent."""
    as_of = params.as_of or latest
    recent = _months_before(as_of, params.recent_months - 1)
    if params.baseline == "previous_year":
        start = _months_before(recent, 12)
        return Windows(start, _months_before(start, -params.recent_months), recent, as_of)
    return Windows(_months_before(recent, params.baseline_months), recent, recent, as_of)


def _orders_cte(as_of: date) -> str:
    return (
        "SELECT k.profile_key, k.profile_id, o.order_id, CAST(o.ordered_at AS DATE) AS order_day "
        "FROM orders o JOIN profile_keys k ON k.ref_type = o.customer_ref_type "
        "AND k.ref_value = o.customer_ref "
        "WHERE o.ordered_at IS NOT NULL AND (o.status IS NULL OR o.status <> 'cancelled') "
        f"AND o.ordered_at < {day_start_sql(as_of + timedelta(days=1))}"
    )


def _groups_cte(params: RepurchaseParams) -> str:
    """(profile_key, group_value) of every profile with an order in ``o``: the group table is
    joined on the text id once per profile, and the orders, days and lines on the number."""
    buyers = "SELECT profile_key, any_value(profile_id) AS profile_id FROM o GROUP BY profile_key"
    if params.by == "all":
        return "SELECT DISTINCT profile_key, 'all' AS group_value FROM o"
    if params.by == "member_level":
        groups = "SELECT profile_id, member_level AS group_value FROM profiles"
    else:
        groups = (
            "SELECT profile_id, tier AS group_value FROM analysis_rfm "
            f"WHERE analysis_name = {quote_literal(params.rfm_name)}"
        )
    return (  # grouped after the join, so the join stays here (once per buyer), not per line
        f"SELECT b.profile_key, any_value(coalesce(g.group_value, '{NO_GROUP}')) AS group_value "
        f"FROM ({buyers}) b LEFT JOIN ({groups}) g ON g.profile_id = b.profile_id "
        "GROUP BY b.profile_key"
    )


def _window_sql(column: str, w: Windows) -> str:
    return (
        f"CASE WHEN {column} >= DATE '{w.recent_start.isoformat()}' THEN 'recent' "
        f"WHEN {column} >= DATE '{w.baseline_start.isoformat()}' "
        f"AND {column} < DATE '{w.baseline_end.isoformat()}' THEN 'baseline' END"
    )


def gap_distribution_sql(params: RepurchaseParams, w: Windows) -> str:
    """Rows (group_value, period_start, time_window, gap_days, censored, spells, customers):
    spells by the period and window of the purchase day that starts them, ``gap_days`` to the
    next purchase day or, ``censored``, to as_of. ``customers`` (profiles with a purchase day
    in the period) is per (group, period) only on the rows with ``gap_days`` NULL."""
    return f"""
WITH o AS ({_orders_cte(w.as_of)}),
days AS (SELECT DISTINCT profile_key, order_day FROM o),
spells AS (
  SELECT profile_key, order_day,
         lead(order_day) OVER (PARTITION BY profile_key ORDER BY order_day) AS next_day
  FROM days
),
grp AS ({_groups_cte(params)}),
s AS (
  SELECT grp.group_value, spells.profile_key,
         CAST(date_trunc('{params.bucket}', spells.order_day) AS DATE) AS period_start,
         {_window_sql("spells.order_day", w)} AS time_window,
         date_diff('day', spells.order_day,
                   coalesce(spells.next_day, DATE '{w.as_of.isoformat()}')) AS gap_days,
         spells.next_day IS NULL AS censored
  FROM spells JOIN grp ON grp.profile_key = spells.profile_key
)
SELECT group_value, period_start, time_window, gap_days, censored, count(*) AS spells,
       CAST(NULL AS BIGINT) AS customers
FROM s WHERE gap_days > 0 GROUP BY group_value, period_start, time_window, gap_days, censored
UNION ALL
SELECT group_value, period_start, CAST(NULL AS VARCHAR) AS time_window,
       CAST(NULL AS INTEGER) AS gap_days, CAST(NULL AS BOOLEAN) AS censored,
       count(*) AS spells, count(DISTINCT profile_key) AS customers
FROM s GROUP BY group_value, period_start
"""


def limited_name_sql(column: str, prefixes: Iterable[str]) -> str:
    """True when ``column`` starts with a limited-edition prefix (lower-cased, trimmed, leading
    bracket or bullet dropped)."""
    name = f"ltrim(lower(trim({column})), {quote_literal(_LEADING_BRACKETS)})"
    return "(" + " OR ".join(f"{name} LIKE {quote_literal(p + '%')}" for p in prefixes) + ")"


def interest_sql(params: RepurchaseParams, w: Windows) -> str:
    """Rows (group_value, period_start, time_window, interest_kind, interest, lines, orders);
    interest_kind ``total`` carries the lines and orders of the group in the period/window."""
    flag = limited_name_sql("product_name", params.limited_prefixes)
    line_flag = limited_name_sql("l.product_name", params.limited_prefixes)
    return f"""
WITH o AS ({_orders_cte(w.as_of)}),
grp AS ({_groups_cte(params)}),
skus AS (
  SELECT sku, min(category) AS category,
         max(CASE WHEN {flag} THEN 1 ELSE 0 END) AS limited
  FROM order_lines WHERE sku IS NOT NULL GROUP BY sku
),
lines AS (
  SELECT grp.group_value, o.order_id,
         CAST(date_trunc('{params.bucket}', o.order_day) AS DATE) AS period_start,
         {_window_sql("o.order_day", w)} AS time_window,
         coalesce(l.category, s.category, '{UNKNOWN_CATEGORY}') AS category,
         CASE WHEN s.limited = 1 OR (l.sku IS NULL AND {line_flag}) THEN 1 ELSE 0 END AS limited
  FROM o JOIN order_lines l ON l.order_id = o.order_id
  LEFT JOIN skus s ON s.sku = l.sku
  JOIN grp ON grp.profile_key = o.profile_key
),
by_category AS (
  SELECT group_value, period_start, time_window, category, order_id, count(*) AS lines,
         sum(limited) AS limited
  FROM lines GROUP BY group_value, period_start, time_window, category, order_id
),
by_order AS (
  SELECT group_value, period_start, time_window, sum(lines) AS lines, sum(limited) AS limited
  FROM by_category GROUP BY group_value, period_start, time_window, order_id
)
SELECT group_value, period_start, time_window, 'category' AS interest_kind,
       category AS interest, sum(lines) AS lines, count(*) AS orders
FROM by_category GROUP BY group_value, period_start, time_window, category
UNION ALL
SELECT group_value, period_start, time_window, 'limited_edition' AS interest_kind,
       '{LIMITED}' AS interest, sum(limited) AS lines,
       sum(CASE WHEN limited > 0 THEN 1 ELSE 0 END) AS orders
FROM by_order GROUP BY group_value, period_start, time_window
UNION ALL
SELECT group_value, period_start, time_window, 'total' AS interest_kind, 'total' AS interest,
       sum(lines) AS lines, count(*) AS orders
FROM by_order GROUP BY group_value, period_start, time_window
"""


# -- gaps ------------------------------------------------------------------------------------


def _stats(gaps: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """Exact mean, median and 75th percentile (linear interpolation) of repeated values."""
    order = np.argsort(gaps, kind="stable")
    values, counts = gaps[order], weights[order]
    n = counts.sum()
    cum = np.cumsum(counts)

    def quantile(q: float) -> float:
        pos = (n - 1) * q
        lo = values[np.searchsorted(cum, np.floor(pos), side="right")]
        hi = values[np.searchsorted(cum, np.ceil(pos), side="right")]
        return float(lo + (hi - lo) * (pos - np.floor(pos)))

    return float((values * counts).sum() / n), quantile(0.5), quantile(0.75)


@dataclass
class _Spells:
    """Counted spells of one group and period (or window): whole-day durations."""

    days: list[int]
    censored: list[bool]
    counts: list[int]

    def figures(self, horizon: int) -> dict[str, Any]:
        """Plain statistics of the gaps seen, and Kaplan-Meier over all spells."""
        days, counts = np.array(self.days, float), np.array(self.counts, float)
        ended = ~np.array(self.censored, bool)
        repurchases = int(counts[ended].sum())
        plain = _stats(days[ended], counts[ended]) if repurchases else (None, None, None)
        km = kaplan_meier(days, ended, counts)
        return {
            "repurchases": repurchases,
            "mean_gap_days": plain[0],
            "median_gap_days": plain[1],
            "p75_gap_days": plain[2],
            "spells": int(counts.sum()),
            "censored_spells": int(counts.sum()) - repurchases,
            "km_median_gap_days": km.median(),
            "km_restricted_mean_gap_days": km.restricted_mean(horizon),
        }


def _spells(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple[Any, ...], _Spells]:
    out: dict[tuple[Any, ...], _Spells] = defaultdict(lambda: _Spells([], [], []))
    for row in rows:
        if row["gap_days"] is None or any(row[k] is None for k in key):
            continue
        found = out[tuple(row[k] for k in key)]
        found.days.append(int(row["gap_days"]))
        found.censored.append(bool(row["censored"]))
        found.counts.append(int(row["spells"]))
    return out


def gap_rows(
    rows: list[dict[str, Any]], params: RepurchaseParams
) -> tuple[pa.Table, dict[str, Any]]:
    """Per (group, period the spells start in) the gap statistics; and per group the
    baseline and recent windows compared."""
    customers = {
        (r["group_value"], r["period_start"]): int(r["customers"])
        for r in rows
        if r["gap_days"] is None
    }
    out: dict[str, list[Any]] = {name: [] for name in REPURCHASE_COLUMNS.names}
    for (group, period), spells in sorted(_spells(rows, ("group_value", "period_start")).items()):
        values = {
            "group_value": group,
            "period_start": period,
            "customers": customers.get((group, period), 0),
            **spells.figures(params.horizon_days),
        }
        for name in REPURCHASE_COLUMNS.names:
            out[name].append(values[name])
    return pa.table(out, schema=REPURCHASE_COLUMNS), _gap_windows(rows, params.horizon_days)


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}


def _gap_windows(rows: list[dict[str, Any]], horizon: int) -> dict[str, Any]:
    by_window = _spells(rows, ("group_value", "time_window"))
    out: dict[str, Any] = {}
    for group in sorted({group for group, _ in by_window}):
        figures = {
            window: by_window[(group, window)].figures(horizon)
            for window in ("baseline", "recent")
            if (group, window) in by_window
        }
        entry: dict[str, Any] = {window: _rounded(found) for window, found in figures.items()}
        if len(figures) == 2:
            entry.update(_changes(figures["baseline"], figures["recent"]))
        out[group] = entry
    return out


def _ratio(base: float | None, recent: float | None) -> float | None:
    return round(recent / base, 4) if base and recent is not None else None


_CHANGE_BASES: Final = ("km_median", "km_restricted_mean", "mean")


def _changes(base: dict[str, Any], recent: dict[str, Any]) -> dict[str, Any]:
    """Recent / baseline of the first figure both windows have: the Kaplan-Meier median, the
    Kaplan-Meier restricted mean (both censoring aware), else the plain mean of the gaps seen
    (biased low for recent spells); ``gap_change_basis`` says which."""
    ratios = {
        basis: _ratio(base[f"{basis}_gap_days"], recent[f"{basis}_gap_days"])
        for basis in _CHANGE_BASES
    }
    basis = next((b for b in _CHANGE_BASES if ratios[b] is not None), None)
    return {
        "gap_change": None if basis is None else ratios[basis],
        "gap_change_basis": basis,
        "mean_gap_change": ratios["mean"],
        "km_restricted_mean_change": ratios["km_restricted_mean"],
    }


# -- interests -------------------------------------------------------------------------------


def interest_rows(rows: list[dict[str, Any]]) -> pa.Table:
    """Lines and orders per interest with their shares of the group's period totals."""
    totals: dict[tuple[Any, Any], list[int]] = defaultdict(lambda: [0, 0])
    merged: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        key = (r["group_value"], r["period_start"])
        target = (
            totals[key]
            if r["interest_kind"] == "total"
            else merged[(*key, r["interest_kind"], r["interest"])]
        )
        target[0] += int(r["lines"] or 0)
        target[1] += int(r["orders"] or 0)
    out: dict[str, list[Any]] = {name: [] for name in INTEREST_COLUMNS.names}
    for (group, period, kind, interest), (lines, orders) in sorted(merged.items()):
        total_lines, total_orders = totals[(group, period)]
        values = (
            group, period, kind, interest, lines, orders,
            lines / total_lines if total_lines else 0.0,
            orders / total_orders if total_orders else 0.0,
        )  # fmt: skip
        for name, value in zip(INTEREST_COLUMNS.names, values, strict=True):
            out[name].append(value)
    return pa.table(out, schema=INTEREST_COLUMNS)


def largest_drops(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per group, the interest whose share of lines fell most from baseline to recent, and the
    largest such drop over all groups (share points; an interest absent in a window has 0)."""
    lines: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for r in rows:
        if r["time_window"] is not None:
            key = (r["group_value"], r["time_window"], r["interest_kind"], r["interest"])
            lines[key] += int(r["lines"] or 0)
    per_group: dict[str, Any] = {}
    for group in sorted({k[0] for k in lines}):
        base_total = lines.get((group, "baseline", "total", "total"), 0)
        recent_total = lines.get((group, "recent", "total", "total"), 0)
        if not base_total or not recent_total:
            continue
        drops = [
            _drop(kind, interest, lines, group, base_total, recent_total)
            for (g, _, kind, interest) in lines
            if g == group and kind != "total"
        ]
        per_group[group] = min(_unique(drops), key=lambda d: (d["change"], d["interest"]))
    overall = min(
        ({"group_value": g, **d} for g, d in per_group.items()),
        key=lambda d: (d["change"], d["group_value"]),
        default=None,
    )
    return {"by_group": per_group, "largest": overall}


def _drop(
    kind: str,
    interest: str,
    lines: dict[tuple[str, str, str, str], int],
    group: str,
    base_total: int,
    recent_total: int,
) -> dict[str, Any]:
    base = lines.get((group, "baseline", kind, interest), 0) / base_total
    recent = lines.get((group, "recent", kind, interest), 0) / recent_total
    return {
        "interest_kind": kind,
        "interest": interest,
        "baseline_share": round(base, 4),
        "recent_share": round(recent, 4),
        "change": round(recent - base, 4),
    }


def _unique(drops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {(d["interest_kind"], d["interest"]): d for d in drops}
    return list(seen.values())

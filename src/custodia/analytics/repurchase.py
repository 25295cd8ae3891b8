"""Repurchase cycles per tier over time, and which interests fell at the same time.

A *repurchase* is a profile's purchase day after an earlier one (orders not cancelled, reached
through ``profile_keys``; several orders on one UTC day are one purchase day). Its *gap* is the
number of days since the previous purchase day. Gaps are grouped by the profile's tier
(``member_level``, or the ``rfm_tier`` of an RFM analysis) and by the month or quarter of the
repurchase, with mean, median and 75th percentile computed exactly in Python from the distribution
of whole-day gaps the SQL returns (a few thousand rows whatever the data size).

Interests: each order line counts for its category (the line's own, else the category another
line of the same SKU carries) and whether it is a limited edition (its product name, or the name
of any line of the same SKU, starts with one of ``limited_prefixes`` after lower-casing, trimming
and dropping a leading bracket). Shares are of the lines (and orders) of the tier in the period.

The summary compares the last ``recent_months`` months up to the latest purchase day with the
``baseline_months`` months before them: the mean gap per tier, and the interest whose share of
lines dropped the most per tier (and overall).

Example::

    params = RepurchaseParams(by="member_level", bucket="month")
    as_of = ...  # latest purchase day
    gaps = session.run(gap_distribution_sql(params, windows(params, as_of)))
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    bucket: Literal["month", "quarter"] = Field("month", description="period of the repurchase")
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
        "SELECT k.profile_id, o.order_id, o.ordered_at, CAST(o.ordered_at AS DATE) AS order_day "
        "FROM orders o JOIN profile_keys k ON k.ref_type = o.customer_ref_type "
        "AND k.ref_value = o.customer_ref "
        "WHERE o.ordered_at IS NOT NULL AND (o.status IS NULL OR o.status <> 'cancelled') "
        f"AND CAST(o.ordered_at AS DATE) <= DATE '{as_of.isoformat()}'"
    )


def _groups_cte(params: RepurchaseParams) -> str:
    if params.by == "member_level":
        return "SELECT profile_id, member_level AS group_value FROM profiles"
    if params.by == "rfm_tier":
        return (
            "SELECT profile_id, tier AS group_value FROM analysis_rfm "
            f"WHERE analysis_name = {quote_literal(params.rfm_name)}"
        )
    return "SELECT DISTINCT profile_id, 'all' AS group_value FROM profile_keys"


def _window_sql(column: str, w: Windows) -> str:
    return (
        f"CASE WHEN {column} >= DATE '{w.recent_start.isoformat()}' THEN 'recent' "
        f"WHEN {column} >= DATE '{w.baseline_start.isoformat()}' "
        f"AND {column} < DATE '{w.baseline_end.isoformat()}' THEN 'baseline' END"
    )


def gap_distribution_sql(params: RepurchaseParams, w: Windows) -> str:
    """Rows (group_value, period_start, time_window, gap_days, repurchases, customers):
    ``customers`` is per (group, period) only on the rows with ``gap_days`` NULL."""
    return f"""
WITH o AS ({_orders_cte(w.as_of)}),
days AS (SELECT DISTINCT profile_id, order_day FROM o),
gaps AS (
  SELECT profile_id, order_day,
         date_diff('day', lag(order_day) OVER (PARTITION BY profile_id ORDER BY order_day),
                   order_day) AS gap_days
  FROM days
),
grp AS ({_groups_cte(params)}),
g AS (
  SELECT coalesce(grp.group_value, '{NO_GROUP}') AS group_value, gaps.profile_id,
         CAST(date_trunc('{params.bucket}', gaps.order_day) AS DATE) AS period_start,
         {_window_sql("gaps.order_day", w)} AS time_window, gaps.gap_days
  FROM gaps LEFT JOIN grp ON grp.profile_id = gaps.profile_id
  WHERE gaps.gap_days IS NOT NULL
)
SELECT group_value, period_start, time_window, gap_days, count(*) AS repurchases,
       CAST(NULL AS BIGINT) AS customers
FROM g GROUP BY group_value, period_start, time_window, gap_days
UNION ALL
SELECT group_value, period_start, CAST(NULL AS VARCHAR) AS time_window,
       CAST(NULL AS INTEGER) AS gap_days, count(*) AS repurchases,
       count(DISTINCT profile_id) AS customers
FROM g GROUP BY group_value, period_start
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
  SELECT coalesce(grp.group_value, '{NO_GROUP}') AS group_value, o.order_id,
         CAST(date_trunc('{params.bucket}', o.order_day) AS DATE) AS period_start,
         {_window_sql("o.order_day", w)} AS time_window,
         coalesce(l.category, s.category, '{UNKNOWN_CATEGORY}') AS category,
         CASE WHEN {line_flag} OR s.limited = 1 THEN 1 ELSE 0 END AS limited
  FROM o JOIN order_lines l ON l.order_id = o.order_id
  LEFT JOIN skus s ON s.sku = l.sku
  LEFT JOIN grp ON grp.profile_id = o.profile_id
)
SELECT group_value, period_start, time_window, 'category' AS interest_kind,
       category AS interest, count(*) AS lines, count(DISTINCT order_id) AS orders
FROM lines GROUP BY group_value, period_start, time_window, category
UNION ALL
SELECT group_value, period_start, time_window, 'limited_edition' AS interest_kind,
       '{LIMITED}' AS interest, sum(limited) AS lines,
       count(DISTINCT CASE WHEN limited = 1 THEN order_id END) AS orders
FROM lines GROUP BY group_value, period_start, time_window
UNION ALL
SELECT group_value, period_start, time_window, 'total' AS interest_kind, 'total' AS interest,
       count(*) AS lines, count(DISTINCT order_id) AS orders
FROM lines GROUP BY group_value, period_start, time_window
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


def _distributions(
    rows: list[dict[str, Any]], key: tuple[str, ...]
) -> dict[tuple[Any, ...], tuple[list[int], list[int]]]:
    out: dict[tuple[Any, ...], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for row in rows:
        if row["gap_days"] is None or any(row[k] is None for k in key):
            continue
        gaps, counts = out[tuple(row[k] for k in key)]
        gaps.append(int(row["gap_days"]))
        counts.append(int(row["repurchases"]))
    return out


def gap_rows(rows: list[dict[str, Any]]) -> tuple[pa.Table, dict[str, Any]]:
    """The per-(group, period) gap statistics, and per group the baseline vs recent means."""
    customers = {
        (r["group_value"], r["period_start"]): int(r["customers"])
        for r in rows
        if r["gap_days"] is None
    }
    out: dict[str, list[Any]] = {name: [] for name in REPURCHASE_COLUMNS.names}
    dists = _distributions(rows, ("group_value", "period_start"))
    for (group, period), (gaps, counts) in sorted(dists.items()):
        mean, median, p75 = _stats(np.array(gaps, float), np.array(counts, float))
        for name, value in zip(
            REPURCHASE_COLUMNS.names,
            (group, period, sum(counts), customers.get((group, period), 0), mean, median, p75),
            strict=True,
        ):
            out[name].append(value)
    return pa.table(out, schema=REPURCHASE_COLUMNS), _gap_windows(rows)


def _gap_windows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_window = _distributions(rows, ("group_value", "time_window"))
    groups = sorted({group for group, _ in by_window})
    out: dict[str, Any] = {}
    for group in groups:
        entry: dict[str, Any] = {}
        for window in ("baseline", "recent"):
            gaps, counts = by_window.get((group, window), ([], []))
            if counts:
                mean, median, p75 = _stats(np.array(gaps, float), np.array(counts, float))
                entry[window] = {
                    "repurchases": sum(counts),
                    "mean_gap_days": round(mean, 2),
                    "median_gap_days": median,
                    "p75_gap_days": p75,
                }
        if "baseline" in entry and "recent" in entry:
            base, recent = entry["baseline"]["mean_gap_days"], entry["recent"]["mean_gap_days"]
            entry["mean_gap_change"] = round(recent / base, 4) if base else None
        out[group] = entry
    return out


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

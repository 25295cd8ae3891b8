"""RFM: recency, frequency and monetary value per profile over a window, scored 1-5, named by tier.

Over the orders placed in the window (``as_of`` minus ``window_days`` days, ``as_of`` included;
UTC calendar days), excluding cancelled and refunded orders, per live profile (orders reach
profiles through ``profile_keys``):

- ``recency_days``: days from the last order's date to ``as_of`` (0: bought on that day);
- ``frequency``: orders; ``monetary``: the sum of their ``total_amount``.

Each measure is scored 1-5 by its rank among the profiles: **score = 1 + floor(5 x w / n)**,
where ``w`` is the number of profiles with a strictly worse value (more days, fewer orders, less
money) and ``n`` the number of profiles. Equal values therefore always get equal scores (the
whole tie group gets the score of its lowest position), scores do not depend on row order, and
when many profiles share the lowest value (a single order) they all score 1 while the next value
jumps up by their share. Tiers then name each (r, f, m) cell (:mod:`custodia.analytics.rfm_tiers`).

The SQL is written once for DuckDB; sqlglot carries it to Spark. Example::

    sql = rfm_scores_sql(params.resolved(today))
    per_profile, per_tier, summary = rfm_results(session.run(sql), tiers)
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from custodia.analytics.event_stream import day_start_sql
from custodia.analytics.rfm_tiers import SCORE_LEVELS, RfmTierSet, cell_index
from custodia.core.sql_text import quote_literal

__all__ = ["RFM_READS", "RfmParams", "rfm_results", "rfm_scores_sql"]

RFM_READS: Final = ("orders", "profile_keys")
_STATUS: Final = r"^[A-Za-z0-9_\-]{1,32}$"


def _tier_list(value: Any) -> Any:
    """Tiers may be given as the list itself (an API body) or as the file's mapping."""
    return {"tiers": value} if isinstance(value, list) else value


class RfmParams(BaseModel):
    """What an RFM run measures. ``as_of`` defaults to today (the workspace clock); ``tiers``
    to the workspace's tier file in force. A run records them resolved."""

    model_config = ConfigDict(extra="forbid")

    window_days: int = Field(default=365, ge=1, le=36600, description="Days of orders measured")
    as_of: date | None = Field(default=None, description="Last day of the window (UTC)")
    exclude_statuses: list[Annotated[str, StringConstraints(pattern=_STATUS)]] = Field(
        default_factory=lambda: ["cancelled", "refunded"],
        max_length=20,
        description="Order statuses left out (compared case-insensitively)",
    )
    tiers: Annotated[RfmTierSet | None, BeforeValidator(_tier_list)] = Field(
        default=None, description="Tier definitions: a list of tiers, as in the tier file"
    )

    def resolved(self, today: date, tiers: RfmTierSet) -> RfmParams:
        return self.model_copy(update={"as_of": self.as_of or today, "tiers": self.tiers or tiers})

    @property
    def window(self) -> tuple[date, date]:
        """First and last day of the window (both included); needs ``as_of`` resolved."""
        end = self.as_of
        if end is None:
            raise ValueError("RfmParams.window needs as_of: call resolved() first")
        return end - timedelta(days=self.window_days - 1), end


def rfm_scores_sql(params: RfmParams) -> str:
    """Per profile: the three measures, first and last order and the three scores."""
    first, last = params.window
    statuses = ", ".join(quote_literal(s.lower()) for s in params.exclude_statuses)
    status_filter = f"AND (o.status IS NULL OR lower(o.status) NOT IN ({statuses}))"
    return f"""
WITH window_orders AS (
  SELECT k.profile_key, k.profile_id, o.ordered_at, o.total_amount
  FROM orders o
  JOIN profile_keys k ON k.ref_type = o.customer_ref_type AND k.ref_value = o.customer_ref
  WHERE o.ordered_at >= {day_start_sql(first)}
    AND o.ordered_at < {day_start_sql(last + timedelta(days=1))}
    {status_filter if params.exclude_statuses else ""}
), measures AS (
  SELECT any_value(profile_id) AS profile_id,
         date_diff('day', CAST(max(ordered_at) AS DATE), DATE '{last.isoformat()}') AS recency_days,
         count(*) AS frequency,
         coalesce(sum(total_amount), 0) AS monetary,
         min(ordered_at) AS first_order_at,
         max(ordered_at) AS last_order_at
  FROM window_orders
  GROUP BY profile_key
), ranked AS (
  SELECT *,
         rank() OVER (ORDER BY recency_days DESC) - 1 AS r_worse,
         rank() OVER (ORDER BY frequency) - 1 AS f_worse,
         rank() OVER (ORDER BY monetary) - 1 AS m_worse,
         count(*) OVER () AS n
  FROM measures
)
SELECT profile_id, CAST(recency_days AS INTEGER) AS recency_days,
       CAST(frequency AS INTEGER) AS frequency, monetary, first_order_at, last_order_at,
       CAST(1 + floor({SCORE_LEVELS} * r_worse / n) AS INTEGER) AS r_score,
       CAST(1 + floor({SCORE_LEVELS} * f_worse / n) AS INTEGER) AS f_score,
       CAST(1 + floor({SCORE_LEVELS} * m_worse / n) AS INTEGER) AS m_score
FROM ranked
ORDER BY profile_id
"""


def rfm_results(scores: pa.Table, tiers: RfmTierSet) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """The per-profile table (scores named by tier), the per-tier table and a summary."""
    tier_index = _tier_indexes(scores, tiers)
    names = np.array([t.name for t in tiers.tiers], dtype=object)
    labels = np.array([t.label for t in tiers.tiers], dtype=object)
    cells = pc.binary_join_element_wise(
        *(pc.cast(scores.column(c), pa.string()) for c in _SCORES), ""
    )
    per_profile = (
        scores.append_column("rfm_cell", cells)
        .append_column("tier", pa.array(names[tier_index].tolist(), pa.string()))
        .append_column("tier_label", pa.array(labels[tier_index].tolist(), pa.string()))
    )
    per_tier = _per_tier(scores, tiers, tier_index)
    summary = {
        "profiles": scores.num_rows,
        "orders": int(pc.sum(scores.column("frequency")).as_py() or 0),
        "monetary": _money(pc.sum(scores.column("monetary")).as_py()),
        "tiers": [
            {
                **{k: row[k] for k in ("tier", "tier_label", "profiles", "share")},
                "monetary": _money(row["monetary"]),
            }
            for row in per_tier.to_pylist()
        ],
    }
    return per_profile, per_tier, summary


_SCORES: Final = ("r_score", "f_score", "m_score")


def _tier_indexes(scores: pa.Table, tiers: RfmTierSet) -> np.ndarray:
    r, f, m = (scores.column(c).to_numpy(zero_copy_only=False).astype(np.int64) for c in _SCORES)
    cells: np.ndarray = tiers.tier_of_cells()[cell_index(r, f, m)]
    return cells


def _per_tier(scores: pa.Table, tiers: RfmTierSet, tier_index: np.ndarray) -> pa.Table:
    n = scores.num_rows
    k = len(tiers.tiers)
    grouped = (
        pa.table(
            {
                "i": pa.array(tier_index, pa.int32()),
                "monetary": scores.column("monetary").cast(pa.decimal128(18, 2)),
                "recency_days": scores.column("recency_days"),
                "frequency": scores.column("frequency"),
            }
        )
        .group_by("i")
        .aggregate([("i", "count"), *((c, "sum") for c in _MEASURES)])
    )
    at = {i: row for row, i in enumerate(grouped.column("i").to_pylist())}
    counts = [int(grouped.column("i_count")[at[i]].as_py()) if i in at else 0 for i in range(k)]

    def total(column: str, i: int) -> Any:
        return grouped.column(f"{column}_sum")[at[i]].as_py() if i in at else 0

    money = [Decimal(total("monetary", i) or 0) for i in range(k)]
    return pa.table(
        {
            "position": pa.array(range(1, k + 1), pa.int32()),
            "tier": [t.name for t in tiers.tiers],
            "tier_label": pa.array([t.label for t in tiers.tiers], pa.string()),
            "profiles": pa.array(counts, pa.int64()),
            "share": [round(c / n, 6) if n else 0.0 for c in counts],
            "monetary": pa.array(money, pa.decimal128(18, 2)),
            "avg_monetary": [_avg(float(money[i]), counts[i]) for i in range(k)],
            "avg_recency_days": [_avg(total("recency_days", i), counts[i]) for i in range(k)],
            "avg_frequency": [_avg(total("frequency", i), counts[i]) for i in range(k)],
        }
    )


_MEASURES: Final = ("monetary", "recency_days", "frequency")


def _avg(total: float, count: int) -> float | None:
    return round(float(total) / int(count), 4) if count else None


def _money(value: Any) -> float:
    return float(value or 0)

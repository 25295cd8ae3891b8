"""Attribution: which marketing channels earn the conversions (issue 8 item 8).

**Journeys** (one SQL definition, DuckDB here and Spark at scale). Touchpoints reach their
person through ``profile_keys`` (a reference no profile holds is a person of its own, who cannot
convert). Conversions are the person's orders (cancelled and refunded left out). Each person's
timeline is cut at every conversion: the touches since the previous conversion that happened
within ``lookback`` before the order form that order's converting journey (value: the order's
``total_amount``); the touches of a stretch that are older than ``lookback`` before its order, and
the touches after the last order, form a journey that did not convert (a *null*). A touch at the
same second as an order counts before it. Journeys are then grouped by path (channels in time
order, ties by touchpoint id) into ``(path, conversions, value, nulls)`` rows, the input of every
model in :mod:`custodia.analytics.attribution_models`. Time decay needs each touch's age at
conversion, so it is computed in SQL too (:func:`time_decay_sql`).

**Holdout groups.** A touchpoint whose ``interaction`` is the holdout marker (``holdout``)
records that the person was assigned to the channel's control group at that time and shown
nothing; such rows are never part of a journey. For each channel with a holdout group,
:func:`holdout_sql` compares people exposed to the channel with people held out (a person held
out counts as held out even if exposed later): who converted within ``lookback`` of their first
exposure or assignment.

Example::

    params = AttributionParams(models=["last", "markov"], lookback="14d")
    rows = session.run(journey_paths_sql(params))   # path, conversions, value, nulls
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from custodia.core.durations import parse_duration
from custodia.core.sql_text import quote_literal

__all__ = [
    "ATTRIBUTION_MODELS",
    "ATTRIBUTION_READS",
    "PATH_SEPARATOR",
    "AttributionModel",
    "AttributionParams",
    "conversions_sql",
    "holdout_sql",
    "journey_paths_sql",
    "time_decay_sql",
]

AttributionModel = Literal["first", "last", "linear", "position", "time_decay", "markov", "shapley"]
ATTRIBUTION_MODELS: Final[tuple[AttributionModel, ...]] = (
    "first", "last", "linear", "position", "time_decay", "markov", "shapley",
)  # fmt: skip
ATTRIBUTION_READS: Final = ("touchpoints", "orders", "profile_keys")
PATH_SEPARATOR: Final = " > "
"""Between the channels of a path; a channel name holding it has it replaced by ' ＞ '."""
_WORD: Final = r"^[\w\- .]{1,64}$"
Word = Annotated[str, StringConstraints(pattern=_WORD, strip_whitespace=True)]


class AttributionParams(BaseModel):
    """What an attribution run credits and how. Durations are written ``30d``, ``36h``, ``2w``."""

    model_config = ConfigDict(extra="forbid")

    models: list[AttributionModel] = Field(
        default_factory=lambda: list(ATTRIBUTION_MODELS), min_length=1, max_length=7,
        description="Models to run",
    )  # fmt: skip
    markov_order: int = Field(default=1, ge=1, le=3, description="Order of the Markov chain")
    lookback: str = Field(default="30d", description="Touches count this long before an order")
    half_life: str = Field(default="7d", description="Time decay: a touch this much older "
                           "than the conversion weighs half as much")  # fmt: skip
    interactions: list[Word] | None = Field(
        default=None, max_length=20,
        description="Touchpoint interactions that count (default: all but the holdout marker)",
    )  # fmt: skip
    holdout_marker: Word = Field(
        default="holdout", description="interaction value marking a holdout assignment"
    )
    exclude_statuses: list[Word] = Field(
        default_factory=lambda: ["cancelled", "refunded"], max_length=20,
        description="Order statuses that are not conversions (compared case-insensitively)",
    )  # fmt: skip
    shapley_samples: int = Field(
        default=2000, ge=100, le=1_000_000,
        description="Random orders per channel set above 15 channels (Shapley)",
    )  # fmt: skip
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed of Shapley sampling")
    top_paths: int = Field(default=10, ge=0, le=100, description="Paths listed in the summary")

    @field_validator("lookback", "half_life")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) <= timedelta(0):
            raise ValueError("duration must be longer than zero")
        return value.strip()

    @field_validator("models")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @property
    def lookback_seconds(self) -> int:
        return int(parse_duration(self.lookback).total_seconds())

    @property
    def half_life_seconds(self) -> int:
        return int(parse_duration(self.half_life).total_seconds())


def _touch_filter(params: AttributionParams) -> str:
    if params.interactions:
        listed = ", ".join(quote_literal(i) for i in params.interactions)
        return f"t.interaction IN ({listed})"
    return f"(t.interaction IS NULL OR t.interaction <> {quote_literal(params.holdout_marker)})"


def _conversions_cte(params: AttributionParams) -> str:
    statuses = ", ".join(quote_literal(s.lower()) for s in params.exclude_statuses)
    status = f"AND (o.status IS NULL OR lower(o.status) NOT IN ({statuses}))" if statuses else ""
    return f"""conversions AS (
  SELECT k.profile_id AS subject, CAST(NULL AS VARCHAR) AS channel,
         CAST(epoch(o.ordered_at) AS BIGINT) AS at_s, o.order_id AS tie, 1 AS kind,
         CAST(coalesce(o.total_amount, 0) AS DOUBLE) AS amount
  FROM orders o
  JOIN profile_keys k ON k.ref_type = o.customer_ref_type AND k.ref_value = o.customer_ref
  WHERE o.ordered_at IS NOT NULL {status}
)"""


def _subject_touches_cte(name: str, where: str, extra: str = "") -> str:
    return f"""{name} AS (
  SELECT coalesce(k.profile_id, t.customer_ref_type || ':' || t.customer_ref) AS subject,
         replace(t.channel, '{PATH_SEPARATOR}', ' ＞ ') AS channel,
         CAST(epoch(t.occurred_at) AS BIGINT) AS at_s, t.touchpoint_id AS tie, 0 AS kind,
         CAST(NULL AS DOUBLE) AS amount{extra}
  FROM touchpoints t
  LEFT JOIN profile_keys k ON k.ref_type = t.customer_ref_type AND k.ref_value = t.customer_ref
  WHERE t.channel IS NOT NULL AND t.channel <> '' AND t.occurred_at IS NOT NULL
    AND t.customer_ref IS NOT NULL AND {where}
)"""


def _located_touches(params: AttributionParams) -> str:
    """CTEs ending in ``located``: each touch with its journey (subject, seq, converted)."""
    return f"""WITH {_subject_touches_cte("touches", _touch_filter(params))},
{_conversions_cte(params)},
stream AS (
  SELECT subject, channel, at_s, tie, kind, amount,
         sum(kind) OVER (PARTITION BY subject ORDER BY at_s, kind, tie
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS seq
  FROM (SELECT * FROM touches UNION ALL SELECT * FROM conversions) AS events
),
located AS (
  SELECT t.subject, t.seq, t.channel, t.at_s, t.tie, c.at_s AS conv_s, c.amount,
         CASE WHEN c.at_s IS NOT NULL AND c.at_s - t.at_s <= {params.lookback_seconds}
              THEN 1 ELSE 0 END AS converted
  FROM stream t
  LEFT JOIN stream c ON c.subject = t.subject AND c.kind = 1 AND c.seq = t.seq + 1
  WHERE t.kind = 0
)"""


def journey_paths_sql(params: AttributionParams) -> str:
    """One row per distinct path: ``path``, ``conversions``, ``value``, ``nulls``, ``touches``."""
    return f"""{_located_touches(params)},
journeys AS (
  SELECT subject, seq, converted, max(amount) AS amount, count(*) AS touches,
         string_agg(channel, '{PATH_SEPARATOR}' ORDER BY at_s, tie) AS path
  FROM located
  GROUP BY subject, seq, converted
)
SELECT path,
       CAST(sum(converted) AS BIGINT) AS conversions,
       CAST(sum(CASE WHEN converted = 1 THEN amount ELSE 0 END) AS DOUBLE) AS value,
       CAST(sum(1 - converted) AS BIGINT) AS nulls,
       CAST(max(touches) AS BIGINT) AS touches
FROM journeys
GROUP BY path
ORDER BY path"""


def time_decay_sql(params: AttributionParams) -> str:
    """Per channel: conversions and value credited by time decay (weight 2^(-age/half_life),
    shared within each converting journey)."""
    return f"""{_located_touches(params)},
weighted AS (
  SELECT subject, seq, channel, amount,
         power(0.5, CAST(conv_s - at_s AS DOUBLE) / {params.half_life_seconds}) AS w
  FROM located
  WHERE converted = 1
),
shared AS (
  SELECT channel, amount, w / sum(w) OVER (PARTITION BY subject, seq) AS share
  FROM weighted
)
SELECT channel, CAST(sum(share) AS DOUBLE) AS conversions,
       CAST(sum(share * amount) AS DOUBLE) AS value
FROM shared
GROUP BY channel
ORDER BY channel"""


def conversions_sql(params: AttributionParams) -> str:
    """All conversions and their value (touched or not), to report the unattributed ones."""
    return f"""WITH {_conversions_cte(params)}
SELECT CAST(count(*) AS BIGINT) AS conversions, CAST(coalesce(sum(amount), 0) AS DOUBLE) AS value
FROM conversions"""


def holdout_sql(params: AttributionParams) -> str:
    """Per channel with a holdout group, and group (1 held out, 0 exposed): people, converted
    people (an order within ``lookback`` after their first assignment or exposure), value."""
    marker = quote_literal(params.holdout_marker)
    held = f", CASE WHEN t.interaction = {marker} THEN 1 ELSE 0 END AS held"
    where = f"(t.interaction = {marker} OR {_touch_filter(params)})"
    return f"""WITH {_subject_touches_cte("marked", where, held)},
{_conversions_cte(params)},
people AS (
  SELECT subject, channel, max(held) AS held, min(at_s) AS first_s,
         min(CASE WHEN held = 1 THEN at_s END) AS held_s
  FROM marked
  GROUP BY subject, channel
),
groups AS (
  SELECT subject, channel, held, CASE WHEN held = 1 THEN held_s ELSE first_s END AS start_s
  FROM people
  WHERE channel IN (SELECT channel FROM marked WHERE held = 1)
),
outcome AS (
  SELECT g.channel, g.held, g.subject,
         max(CASE WHEN c.at_s IS NOT NULL THEN 1 ELSE 0 END) AS converted,
         coalesce(sum(c.amount), 0) AS value
  FROM groups g
  LEFT JOIN conversions c ON c.subject = g.subject AND c.at_s >= g.start_s
                         AND c.at_s - g.start_s <= {params.lookback_seconds}
  GROUP BY g.channel, g.held, g.subject
)
SELECT channel, held, CAST(count(*) AS BIGINT) AS people,
       CAST(sum(converted) AS BIGINT) AS converted, CAST(sum(value) AS DOUBLE) AS value
FROM outcome
GROUP BY channel, held
ORDER BY channel, held"""

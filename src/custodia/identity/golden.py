"""The golden record: one value per attribute per profile, chosen by survivorship rules.

Each attribute names a strategy (and a tie-breaker) in the spec:

==================  ============================================================================
``source_priority``  the value from the most trusted source (``source_trust`` order)
``most_recent``      the value of the most recently updated record
``most_frequent``    the value most records agree on
``first_non_empty``  the value of the earliest record that has one
==================  ============================================================================

Nothing is thrown away: every candidate value is kept with its source, record and support, and
the losing values of an attribute are its *conflicts*, shown next to the winner. The ranking is
one SQL query (window functions only), so it runs on DuckDB here and on Spark at scale.

Example::

    sql = survivorship_sql(spec)      # over a relation ``candidates``
    chosen = ws.transform(sql, relations={"candidates": candidates})
"""

from __future__ import annotations

from collections.abc import Sequence

from custodia.core.sql_text import quote_literal
from custodia.identity.models import SURVIVING_ATTRIBUTES, IdentitySpec, Strategy

__all__ = ["CANDIDATE_COLUMNS", "survivorship_sql"]

CANDIDATE_COLUMNS = ("profile_id", "record_id", "source", "updated_at", "attribute", "value")
"""Columns of the ``candidates`` relation: one row per non-empty attribute value of a record."""


def _order_terms(strategy: Strategy, trust: Sequence[str]) -> list[str]:
    if strategy == "source_priority":
        whens = " ".join(
            f"WHEN {quote_literal(source)} THEN {rank}" for rank, source in enumerate(trust)
        )
        return [f"CASE source {whens} ELSE {len(trust)} END" if whens else "0"]
    if strategy == "most_recent":
        return ["updated_at DESC NULLS LAST"]
    if strategy == "most_frequent":
        return ["support DESC"]
    return ["updated_at ASC NULLS LAST"]


def _ranking(attribute: str, spec: IdentitySpec) -> str:
    rule = spec.survivorship.get(attribute)
    terms: list[str] = []
    if rule is not None:
        terms += _order_terms(rule.strategy, spec.source_trust)
        if rule.then is not None:
            terms += _order_terms(rule.then, spec.source_trust)
    terms += ["updated_at DESC NULLS LAST", "value", "record_id"]
    return ", ".join(terms)


def survivorship_sql(spec: IdentitySpec) -> str:
    """SQL ranking every candidate value; ``chosen`` is true for each attribute's winner.

    Output columns: profile_id, attribute, value, source, record_id, updated_at, support
    (records of the profile holding the same value), chosen.
    """
    cases = " ".join(
        f"WHEN {quote_literal(a)} THEN row_number() OVER (PARTITION BY profile_id, attribute "
        f"ORDER BY {_ranking(a, spec)})"
        for a in SURVIVING_ATTRIBUTES
    )
    return f"""
WITH supported AS (
  SELECT *, count(*) OVER (PARTITION BY profile_id, attribute, value) AS support
  FROM candidates
),
ranked AS (
  SELECT *, CASE attribute {cases} ELSE row_number() OVER (
      PARTITION BY profile_id, attribute ORDER BY updated_at DESC NULLS LAST, value, record_id)
    END AS rank_in_attribute
  FROM supported
)
SELECT profile_id, attribute, value, source, record_id, updated_at, support,
       rank_in_attribute = 1 AS chosen
FROM ranked
ORDER BY profile_id, attribute, rank_in_attribute
"""

"""Customer attribute completeness, as the sources delivered it and after unification.

The measure behind the "68% to 92%" story of a CDP: take the attributes a marketer needs of a
customer (name, gender, birthday, phone, email, member level, province, city, occupation) and
count how many are filled, first over the customer records as each source delivered them
(``customer_records``, one row per source record: a shop account rarely knows a birthday, a POS
loyalty record rarely an email), then over the golden profiles (``profiles``), where identity
resolution and survivorship have pooled every source's knowledge of the person. A blank string
counts as missing. When cleansing has filled the records' gaps from their golden profiles
(``customer_records_filled``, the curated zone), the same shares over those records are the third
figure: the records as delivered (raw) against the same records curated.

Example::

    view = customer_completeness(ws)
    view.records_overall, view.profiles_overall     # e.g. 0.41, 0.63
"""

from __future__ import annotations

from pydantic import BaseModel

from custodia.core.sql_text import quote_ident
from custodia.core.tables import CUSTOMER_RECORDS, CUSTOMER_RECORDS_FILLED, PROFILES
from custodia.workspace import Workspace

__all__ = ["ATTRIBUTES", "CustomerCompleteness", "customer_completeness"]

ATTRIBUTES = (
    "name", "gender", "birthday", "phone", "email", "member_level", "province", "city",
    "occupation",
)  # fmt: skip
"""Attributes of a person that both the source records and the golden profiles hold."""


class CustomerCompleteness(BaseModel):
    attributes: list[str]
    records: dict[str, float]
    """Share of source records with each attribute filled."""
    profiles: dict[str, float]
    """Share of golden profiles with each attribute filled."""
    records_overall: float
    profiles_overall: float
    record_count: int
    profile_count: int
    filled: dict[str, float] | None = None
    """Share of the same records with each attribute filled after cleansing filled their gaps
    from the golden profiles (``customer_records_filled``), when cleansing has run."""
    filled_overall: float | None = None


def customer_completeness(ws: Workspace) -> CustomerCompleteness | None:
    """Both measurements, or None while either table is empty."""
    for spec in (CUSTOMER_RECORDS, PROFILES):
        if not ws.lake.exists(spec.zone.value, spec.name):
            return None
    records, n_records = _shares(ws, CUSTOMER_RECORDS.name)
    profiles, n_profiles = _shares(ws, PROFILES.name)
    if not n_records or not n_profiles:
        return None
    filled = None
    spec = CUSTOMER_RECORDS_FILLED
    if ws.lake.exists(spec.zone.value, spec.name):
        filled, n_filled = _shares(ws, spec.name)
        filled = filled if n_filled else None
    return CustomerCompleteness(
        attributes=list(ATTRIBUTES),
        records=records,
        profiles=profiles,
        records_overall=_mean(records),
        profiles_overall=_mean(profiles),
        record_count=n_records,
        profile_count=n_profiles,
        filled=filled,
        filled_overall=None if filled is None else _mean(filled),
    )


def _mean(shares: dict[str, float]) -> float:
    return sum(shares.values()) / len(shares)


def _shares(ws: Workspace, table: str) -> tuple[dict[str, float], int]:
    filled = ", ".join(
        f"count(*) FILTER (WHERE {quote_ident(a)} IS NOT NULL "
        f"AND trim(CAST({quote_ident(a)} AS VARCHAR)) <> '') AS {quote_ident(a)}"
        for a in ATTRIBUTES
    )
    row = (
        ws.query_engine()
        .query(f"SELECT count(*) AS n, {filled} FROM {quote_ident(table)}")
        .to_pylist()[0]
    )
    total = int(row["n"])
    return ({a: (row[a] / total if total else 0.0) for a in ATTRIBUTES}, total)

"""Small shared vocabularies: classification tiers, lakehouse zones, data domains."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """Classification tier of a column (PIPL / GB/T 35273 style grading).

    - ``L3`` highly sensitive: resident ID numbers, biometrics, credit and financial data, precise
      location, free text that may hold any of these. Encrypted at rest; masked for most roles.
    - ``L2`` sensitive: phone, email, name, address, birthday, purchase history, identifiers that
      point at one person. Masked by role.
    - ``L1`` general: region, industry, product, technical and business fields that do not identify
      a person on their own.
    """

    L1 = "L1"
    L2 = "L2"
    L3 = "L3"

    @property
    def label(self) -> str:
        return _TIER_LABELS[self]


_TIER_LABELS = {
    Tier.L1: "general 一般",
    Tier.L2: "sensitive 敏感",
    Tier.L3: "highly sensitive 高度敏感",
}


class Zone(StrEnum):
    """Lakehouse zones: data flows raw -> staged -> curated."""

    RAW = "raw"
    STAGED = "staged"
    CURATED = "curated"


class Domain(StrEnum):
    """Business domain of a table, used by the catalog."""

    CUSTOMER = "customer"
    TRANSACTION = "transaction"
    BEHAVIOUR = "behaviour"
    SERVICE = "service"
    MARKETING = "marketing"
    LOGISTICS = "logistics"
    GOVERNANCE = "governance"
    ANALYTICS = "analytics"


class Home(StrEnum):
    """Where a table's rows live: the Delta lakehouse or the operational store (SQL)."""

    LAKE = "lake"
    STORE = "store"

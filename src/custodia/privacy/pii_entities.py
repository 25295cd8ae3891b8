"""The names of the personal-data entity types the free-text detector finds.

Kept apart from :mod:`custodia.privacy.pii_recognizers` because that module imports Presidio
(about 1.3 s with spaCy): policy files name entity types and are read by every load, which must
not pay that import unless it scans text.

Example::

    "CN_MOBILE" in PII_ENTITIES   # True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = [
    "BANK_CARD",
    "CN_LANDLINE",
    "CN_MOBILE",
    "CN_PASSPORT",
    "CN_RESIDENT_ID",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "PII_ENTITIES",
    "known_entities",
]

_Named = TypeVar("_Named", bound=Mapping[str, object])

CN_RESIDENT_ID = "CN_RESIDENT_ID"
CN_MOBILE = "CN_MOBILE"
CN_LANDLINE = "CN_LANDLINE"
CN_PASSPORT = "CN_PASSPORT"
BANK_CARD = "BANK_CARD"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
PII_ENTITIES = (
    CN_RESIDENT_ID, CN_MOBILE, CN_LANDLINE, BANK_CARD, EMAIL_ADDRESS, CN_PASSPORT, PHONE_NUMBER,
)  # fmt: skip
"""Every entity type found, in the order overlapping findings of equal score are preferred."""


def known_entities(value: _Named) -> _Named:
    """``value`` (keyed by entity type) if every key is a known type; else a ValueError naming
    the unknown ones, so a typo in a policy cannot leave a type unredacted.

    >>> known_entities({"CN_MOBILE": "mask"})
    {'CN_MOBILE': 'mask'}
    """
    unknown = sorted(set(value) - set(PII_ENTITIES))
    if unknown:
        raise ValueError(f"unknown personal-data entities {unknown}; known: {list(PII_ENTITIES)}")
    return value

"""User-set expiry ("delete after use"): which of their data a customer may set to expire.

A customer names either **fields** (personal columns of their customer records and golden
profile: ``phone``, ``address``...) or **categories** (groups of fields and tables, below) and a
time. The portal stores the choice (``user_expiries``, status ``pending``); the retention job
removes the data once the time passes and marks the row ``enforced`` with its receipt. The
categories map each name to what the job must remove, so both sides read one definition.

Example::

    choice = ExpiryChoice.parse(fields=None, categories=["contact"], expires_at=when, now=now)
    choice.fields          # ('address', 'email', 'phone')
    choice.tables          # ()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from custodia.core.errors import ValidationError
from custodia.core.tables import CUSTOMER_RECORDS, PROFILES

__all__ = [
    "EXPIRY_CATEGORIES",
    "EXPIRY_FIELDS",
    "MAX_EXPIRY_HORIZON",
    "ExpiryChoice",
    "expiry_coverage",
]


@dataclass(frozen=True, slots=True)
class ExpiryCategory:
    """The personal fields and the whole tables (the person's rows) a category stands for."""

    fields: tuple[str, ...]
    tables: tuple[str, ...] = ()


EXPIRY_CATEGORIES: Final = {
    "identity": ExpiryCategory(("birthday", "gender", "name", "resident_id")),
    "contact": ExpiryCategory(("address", "email", "phone")),
    "financial": ExpiryCategory(("credit_band", "income_band")),
    "behaviour": ExpiryCategory((), ("events", "touchpoints")),
    "transactions": ExpiryCategory((), ("orders", "order_lines")),
    "service": ExpiryCategory((), ("interactions",)),
}
"""Category -> what the retention job removes: these fields of the person's customer records and
golden profile, and the person's rows of these tables."""

EXPIRY_FIELDS: Final = tuple(
    sorted(
        {c.name for c in (*CUSTOMER_RECORDS.columns, *PROFILES.columns) if c.personal}
        - {"source_key", "member_id", "user_id"}
    )
)
"""Fields a customer may name: personal columns, but not the keys that tie records to them."""

MAX_EXPIRY_HORIZON: Final = timedelta(days=3650)
_MAX_NAMES: Final = 50


@dataclass(frozen=True, slots=True)
class ExpiryChoice:
    """A validated expiry: its scope, the names given, and the fields and tables they cover."""

    scope: str
    names: tuple[str, ...]
    expires_at: datetime
    fields: tuple[str, ...]
    tables: tuple[str, ...]

    @classmethod
    def parse(
        cls,
        *,
        fields: Sequence[str] | None,
        categories: Sequence[str] | None,
        expires_at: datetime,
        now: datetime,
    ) -> ExpiryChoice:
        """Exactly one of ``fields`` and ``categories``, known names, a future time with a
        zone; errors name the part and the rule, never the value."""
        if (fields is None) == (categories is None):
            raise ValidationError(
                "fields", "one_of", "fields/categories: give exactly one of the two"
            )
        scope, names = ("fields", fields) if fields is not None else ("categories", categories)
        known = EXPIRY_FIELDS if scope == "fields" else tuple(EXPIRY_CATEGORIES)
        unique = _known_names(scope, names or (), known)
        _check_time(expires_at, now)
        return cls(scope, unique, expires_at, *expiry_coverage(scope, unique))


def expiry_coverage(scope: str, names: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(fields, tables) that a stored expiry's ``scope`` and ``names`` stand for.

    >>> expiry_coverage("categories", ["contact", "service"])
    (('address', 'email', 'phone'), ('interactions',))
    """
    if scope == "fields":
        return tuple(sorted(set(names))), ()
    chosen = [EXPIRY_CATEGORIES[name] for name in names if name in EXPIRY_CATEGORIES]
    fields = tuple(sorted({f for c in chosen for f in c.fields}))
    return fields, tuple(sorted({t for c in chosen for t in c.tables}))


def _known_names(scope: str, names: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    if not names or len(names) > _MAX_NAMES:
        raise ValidationError(scope, "count", f"{scope}: name 1 to {_MAX_NAMES}")
    if any(name not in known for name in names):
        raise ValidationError(scope, "known", f"{scope}: each must be one of {', '.join(known)}")
    return tuple(sorted(set(names)))


def _check_time(expires_at: datetime, now: datetime) -> None:
    if expires_at.utcoffset() is None:
        raise ValidationError("expires_at", "timezone", "expires_at: needs a time zone")
    if not now < expires_at <= now + MAX_EXPIRY_HORIZON:
        raise ValidationError(
            "expires_at", "range", "expires_at: in the future and within 10 years"
        )

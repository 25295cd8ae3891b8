"""Normalizer per identifier type, and a column helper that normalizes each distinct value once.

============  =====================================================================
id_type       normalizer
============  =====================================================================
phone         :func:`~custodia.identity.normalize.phone.normalize_phone` (region CN)
email         :func:`~custodia.identity.normalize.email.normalize_email` (tags kept)
resident_id   :func:`~custodia.identity.normalize.resident_id.normalize_resident_id`
member_id     trimmed and NFKC; empty → no value; nothing else changes
user_id       same as member_id
anonymous_id  same as member_id
============  =====================================================================

Example::

    values, reasons = normalize_values("phone", ["138 1234 5678", "12345", None])
    # values  == ['+8613812345678', None, None]
    # reasons == [None, 'phone.invalid', None]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from custodia.core.errors import ValidationError
from custodia.identity.normalize._result import EMPTY, Normalized, clean_text
from custodia.identity.normalize.email import normalize_email
from custodia.identity.normalize.phone import normalize_phone, plain_cn_mobile
from custodia.identity.normalize.resident_id import normalize_resident_id

__all__ = ["NORMALIZERS", "normalize_key", "normalize_values"]


def normalize_key(raw: str | None) -> Normalized:
    """A system-issued key (member, user or anonymous id): trimmed and NFKC, otherwise as is."""
    text = clean_text(raw)
    return Normalized(text) if text else EMPTY


def _phone(raw: str | None) -> Normalized:
    return normalize_phone(raw)


def _email(raw: str | None) -> Normalized:
    return normalize_email(raw)


def _resident_id(raw: str | None) -> Normalized:
    return normalize_resident_id(raw)


NORMALIZERS: Mapping[str, Callable[[str | None], Normalized]] = MappingProxyType(
    {
        "phone": _phone,
        "email": _email,
        "resident_id": _resident_id,
        "member_id": normalize_key,
        "user_id": normalize_key,
        "anonymous_id": normalize_key,
    }
)
"""id_type → normalizer with default settings."""


def normalize_values(
    id_type: str, values: Sequence[str | None]
) -> tuple[list[str | None], list[str | None]]:
    """Normalized values and rejection reasons of a column, position for position.

    Each distinct raw value is normalized once (identifier columns repeat a lot), so a million
    values cost as many normalizer calls as there are distinct ones; plain 11-digit CN mobiles
    (most of a phone column) take a shortcut that gives the same answer. Raises
    :class:`~custodia.core.errors.ValidationError` for an unknown ``id_type``.
    """
    normalizer = NORMALIZERS.get(id_type)
    if normalizer is None:
        raise ValidationError(
            "id_type", "known", f"id_type: must be one of {', '.join(NORMALIZERS)}"
        )
    shortcut = plain_cn_mobile if id_type == "phone" else None
    seen: dict[str | None, tuple[str | None, str | None]] = {}
    out_values: list[str | None] = []
    out_reasons: list[str | None] = []
    for raw in values:
        pair = seen.get(raw)
        if pair is None:
            fast = shortcut(raw) if shortcut is not None and raw is not None else None
            if fast is not None:
                pair = (fast, None)
            else:
                result = normalizer(raw)
                pair = (result.value, result.reason)
            seen[raw] = pair
        out_values.append(pair[0])
        out_reasons.append(pair[1])
    return out_values, out_reasons

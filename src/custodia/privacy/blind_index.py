"""Blind indexes: keyed HMAC-SHA256 digests of normalized identifiers, for exact matching.

Encrypted identifiers cannot be compared (each ciphertext is randomized), so next to the
ciphertext a digest is kept that is equal exactly when the normalized values are equal::

    bi1_<base64url, no padding, of HMAC-SHA256(index key of the id type, UTF-8 value)>

The HMAC key is derived from the master index secret per identifier type
(:meth:`KeyProvider.index_key`), so a phone digest and an email digest of the same text differ,
and nobody without the master keys can compute a digest to test a guess (a plain hash of a phone
number is reversed by trying all 10^11 numbers). Rotating a KEK changes no digest.

Values must arrive normalized by identity resolution's normalizers (E.164 phone, lower-cased
email, 18-character resident ID): a value in another shape would give a digest that never
matches, so it is refused with a :class:`ValidationError` naming the id type and rule.

Example::

    index = BlindIndexer(provider)
    index.digest("phone", "+8613812345678")          # 'bi1_…' (47 characters)
    index.digests("email", ["a@example.com", None])  # ['bi1_…', None]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Final

from custodia.core.errors import ValidationError
from custodia.privacy.keys import KeyProvider

__all__ = ["DIGEST_PREFIX", "BlindIndexer"]

DIGEST_PREFIX: Final = "bi1_"
_MAX_VALUE: Final = 320

_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_RESIDENT_ID = re.compile(r"[0-9]{17}[0-9X]")


def _phone_ok(value: str) -> bool:
    return _PHONE.fullmatch(value) is not None


def _email_ok(value: str) -> bool:
    return (
        value.count("@") == 1
        and value == value.casefold()
        and not any(ch.isspace() for ch in value)
    )


def _resident_id_ok(value: str) -> bool:
    return _RESIDENT_ID.fullmatch(value) is not None


def _key_ok(value: str) -> bool:
    return value == value.strip() and value == unicodedata.normalize("NFKC", value)


_SHAPES: Final[dict[str, tuple[Callable[[str], bool], str]]] = {
    "phone": (_phone_ok, "E.164: + then 7-15 digits"),
    "email": (_email_ok, "lower-cased, one @, no spaces"),
    "resident_id": (_resident_id_ok, "18 characters, 17 digits then a digit or X"),
}
"""Known identifier types and the normalized shape each must have; other types only need to be
trimmed NFKC text (member, user and anonymous ids)."""


class BlindIndexer:
    """Computes blind-index digests with the index keys of a :class:`KeyProvider`."""

    def __init__(self, provider: KeyProvider) -> None:
        self._provider = provider
        self._macs: dict[str, hmac.HMAC] = {}

    def digest(self, id_type: str, value: str) -> str:
        """The digest of one normalized value of ``id_type``."""
        _check_shape(id_type, value)
        mac = self._mac(id_type).copy()
        mac.update(value.encode("utf-8"))
        return DIGEST_PREFIX + base64.urlsafe_b64encode(mac.digest()).decode("ascii")[:-1]

    def digests(self, id_type: str, values: Sequence[str | None]) -> list[str | None]:
        """Digests of a column of normalized values; ``None`` stays ``None``."""
        return [None if value is None else self.digest(id_type, value) for value in values]

    def _mac(self, id_type: str) -> hmac.HMAC:
        mac = self._macs.get(id_type)
        if mac is None:
            key = self._provider.index_key(id_type)
            mac = self._macs[id_type] = hmac.new(key, digestmod=hashlib.sha256)
        return mac


def _check_shape(id_type: str, value: str) -> None:
    ok, rule = _SHAPES.get(id_type, (_key_ok, "trimmed NFKC text"))
    if not value or len(value) > _MAX_VALUE or not ok(value):
        raise ValidationError(
            id_type, "normalized", f"{id_type}: a blind index needs the normalized value ({rule})"
        )

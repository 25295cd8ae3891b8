"""Field encryption: AES-256-GCM under the customer's data key, bound to table, row and column.

Highly sensitive (L3) values are stored in the lakehouse as text that says how to read it::

    enc:v1:<key id>:<base64 of nonce (12 bytes) + ciphertext + tag (16 bytes)>

``v1`` is the format version, ``key id`` names the customer's data key
(:mod:`custodia.privacy.data_keys`), and the text is plain ASCII, so it fits a Delta string
column and survives CSV and JSON. The associated data of each value binds it to its table, row
key and column (and to the key id): a ciphertext copied to another row or column, or a key id
edited, fails to decrypt with :class:`DecryptionError`. Ciphertexts are randomized (a fresh
96-bit nonce each time), so equal values do not look equal; exact matching uses blind indexes
(:mod:`custodia.privacy.blind_index`). Length is not hidden: a ciphertext is 28 bytes longer
than the UTF-8 value before base64.

Errors never quote the value, the ciphertext body or key bytes; they name the table, column and
key id.

Example::

    cipher = FieldCipher(ring)
    text = cipher.encrypt("prf_1", "+8613812345678",
                          table="profiles", row_key="prf_1", column="phone", actor="loader")
    cipher.decrypt(text, table="profiles", row_key="prf_1", column="phone")   # '+8613812345678'
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

from cryptography.exceptions import InvalidTag

from custodia.core.errors import ValidationError
from custodia.privacy.data_keys import DataKey, DataKeyRing, bound_parts
from custodia.privacy.errors import (
    CiphertextFormatError,
    CryptoError,
    DecryptionError,
    KeyShreddedError,
)
from custodia.privacy.keys import NONCE_BYTES

__all__ = ["CIPHERTEXT_PREFIX", "FieldCipher", "is_ciphertext"]

FORMAT_VERSION: Final = "v1"
CIPHERTEXT_PREFIX: Final = f"enc:{FORMAT_VERSION}:"
_FIELD_LABEL: Final = "custodia/field/v1"
_TAG_BYTES: Final = 16
_TO_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")
_SHAPE = re.compile(r"enc:(v[0-9]{1,4}):(dk_[0-9a-f]{32}):([A-Za-z0-9_=-]+)")


def is_ciphertext(value: object) -> bool:
    """True for text in the Custodia field ciphertext form (any format version).

    >>> is_ciphertext("enc:v1:dk_" + "0" * 32 + ":AAAA"), is_ciphertext("+8613812345678")
    (True, False)
    """
    return isinstance(value, str) and _SHAPE.fullmatch(value) is not None


class FieldCipher:
    """Encrypt and decrypt field values with per-customer data keys from a :class:`DataKeyRing`.

    The column methods take parallel lists, fetch every data key they need with one store read,
    and pass ``None`` through untouched (a missing value stays missing).
    """

    def __init__(self, ring: DataKeyRing) -> None:
        self._ring = ring

    def encrypt(
        self, customer_id: str, value: str, *, table: str, row_key: str, column: str, actor: str
    ) -> str:
        """The ciphertext of ``value`` for the customer's row ``row_key`` of ``table.column``."""
        key = self._ring.keys_for([customer_id], actor=actor)[customer_id]
        return _seal(key, value, table, row_key, column)

    def erased_subjects(self, customer_ids: Sequence[str]) -> set[str]:
        """Customers whose data key was shredded: nothing may be encrypted for them again."""
        return self._ring.erased_among(customer_ids)

    def decrypt(self, ciphertext: str, *, table: str, row_key: str, column: str) -> str:
        """The value, if ``ciphertext`` was made for exactly this table, row and column."""
        key_id, body = _parse(ciphertext, table, column)
        return _open(self._ring.key(key_id), body, table, row_key, column)

    def encrypt_column(
        self,
        table: str,
        column: str,
        *,
        customer_ids: Sequence[str],
        row_keys: Sequence[str],
        values: Sequence[str | None],
        actor: str,
    ) -> list[str | None]:
        """Ciphertexts of a column, position for position; data keys are created as needed."""
        _check_lengths(customer_ids, row_keys, values)
        present = {c for c, v in zip(customer_ids, values, strict=True) if v is not None}
        keys = self._ring.keys_for(sorted(present), actor=actor)
        return [
            None if value is None else _seal(keys[customer], value, table, row_key, column)
            for customer, row_key, value in zip(customer_ids, row_keys, values, strict=True)
        ]

    def decrypt_column(
        self,
        table: str,
        column: str,
        *,
        row_keys: Sequence[str],
        ciphertexts: Sequence[str | None],
        shredded_as_none: bool = False,
    ) -> list[str | None]:
        """Values of a column of ciphertexts, position for position.

        With ``shredded_as_none`` a value whose key was shredded reads as ``None`` (the customer
        was erased); any other problem raises, naming the table and column.
        """
        _check_lengths(row_keys, ciphertexts)
        parsed = [None if text is None else _parse(text, table, column) for text in ciphertexts]
        keys = self._ring.lookup({item[0] for item in parsed if item is not None})
        out: list[str | None] = []
        for row_key, item in zip(row_keys, parsed, strict=True):
            if item is None:
                out.append(None)
                continue
            key = keys[item[0]]
            if shredded_as_none and isinstance(key, KeyShreddedError):
                out.append(None)
            elif isinstance(key, CryptoError):
                raise key
            else:
                out.append(_open(key, item[1], table, row_key, column))
        return out


def _seal(key: DataKey, value: str, table: str, row_key: str, column: str) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    aad = _field_aad(key.key_id, table, column, row_key)
    body = nonce + key.aead.encrypt(nonce, value.encode("utf-8"), aad)
    text = binascii.b2a_base64(body, newline=False).translate(_TO_URLSAFE).decode("ascii")
    return f"{CIPHERTEXT_PREFIX}{key.key_id}:{text}"


def _parse(ciphertext: str, table: str, column: str) -> tuple[str, bytes]:
    """(key id, nonce + ciphertext + tag) of a v1 ciphertext; a format error otherwise."""
    match = _SHAPE.fullmatch(ciphertext) if isinstance(ciphertext, str) else None
    if match is None:
        raise CiphertextFormatError(
            f"{table}.{column}: not a Custodia field ciphertext (expected enc:v1:<key id>:<data>)"
        )
    version, key_id, payload = match.groups()
    if version != FORMAT_VERSION:
        raise CiphertextFormatError(
            f"{table}.{column}: ciphertext format {version} is not supported "
            f"(this version reads {FORMAT_VERSION})"
        )
    try:
        body = binascii.a2b_base64(payload.encode("ascii").translate(_FROM_URLSAFE))
    except (binascii.Error, ValueError):
        raise CiphertextFormatError(f"{table}.{column}: ciphertext data is not base64") from None
    if len(body) < NONCE_BYTES + _TAG_BYTES:
        raise CiphertextFormatError(f"{table}.{column}: ciphertext data is too short")
    return key_id, body


def _open(key: DataKey, body: bytes, table: str, row_key: str, column: str) -> str:
    aad = _field_aad(key.key_id, table, column, row_key)
    try:
        plain = key.aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionError(
            f"{table}.{column}: ciphertext under data key {key.key_id} failed authentication "
            "(altered, or bound to another row or column)"
        ) from None
    return plain.decode("utf-8")


def _field_aad(key_id: str, table: str, column: str, row_key: str) -> bytes:
    """Associated data of one value: label, key id, table, column, then the row key."""
    return _aad_head(key_id, table, column) + bound_parts("row", row_key)


@lru_cache(maxsize=4096)
def _aad_head(key_id: str, table: str, column: str) -> bytes:
    """The part shared by every row of one customer's column, built once (a hot path)."""
    return bound_parts(_FIELD_LABEL, key_id, table, column)


def _check_lengths(*columns: Sequence[object]) -> None:
    if len({len(column) for column in columns}) > 1:
        raise ValidationError(
            "values", "same_length", "values: the parallel lists differ in length"
        )

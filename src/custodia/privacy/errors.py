"""Errors of the privacy domain.

Messages name the key id, table, column or rule involved and never carry a plaintext value, a
ciphertext body or key bytes, so they are safe to log and to return in an HTTP error body.

::

    CustodiaError
    └── PrivacyError                 a privacy control refused an operation
        ├── CryptoError              a field could not be encrypted or decrypted
        │   ├── CiphertextFormatError  not a Custodia ciphertext, or a format version not supported
        │   ├── DecryptionError      tampered, or bound to another table, row or column
        │   ├── UnknownKeyError      a data key id or master key version nobody holds
        │   └── KeyShreddedError     the customer's data key was destroyed (crypto-shredding)
        └── KeyManagementError       master keys missing or unsafe, a retirement still in use
"""

from __future__ import annotations

from custodia.core.errors import CustodiaError

__all__ = [
    "CiphertextFormatError",
    "CryptoError",
    "DecryptionError",
    "KeyManagementError",
    "KeyShreddedError",
    "PrivacyError",
    "UnknownKeyError",
]


class PrivacyError(CustodiaError):
    """A privacy control (encryption, keys, masking, consent) refused an operation."""


class CryptoError(PrivacyError):
    """A field could not be encrypted or decrypted; nothing of the value is disclosed."""


class CiphertextFormatError(CryptoError):
    """The text is not a Custodia ciphertext, or its format version is not supported."""


class DecryptionError(CryptoError):
    """Authentication failed: the ciphertext was altered or belongs to another row or column."""


class UnknownKeyError(CryptoError):
    """A data key id or a master key version that this installation does not hold."""


class KeyShreddedError(CryptoError):
    """The customer's data key was destroyed; their ciphertexts can never be read again."""


class KeyManagementError(PrivacyError):
    """Master keys are missing or unsafe, or a key operation would strand data."""

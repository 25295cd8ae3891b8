"""Passwords of console users: the policy a new password must meet, and Argon2id hashing.

Why Argon2id (``argon2-cffi``) and not the SHA-256 that API tokens use: a password is a
low-entropy secret people choose, so a stolen ``users`` table must be expensive to guess against.
Argon2id is memory-hard (each guess needs ``memory_kib`` of RAM, which is what makes GPU and ASIC
guessing costly), is the first choice of RFC 9106 and OWASP, and ``argon2-cffi`` is the maintained
binding of the reference C implementation. The defaults are RFC 9106's low-memory profile (64 MiB,
3 passes, 4 lanes, 16-byte salt); the stored PHC string carries its own parameters, so raising
them later only affects new hashes, and :meth:`PasswordHashing.needs_rehash` lets a login upgrade
an old one. (``hashlib.scrypt`` would also be memory-hard, but needs its own encoding of
parameters and salt; the PHC format and its parser come with argon2-cffi.)

Both usernames and passwords are NFKC-normalised first (NIST SP 800-63B): a full-width ``Ａ``
typed through a Chinese input method and an ASCII ``A`` are the same character. Verification is
constant-time in the password (argon2's own comparison), and :meth:`PasswordHashing.verify_absent`
spends the same time when there is no user, so timing does not tell whether a username exists.

Example::

    hashing = PasswordHashing()
    stored = hashing.hash(check_password("张伟", "四月的雨下个不停 2026"))
    assert hashing.verify(stored, "四月的雨下个不停 2026")
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from custodia.core.errors import ValidationError

__all__ = [
    "DEFAULT_KDF_MEMORY_KIB",
    "DEFAULT_KDF_TIME_COST",
    "PasswordHashing",
    "PasswordPolicy",
    "check_password",
    "normalize_username",
    "username_key",
]

DEFAULT_KDF_MEMORY_KIB: Final = 65_536
DEFAULT_KDF_TIME_COST: Final = 3
_USERNAME_MAX: Final = 64
_CONTAINED_NAME_MIN: Final = 3
"""A username this long or longer may not appear inside the password (a one- or two-character
Chinese name, ``李`` say, may: refusing every password holding it would refuse many good ones)."""
_USERNAME_PUNCTUATION: Final = frozenset("._-@")
_ABSENT_PASSWORD: Final = "no user has this password; it only spends the time of a check"  # noqa: S105


def normalize_username(username: str) -> str:
    """The username as stored and shown: NFKC, surrounding spaces removed.

    Letters and digits of any script (``张伟``, ``li.na``) and ``. _ - @`` are allowed; spaces,
    control characters and other symbols are refused (a :class:`ValidationError` naming the rule).

    >>> normalize_username(" ｌｉ.ｎａ ")
    'li.na'
    """
    name = unicodedata.normalize("NFKC", username).strip() if isinstance(username, str) else ""
    if not name:
        raise ValidationError("username", "not_blank")
    if len(name) > _USERNAME_MAX:
        raise ValidationError("username", f"max_length={_USERNAME_MAX}")
    if not all(ch.isalnum() or ch in _USERNAME_PUNCTUATION for ch in name):
        raise ValidationError(
            "username", "characters", "username: letters, digits and . _ - @ only"
        )
    return name


def username_key(username: str) -> str:
    """The form usernames are compared and looked up by: normalised and case-folded.

    >>> username_key("Li.Na") == username_key("ｌｉ.ｎａ")
    True
    """
    return normalize_username(username).casefold()


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """What a new password must be: long enough (NIST SP 800-63B asks for 8 at least and 15
    without a second factor; 12 is the default here), not too long to hash, not built on the
    username, not one character repeated, and free of control characters. No composition rules
    (upper/lower/digit): they push people to predictable patterns and do not fit Chinese text."""

    min_length: int = 12
    max_length: int = 256
    min_distinct: int = 5

    def check(self, username: str, password: str) -> str:
        """The NFKC-normalised password if it meets the policy; else a ValidationError naming
        the rule (never the password)."""
        text = unicodedata.normalize("NFKC", password) if isinstance(password, str) else ""
        if len(text) < self.min_length:
            raise ValidationError("password", f"min_length={self.min_length}")
        if len(text) > self.max_length:
            raise ValidationError("password", f"max_length={self.max_length}")
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
            raise ValidationError("password", "no_control_characters")
        if len(set(text)) < self.min_distinct:
            raise ValidationError("password", f"min_distinct_characters={self.min_distinct}")
        key = username_key(username)
        folded = text.casefold()
        if folded == key or (len(key) >= _CONTAINED_NAME_MIN and key in folded):
            raise ValidationError("password", "not_username")
        return text


def check_password(username: str, password: str, policy: PasswordPolicy | None = None) -> str:
    """:meth:`PasswordPolicy.check` with the default policy."""
    return (policy or PasswordPolicy()).check(username, password)


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id with the given cost. Lower costs are for tests only (settings refuse them in
    production)."""

    memory_kib: int = DEFAULT_KDF_MEMORY_KIB
    time_cost: int = DEFAULT_KDF_TIME_COST
    parallelism: int = 4
    _hasher: PasswordHasher = field(init=False, repr=False, compare=False)
    _absent: list[str] = field(init=False, repr=False, compare=False, default_factory=list)

    def __post_init__(self) -> None:
        hasher = PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        object.__setattr__(self, "_hasher", hasher)

    def hash(self, password: str) -> str:
        """A salted PHC string (``$argon2id$v=19$m=...``) of the normalised password."""
        return self._hasher.hash(_password_bytes(password))

    def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored``; False for a malformed stored hash too."""
        try:
            return self._hasher.verify(stored, _password_bytes(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_absent(self, password: str) -> None:
        """Spend the time of one verification when there is no stored hash to check against."""
        if not self._absent:
            self._absent.append(self.hash(_ABSENT_PASSWORD))
        self.verify(self._absent[0], password)

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters than these (upgrade it at login)."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True


def _password_bytes(password: str) -> bytes:
    """UTF-8 of the NFKC form. A lone surrogate (JSON allows ``\\ud800``) is kept as its own
    bytes rather than failing: such a password never passes the policy, so it matches nothing."""
    return unicodedata.normalize("NFKC", password).encode("utf-8", "surrogatepass")

"""Check characters of identifiers that more than one domain validates.

Why here: identity normalizes resident IDs and privacy finds them (and bank cards) in free text;
L2 domains never import each other, so the arithmetic both rely on lives in the kernel, once.

Example::

    resident_id_check_character("11010519491231002")   # 'X'
    luhn_valid("6222021234567890128")                  # True
"""

from __future__ import annotations

__all__ = ["luhn_valid", "resident_id_check_character"]

_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_CHARACTERS = "10X98765432"


def resident_id_check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a resident ID's first 17 digits (GB 11643-1999)."""
    total = sum(int(ch) * w for ch, w in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK_CHARACTERS[total % 11]


def luhn_valid(digits: str) -> bool:
    """Whether an ASCII digit string passes the Luhn (mod 10) check bank card numbers carry."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0

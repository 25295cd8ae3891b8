"""Chinese resident identity numbers (GB 11643-1999), 18-character form with its check character.

Rules, in the order they are applied:

===================================  ===========================================================
Input                                Result
===================================  ===========================================================
``None``, ``""``, blanks             empty (no value, no reason)
full-width ``１１０…`` / ``ｘ``        NFKC first, so they become ASCII ``110…`` / ``x``
other Unicode digits (``١``, ``𝟏``   ``resident_id.non_ascii_digit`` when NFKC leaves a non-ASCII
that NFKC does not map)              digit (Arabic-Indic, Devanagari, …)
anything but ``0-9``, or ``X``       ``resident_id.characters`` (also an ``X`` anywhere but the
not in the last place                18th place, spaces and dashes inside the number; the
                                     15-digit form has no check character, so no ``X``)
``x``                                upper-cased to ``X``
not 15 or 18 characters              ``resident_id.length``
first digit not 1-8                  ``resident_id.region`` (GB/T 2260 region codes start with
                                     1-6 on the mainland, 7 Taiwan, 8 Hong Kong / Macau)
birth date not a real day, before    ``resident_id.birth_date``
1900 or after today
MOD 11-2 check character wrong       ``resident_id.check_digit``
15-digit legacy form (pre-1999)      converted to 18 characters: ``19`` inserted before the
                                     two-digit birth year and the check character computed,
                                     as the issuing authorities did; then the checks above
===================================  ===========================================================

"Today" is the machine's local date unless ``today`` is given (tests pass a fixed date).

Example::

    normalize_resident_id("11010519491231002x").value    # '11010519491231002X'
    normalize_resident_id("110105491231002").value       # '11010519491231002X'
    resident_id_birth_date("11010519491231002X")         # datetime.date(1949, 12, 31)
"""

from __future__ import annotations

from datetime import date

from custodia.core.checksums import resident_id_check_character
from custodia.identity.normalize._result import EMPTY, Normalized, clean_text, rejected

__all__ = ["normalize_resident_id", "resident_id_birth_date", "resident_id_check_character"]

_ASCII_DIGITS = frozenset("0123456789")
_REGION_FIRST_DIGITS = frozenset("12345678")
_EARLIEST_YEAR = 1900


def normalize_resident_id(raw: str | None, *, today: date | None = None) -> Normalized:
    """The 18-character ID with an upper-case ``X``, or the rule it breaks (table above)."""
    text = clean_text(raw).upper()
    if not text:
        return EMPTY
    problem = _character_problem(text)
    if problem is not None:
        return rejected(problem)
    if len(text) == 15:
        if text.endswith("X"):
            return rejected("resident_id.characters")
        text = _from_legacy(text)
    elif len(text) != 18:
        return rejected("resident_id.length")
    if text[0] not in _REGION_FIRST_DIGITS:
        return rejected("resident_id.region")
    if not _birth_date_ok(text, today or date.today()):
        return rejected("resident_id.birth_date")
    if resident_id_check_character(text[:17]) != text[17]:
        return rejected("resident_id.check_digit")
    return Normalized(text)


def resident_id_birth_date(normalized_id: str) -> date:
    """Birth date held in an 18-character ID (as returned by :func:`normalize_resident_id`).

    Raises ``ValueError`` naming the rule (never the value) for anything else.
    """
    if (
        len(normalized_id) != 18
        or not normalized_id[:17].isascii()
        or not normalized_id[:17].isdigit()
    ):
        raise ValueError("resident_id: expected a normalized 18-character ID (rule: length)")
    digits = normalized_id[6:14]
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def _character_problem(text: str) -> str | None:
    if all(ch in _ASCII_DIGITS for ch in text[:-1]) and (
        text[-1] in _ASCII_DIGITS or text[-1] == "X"
    ):
        return None
    if any(ch.isdigit() and ch not in _ASCII_DIGITS for ch in text):
        return "resident_id.non_ascii_digit"
    return "resident_id.characters"


def _from_legacy(text: str) -> str:
    body = text[:6] + "19" + text[6:]
    return body + resident_id_check_character(body)


def _birth_date_ok(text: str, today: date) -> bool:
    try:
        born = resident_id_birth_date(text)
    except ValueError:
        return False
    return born.year >= _EARLIEST_YEAR and born <= today

"""The result every normalizer returns, and the text clean-up they share.

A normalizer never raises on bad input: it answers ``Normalized(value, reason)``. ``value`` is the
normalized form, or ``None`` when the input was empty or rejected; ``reason`` is ``None`` for a
valid or an empty input, else a stable code ``"<id_type>.<rule>"`` (``"phone.not_mobile"``) that
names the rule and never echoes the value, so it can be stored on the record and shown in logs.

Example::

    Normalized("+8613812345678", None).valid   # True
    Normalized(None, "phone.letters").valid    # False
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["EMPTY", "Normalized", "clean_text", "rejected"]


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalized value, or the reason it was rejected (both ``None``: the input was empty)."""

    value: str | None
    reason: str | None = None

    @property
    def valid(self) -> bool:
        """True when a normalized value came out."""
        return self.value is not None


EMPTY = Normalized(None, None)
"""Result for ``None``, ``""`` and all-whitespace input: nothing to use, nothing wrong."""


def rejected(reason: str) -> Normalized:
    """A rejection with its stable reason code."""
    return Normalized(None, reason)


def clean_text(raw: str | None) -> str:
    """NFKC (full-width to half-width, ideographic space to space) and trimmed; ``""`` for None."""
    if raw is None:
        return ""
    if not raw.isascii():
        raw = unicodedata.normalize("NFKC", raw)
    return raw.strip()

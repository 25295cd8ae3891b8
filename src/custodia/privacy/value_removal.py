"""Cutting given values out of a JSON document (a raw payload, an event's traits or context).

A customer's expiry names fields (``phone``, ``email``...), but raw landing rows, quarantined
payloads and event JSON hold the same values under whatever keys the source used. The job
knows the person's values, so it removes them by value: a string leaf equal to one of them
(ignoring case and surrounding blanks) becomes ``null``, and an occurrence as a whole token
inside a longer string (``"call 13812340001 after 6"``) is cut out. Short values (a gender
``男``) are only removed as whole leaves, never from inside text. A document that is not JSON is
treated as one string. Nothing here logs or returns a value.

Example::

    remove_values('{"tel": "13812340001", "city": "北京"}', {"13812340001"})
    # '{"tel": null, "city": "北京"}'
    remove_values('{"city": "北京"}', {"13812340001"})   # None: nothing to change
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any, Final

__all__ = ["ValueRemover", "remove_values"]

_WORD_CHARS: Final = r"0-9A-Za-z@._+\-"
_MIN_TOKEN: Final = 4
_MIN_TOKEN_CJK: Final = 2
"""Values shorter than these (ASCII / with other characters: a Chinese name has two or three)
are removed only as whole leaves: a one-character gender or a two-digit band would otherwise
cut unrelated text."""


class ValueRemover:
    """Removes a fixed set of values from documents (the pattern is compiled once)."""

    def __init__(self, values: Collection[str]) -> None:
        cleaned = {v.strip() for v in values if v and v.strip()}
        self._exact = {v.casefold() for v in cleaned}
        tokens = sorted((v for v in cleaned if _token_sized(v)), key=len, reverse=True)
        self._tokens = (
            re.compile(
                f"(?<![{_WORD_CHARS}])(?:{'|'.join(map(re.escape, tokens))})(?![{_WORD_CHARS}])",
                re.IGNORECASE,
            )
            if tokens
            else None
        )

    def __call__(self, document: str | None) -> str | None:
        """The document without the values, or ``None`` when it does not change."""
        if not document or not self._exact:
            return None
        try:
            parsed = json.loads(document)
        except ValueError:
            cleaned = self._text(document)
            return None if cleaned == document else (cleaned or "")
        changed = self._walk(parsed)
        if changed == parsed:
            return None
        return json.dumps(changed, ensure_ascii=False, separators=(",", ":"))

    def _walk(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None if str(value).casefold() in self._exact else value
        return value

    def _text(self, text: str) -> str | None:
        if text.strip().casefold() in self._exact:
            return None
        if self._tokens is None:
            return text
        return self._tokens.sub("", text)


def _token_sized(value: str) -> bool:
    return len(value) >= (_MIN_TOKEN if value.isascii() else _MIN_TOKEN_CJK)


def remove_values(document: str | None, values: Collection[str]) -> str | None:
    """:class:`ValueRemover` for one document."""
    return ValueRemover(values)(document)

"""Finding lexicon phrases in text, in Chinese and English, with one compiled pattern.

Why: rules and product lexicons hold hundreds of phrases; testing each with ``in`` is slow and
gets English wrong ("size" is not in "oversized", "dresses" is a "dress"). One alternation,
longest phrase first, finds them all in a single pass: Chinese phrases anywhere, English ones
as whole words with an optional plural.

Example::

    finder = PhraseFinder({"连衣裙": "dress", "dress": "dress", "shirt dress": "dress"})
    finder.find("Two Dresses and a 连衣裙")   # ['dress', 'dress']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from custodia.collect.text_mining.tokenize import fold_text

_ASCII_WORD = re.compile(r"[a-z0-9]")
_PLURAL = ("es", "s")


class PhraseFinder:
    """Finds phrases (keys) in folded text and returns their values, in order of appearance."""

    def __init__(self, phrases: Mapping[str, str]) -> None:
        self._values: dict[str, list[str]] = {}
        for phrase, value in phrases.items():
            folded = fold_text(phrase)
            if folded:
                self._values.setdefault(folded, []).append(value)
        self._pattern = _compile(self._values) if self._values else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def find(self, folded: str) -> list[str]:
        """Values of the phrases in ``folded`` (a :func:`fold_text` result), repeats kept."""
        if self._pattern is None:
            return []
        found: list[str] = []
        for match in self._pattern.finditer(folded):
            found.extend(self._values[self._phrase_of(match.group(0))])
        return found

    def contains_any(self, folded: str) -> bool:
        return self._pattern is not None and self._pattern.search(folded) is not None

    def _phrase_of(self, matched: str) -> str:
        if matched in self._values:
            return matched
        for suffix in _PLURAL:
            stem = matched.removesuffix(suffix)
            if stem in self._values:
                return stem
        raise LookupError("matched text is not a known phrase")  # cannot happen: see _piece


def _compile(phrases: Iterable[str]) -> re.Pattern[str]:
    """One pattern, longest phrase first. English words (ASCII letters at both ends) share one
    group with whole-word edges and an optional plural, which keeps the scan fast."""
    ordered = sorted(phrases, key=lambda p: (-len(p), p))
    words = [p for p in ordered if _ASCII_WORD.match(p[0]) and _ends_in_letter(p)]
    parts = [_piece(p) for p in ordered if p not in set(words)]
    if words:
        group = "|".join(re.escape(w) for w in words)
        parts.insert(0, rf"(?<![a-z0-9])(?:{group})(?:es|s)?(?![a-z0-9])")
    return re.compile("|".join(parts))


def _ends_in_letter(phrase: str) -> bool:
    return phrase[-1].isascii() and phrase[-1].isalpha()


def _piece(phrase: str) -> str:
    """The pattern of one phrase: whole words at ASCII edges, an optional plural after a letter."""
    body = re.escape(phrase)
    if _ASCII_WORD.match(phrase[0]):
        body = r"(?<![a-z0-9])" + body
    if _ends_in_letter(phrase):
        body += r"(?:es|s)?(?![a-z0-9])"
    elif _ASCII_WORD.match(phrase[-1]):
        body += r"(?![a-z0-9])"
    return body

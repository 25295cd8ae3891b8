"""Normalising and tokenising Chinese and English service texts.

Why: a classifier sees words, not strings. Chinese has no spaces, so jieba segments it (its
dictionary ships inside the package, so this works offline); English is split on word
characters. Both go through NFKC (full-width letters and digits become ASCII) and case folding,
and digit runs become ``0`` so that order numbers, phone numbers and day counts do not become
features that only fit one text.

Example::

    tokenizer = TextTokenizer(extra_words=("起球",))
    tokenizer.tokens("买的连衣裙M码太小了")    # ['买', '的', '连衣裙', 'm', '码', '太小', '了']
    tokenizer.tokens("The dress runs SMALL")  # ['the', 'dress', 'runs', 'small']
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"\d+")
_EN_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_EN_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[^\w\s]", re.UNICODE)


def fold_text(text: str) -> str:
    """NFKC, case folding and single spaces: the form phrases and product names are matched in."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def normalize_text(text: str) -> str:
    """:func:`fold_text` with digit runs as ``0``: the form the classifier reads."""
    return _DIGITS.sub("0", fold_text(text))


def has_cjk(text: str) -> bool:
    """Whether the text contains a Chinese character."""
    return _CJK.search(text) is not None


def detect_language(text: str) -> str:
    """``zh`` when the text has more Chinese characters than English words, else ``en``.

    Used when a row has no language (or one we do not know): an English sentence that quotes a
    Chinese product name stays English, a Chinese one with a size like "M码" stays Chinese.
    """
    cjk = len(_CJK.findall(text))
    words = len(_EN_WORD.findall(_CJK.sub(" ", text)))
    return "zh" if cjk > words else "en"


class TextTokenizer:
    """Tokens of a normalised text: jieba for text with Chinese characters, words otherwise.

    ``extra_words`` join jieba's dictionary (domain terms such as 起球 or 尺码), in a tokenizer
    of our own, so the process-wide ``jieba`` default is left untouched.
    """

    def __init__(self, extra_words: Iterable[str] = (), cache_size: int = 100_000) -> None:
        self.extra_words: tuple[str, ...] = tuple(sorted({w.strip() for w in extra_words if w}))
        self._cache: dict[str, tuple[str, ...]] = {}
        self._cache_size = cache_size

    @property
    def _jieba(self) -> Any:
        return _jieba_with_words(self.extra_words)

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` (normalised first); punctuation is kept, whitespace dropped.

        Service texts repeat a lot ("物流太慢了"), so results are memoised (up to
        ``cache_size`` distinct normalised texts, then the memo starts over).
        """
        norm = normalize_text(text)
        cached = self._cache.get(norm)
        if cached is None:
            cached = self._split(norm)
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[norm] = cached
        return list(cached)

    def _split(self, norm: str) -> tuple[str, ...]:
        if has_cjk(norm):
            return tuple(t for t in self._jieba.lcut(norm, HMM=True) if not t.isspace())
        return tuple(_EN_TOKEN.findall(norm))

    def joined(self, texts: Sequence[str]) -> list[str]:
        """Each text's tokens joined by single spaces (the input of a whitespace vectorizer)."""
        return [" ".join(self.tokens(t)) for t in texts]


@lru_cache(maxsize=4)
def _jieba_with_words(words: tuple[str, ...]) -> Any:
    """One jieba tokenizer per word list, kept for the process (loading one takes ~0.6 s)."""
    tokenizer = _new_jieba_tokenizer()
    for word in words:
        tokenizer.add_word(normalize_text(word), freq=None)
    return tokenizer


def _new_jieba_tokenizer() -> Any:
    """A fresh jieba tokenizer with its start-up logging silenced.

    jieba 0.42 imports ``pkg_resources`` and compiles regexes with escapes newer Pythons warn
    about; those warnings say nothing about our data, so they are muted for the import only.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba  # type: ignore[import-untyped]

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer

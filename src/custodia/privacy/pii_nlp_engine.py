"""The text side of personal-data detection: width folding and a model-free Presidio NLP engine.

Why: Presidio's default engine loads a spaCy model (``en_core_web_lg``) that cannot be downloaded
here, and no spaCy model segments mixed Chinese/English service texts the way context words need.
Our recognizers are patterns with validators, so the only thing Presidio needs from an NLP engine
is tokens and lemmas for its context enhancer (a number next to 手机 or "phone" is more likely a
phone). :class:`MixedScriptNlpEngine` gives exactly that with one regular expression: a run of
Chinese characters, a Latin word, a digit run or a single other character is a token, and the
lemma is the lower-cased token. Presidio matches context words as substrings of these tokens, so
身份证 is found inside the clause 我的身份证号是.

:func:`fold_width` maps full-width forms (``１３８``, ``＠``, the ideographic space) to ASCII one
character at a time, so every offset in the folded text is the same offset in the original:
spans found in the folded text redact the original exactly, CJK and emoji included.
:func:`fold_numerals` does the same for numbers spelled in Chinese numerals to get past filters
(``一三八一二三四五六七八``, ``138一二三四5678``, ``幺`` for 1).

Example::

    fold_width("手机：１３８ １２３４ ５６７８")   # '手机:138 1234 5678'
    engine = MixedScriptNlpEngine()
    engine.load()
    engine.process_text("我的手机号是13812345678", PII_LANGUAGE).lemmas
    # ['我的手机号是', '13812345678']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine
from spacy.tokens import Doc
from spacy.vocab import Vocab

__all__ = [
    "PII_LANGUAGE",
    "MixedScriptNlpEngine",
    "fold_for_matching",
    "fold_numerals",
    "fold_width",
]

PII_LANGUAGE = "xx"
"""The Presidio language code of our recognizers: one set for Chinese, English and mixed text."""

_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"  # a run of Chinese characters (a clause)
    r"|[A-Za-z]+(?:'[A-Za-z]+)?"  # an English word
    r"|[0-9]+"
    r"|[^\W\d_]+"  # other letters (accents, kana, hangul)
    r"|\S"  # anything else, one character at a time
)
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "at", "be", "for", "i", "in", "is", "it", "me", "my", "of", "on",
        "or", "our", "please", "the", "to", "was", "your", "的", "是", "我", "了",
    }
)  # fmt: skip


def fold_width(text: str) -> str:
    """``text`` with each character replaced by its NFKC form where that is one character.

    Full-width digits, letters, ``＠``, ``－`` and the ideographic space become ASCII; characters
    whose NFKC form is longer (``㈠``, ligatures) stay as they are, so lengths never change.
    """
    if text.isascii():
        return text
    return "".join(_fold_char(ch) for ch in text)


_NUMERAL_DIGITS = str.maketrans("〇零一二三四五六七八九幺", "001234567891")
_NUMERAL_RUN = re.compile(r"[〇零一二三四五六七八九幺]+")
_MIN_NUMERAL_RUN = 7
_MIN_NUMERAL_RUN_BESIDE_DIGITS = 3


def fold_numerals(text: str) -> str:
    """``text`` with numbers written in Chinese numerals turned into ASCII digits, one for one.

    Only runs that read as a number are turned: seven numerals or more, or three or more next to
    an ASCII digit (``138一二三四5678``). Words such as 一直, 第一 or 二〇二四年 stay as they are.
    """
    return _NUMERAL_RUN.sub(_numeral_run_digits, text)


def _numeral_run_digits(match: re.Match[str]) -> str:
    run, text = match.group(), match.string
    beside_digit = (match.start() > 0 and text[match.start() - 1] in _ASCII_DIGITS) or (
        match.end() < len(text) and text[match.end()] in _ASCII_DIGITS
    )
    long_enough = len(run) >= _MIN_NUMERAL_RUN or (
        beside_digit and len(run) >= _MIN_NUMERAL_RUN_BESIDE_DIGITS
    )
    return run.translate(_NUMERAL_DIGITS) if long_enough else run


def fold_for_matching(text: str) -> str:
    """:func:`fold_width` then :func:`fold_numerals`: the text recognizers match (same length)."""
    return fold_numerals(fold_width(text))


_ASCII_DIGITS = frozenset("0123456789")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


class MixedScriptNlpEngine(NlpEngine):
    """A Presidio NLP engine that tokenizes Chinese/English text with a regex and runs no model.

    It yields tokens and lemmas (for context words) and no named entities, so the analyzer relies
    on pattern recognizers only and works offline with nothing downloaded.
    """

    def __init__(self, languages: Iterable[str] = (PII_LANGUAGE,)) -> None:
        self._languages = tuple(languages)
        self._vocab: Vocab | None = None

    def load(self) -> None:
        """Nothing to load but an empty spaCy vocabulary for the token container."""
        self._vocab = Vocab()

    def is_loaded(self) -> bool:
        """Whether :meth:`load` ran."""
        return self._vocab is not None

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """Tokens, their start offsets and lower-cased lemmas of ``text``."""
        self._check_language(language)
        assert self._vocab is not None  # _check_language ensures it
        matches = list(_TOKEN.finditer(text))
        words = [m.group() for m in matches]
        return NlpArtifacts(
            entities=[],
            tokens=Doc(self._vocab, words=words, spaces=[False] * len(words)),
            tokens_indices=[m.start() for m in matches],
            lemmas=[w.lower() for w in words],
            nlp_engine=self,
            language=language,
            scores=[],
        )

    def process_batch(
        self,
        texts: Iterable[str],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        **kwargs: Any,
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        """:meth:`process_text` for each text (the engine is cheap; no batching needed)."""
        for text in texts:
            yield text, self.process_text(str(text), language)

    def is_stopword(self, word: str, language: str) -> bool:
        """A few function words that should not use up the context window."""
        return word.lower() in _STOPWORDS

    def is_punct(self, word: str, language: str) -> bool:
        """Whether every character is punctuation or a symbol (Chinese punctuation included)."""
        return bool(word) and all(unicodedata.category(ch)[0] in "PS" for ch in word)

    def get_supported_entities(self) -> list[str]:
        """None: this engine finds no entities itself."""
        return []

    def get_supported_languages(self) -> list[str]:
        """The language codes the engine was built for."""
        return list(self._languages)

    def _check_language(self, language: str) -> None:
        if self._vocab is None:
            raise ValueError("MixedScriptNlpEngine is not loaded; call load() first")
        if language not in self._languages:
            raise ValueError(f"language {language!r} is not one of {list(self._languages)}")

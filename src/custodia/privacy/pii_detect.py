"""Finding personal data in free text (service tickets, chats, reviews), Chinese and English.

Why Presidio, and how it runs offline: Presidio's analyzer gives recognizer registration,
validation, context-word scoring and a result shape the anonymizer understands; only its default
NLP engine needs a downloaded spaCy model. Here the analyzer gets
:class:`~custodia.privacy.pii_nlp_engine.MixedScriptNlpEngine` (a regex tokenizer, no model) and
a registry holding only our pattern recognizers (:mod:`custodia.privacy.pii_recognizers`), so it
loads nothing and reaches no network.

The text is width-folded (and numbers in Chinese numerals turned into digits) before analysis,
keeping its length, so offsets hold for the original; and
findings that overlap are settled once: the higher score wins, then the longer span, then the
entity earlier in :data:`~custodia.privacy.pii_entities.PII_ENTITIES` (a valid resident ID
beats a Luhn-valid 18-digit "card"). A :class:`PiiFinding` holds offsets, never the value, so
findings can be logged.

Example::

    detector = PiiDetector()
    text = "您好，我的手机号是138 1234 5678，邮箱zhang.san@example.com"
    [(f.entity, text[f.start : f.end]) for f in detector.find(text)]
    # [('CN_MOBILE', '138 1234 5678'), ('EMAIL_ADDRESS', 'zhang.san@example.com')]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from custodia.privacy.pii_entities import PII_ENTITIES
from custodia.privacy.pii_nlp_engine import (
    PII_LANGUAGE,
    MixedScriptNlpEngine,
    fold_for_matching,
)
from custodia.privacy.pii_recognizers import pii_recognizers

__all__ = ["DEFAULT_THRESHOLD", "PiiDetector", "PiiFinding"]

DEFAULT_THRESHOLD = 0.5
"""Findings scoring below this are not reported: unchecked shapes need a context word."""

_CONTEXT_WORDS_BEFORE = 5
_CONTEXT_WORDS_AFTER = 2


@dataclass(frozen=True, order=True)
class PiiFinding:
    """One piece of personal data: where it is (character offsets), what it is, how sure.

    Holds no value, so it is safe to log; ``text[finding.start : finding.end]`` is the value.
    """

    start: int
    end: int
    entity: str
    score: float
    recognizer: str


class PiiDetector:
    """Presidio's analyzer with our Chinese/English recognizers and no NLP model.

    ``entities`` limits what is looked for (default: all of ``PII_ENTITIES``); ``threshold`` is
    the lowest score reported; ``today`` bounds resident-ID birth dates (tests fix it). Building
    one takes a few milliseconds; keep it for the process and call :meth:`find` per text.
    """

    def __init__(
        self,
        entities: Collection[str] | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        today: date | None = None,
        phone_regions: Sequence[str] | None = None,
    ) -> None:
        unknown = set(entities or ()) - set(PII_ENTITIES)
        if unknown:
            raise ValueError(
                f"unknown personal-data entities {sorted(unknown)}; known: {PII_ENTITIES}"
            )
        self.entities = tuple(e for e in PII_ENTITIES if entities is None or e in entities)
        self.threshold = threshold
        self._analyzer = _offline_analyzer(today, phone_regions)

    def find(self, text: str) -> list[PiiFinding]:
        """The personal data in ``text``, in text order, without overlaps."""
        if not text or not any(ch.isnumeric() or ch in "@＠" for ch in text):
            return []
        results = self._analyzer.analyze(
            text=fold_for_matching(text),
            language=PII_LANGUAGE,
            entities=list(self.entities),
            score_threshold=self.threshold,
        )
        return sorted(_without_overlaps([_finding(r) for r in results]))

    def find_many(self, texts: Sequence[str]) -> list[list[PiiFinding]]:
        """:meth:`find` for each text (a column of tickets, say)."""
        return [self.find(text) for text in texts]


def _offline_analyzer(today: date | None, phone_regions: Sequence[str] | None) -> AnalyzerEngine:
    """An analyzer with our recognizers only and a model-free NLP engine: nothing to download."""
    registry = RecognizerRegistry(supported_languages=[PII_LANGUAGE])
    options = {} if phone_regions is None else {"phone_regions": tuple(phone_regions)}
    for recognizer in pii_recognizers(PII_LANGUAGE, today=today, **options):
        registry.add_recognizer(recognizer)
    engine = MixedScriptNlpEngine()
    engine.load()
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=engine,
        supported_languages=[PII_LANGUAGE],
        context_aware_enhancer=LemmaContextAwareEnhancer(
            context_prefix_count=_CONTEXT_WORDS_BEFORE,
            context_suffix_count=_CONTEXT_WORDS_AFTER,
        ),
    )


def _finding(result: RecognizerResult) -> PiiFinding:
    recognizer = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
    return PiiFinding(
        result.start, result.end, result.entity_type, round(result.score, 4), recognizer
    )


def _without_overlaps(findings: list[PiiFinding]) -> list[PiiFinding]:
    """Keep the best of each group of overlapping findings (score, then length, then entity)."""
    rank = {entity: i for i, entity in enumerate(PII_ENTITIES)}
    best_first = sorted(findings, key=lambda f: (-f.score, f.start - f.end, rank[f.entity]))
    kept: list[PiiFinding] = []
    for finding in best_first:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return kept

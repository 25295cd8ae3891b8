"""Scoring predictions against true labels: macro-F1 and per-class figures per language.

Why: one accuracy figure hides the rare complaints (a model that never says "wrong item" can
still be 98% accurate). Macro-F1 weighs every class equally; it is computed over the classes
present in the truth or in the predictions of that language, so a class predicted but never
true counts as a failure rather than disappearing.

Example::

    scores = score_labels(truth, predicted, languages)
    scores["zh"].macro_f1, scores["all"].classes[0].label
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

ALL_LANGUAGES = "all"


class ClassScore(BaseModel):
    """Precision, recall and F1 of one label."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int = Field(description="Texts whose true label this is.")
    predicted: int = Field(description="Texts predicted with this label.")


class LabelScores(BaseModel):
    """How well one target was predicted on one set of texts."""

    texts: int
    accuracy: float
    macro_f1: float
    classes: list[ClassScore]


def score_labels(
    truth: Sequence[str], predicted: Sequence[str], languages: Sequence[str]
) -> dict[str, LabelScores]:
    """Scores for every language in ``languages`` and for all texts together (key ``all``)."""
    if not len(truth) == len(predicted) == len(languages):
        raise ValueError("truth, predicted and languages must have the same length")
    result = {ALL_LANGUAGES: _scores(truth, predicted)}
    for language in sorted(set(languages)):
        rows = [i for i, lang in enumerate(languages) if lang == language]
        result[language] = _scores([truth[i] for i in rows], [predicted[i] for i in rows])
    return result


def _scores(truth: Sequence[str], predicted: Sequence[str]) -> LabelScores:
    from sklearn.metrics import precision_recall_fscore_support  # type: ignore[import-untyped]

    if not truth:
        return LabelScores(texts=0, accuracy=0.0, macro_f1=0.0, classes=[])
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0.0
    )
    classes = [
        ClassScore(
            label=label,
            precision=round(float(precision[i]), 4),
            recall=round(float(recall[i]), 4),
            f1=round(float(f1[i]), 4),
            support=int(support[i]),
            predicted=sum(1 for p in predicted if p == label),
        )
        for i, label in enumerate(labels)
    ]
    hits = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    return LabelScores(
        texts=len(truth),
        accuracy=round(hits / len(truth), 4),
        macro_f1=round(float(f1.mean()), 4),
        classes=classes,
    )

"""The classifier: TF-IDF over words and characters, logistic regression per target.

Why this shape: service texts are short and formulaic, so word uni/bigrams (jieba tokens for
Chinese, words for English) carry the topic, and character 1-3-grams catch what segmentation
splits differently (起球 / 起 球) and English inflections. One feature space serves both
languages (their features hardly overlap) and both targets: the complaint type and the
sentiment each get their own logistic regression, with balanced class weights because
complaints such as "wrong item" are rare. Probabilities feed the rules (``if_unsure``).

The estimators hold only scikit-learn and numpy objects (texts are tokenised before they reach
the vectorizers), so the model can be saved with skops and loaded without trusting any code.

Example::

    model = TextModel.fit(texts, complaints, sentiments, tokenizer_words=("起球",), seed=7)
    model.predict(["快递太慢了，等了五天"])[0].complaint_type   # 'logistics_delay'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from custodia.collect.text_mining.rules import ModelAnswer
from custodia.collect.text_mining.tokenize import TextTokenizer, normalize_text
from custodia.core.errors import ValidationError

MODEL_FORMAT = 1
_C = 10.0  # weak regularisation: the corpus is clean and the vocabulary small


@dataclass
class TextModel:
    """Fitted feature union and the two classifiers, with the tokenizer they were trained with."""

    tokenizer: TextTokenizer
    features: Any  # sklearn ColumnTransformer
    complaint: Any  # sklearn LogisticRegression
    sentiment: Any  # sklearn LogisticRegression

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        complaint_types: Sequence[str],
        sentiments: Sequence[str],
        *,
        tokenizer_words: Sequence[str] = (),
        seed: int = 0,
    ) -> TextModel:
        """Train both classifiers on labelled texts (each target needs two labels or more).

        An empty sentiment means "not labelled": the text trains the complaint type only.
        """
        _check_training_labels(texts, complaint_types, "complaint_type")
        _check_training_labels(texts, sentiments, "sentiment")
        tokenizer = TextTokenizer(tokenizer_words)
        features = _feature_union()
        matrix = features.fit_transform(_feature_input(tokenizer, texts))
        complaint = _classifier(seed).fit(matrix, list(complaint_types))
        rows = [i for i, label in enumerate(sentiments) if label]
        sentiment = _classifier(seed).fit(matrix[rows], [sentiments[i] for i in rows])
        return cls(tokenizer, features, complaint, sentiment)

    @property
    def complaint_labels(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.complaint.classes_)

    @property
    def sentiment_labels(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.sentiment.classes_)

    def predict(self, texts: Sequence[str]) -> list[ModelAnswer]:
        """The most probable complaint type and sentiment of each text, with probabilities."""
        if not texts:
            return []
        matrix = self.features.transform(_feature_input(self.tokenizer, texts))
        c_prob = self.complaint.predict_proba(matrix)
        s_prob = self.sentiment.predict_proba(matrix)
        c_best, s_best = c_prob.argmax(axis=1), s_prob.argmax(axis=1)
        c_labels, s_labels = self.complaint_labels, self.sentiment_labels
        return [
            ModelAnswer(
                complaint_type=c_labels[c_best[i]],
                complaint_probability=float(c_prob[i, c_best[i]]),
                sentiment=s_labels[s_best[i]],
                sentiment_probability=float(s_prob[i, s_best[i]]),
            )
            for i in range(len(texts))
        ]

    def estimators(self) -> dict[str, Any]:
        """The fitted objects to persist (see :mod:`custodia.collect.text_mining.persistence`)."""
        return {
            "format": MODEL_FORMAT,
            "features": self.features,
            "complaint": self.complaint,
            "sentiment": self.sentiment,
        }


def _feature_input(tokenizer: TextTokenizer, texts: Sequence[str]) -> Any:
    """Two columns per text: its tokens joined by spaces, and its normalised characters."""
    rows = [(" ".join(tokenizer.tokens(t)), normalize_text(t)) for t in texts]
    return np.array(rows, dtype=object).reshape(len(rows), 2)


def _feature_union() -> Any:
    from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    words = TfidfVectorizer(  # tokens are pre-split: whitespace separates them
        token_pattern=r"\S+",  # noqa: S106 lowercase=False, ngram_range=(1, 2), sublinear_tf=True,
        dtype=np.float32,
    )  # fmt: skip
    chars = TfidfVectorizer(
        analyzer="char", lowercase=False, ngram_range=(1, 3), min_df=2, sublinear_tf=True,
        dtype=np.float32,
    )  # fmt: skip
    return ColumnTransformer([("words", words, 0), ("chars", chars, 1)])


def _classifier(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    return LogisticRegression(C=_C, class_weight="balanced", max_iter=3000, random_state=seed)


def _check_training_labels(texts: Sequence[str], labels: Sequence[str], field: str) -> None:
    if len(texts) != len(labels):
        raise ValidationError(field, "one_label_per_text", f"{field}: one label per text")
    if len(set(labels) - {""}) < 2:
        raise ValidationError(
            field, "two_classes", f"{field}: the training corpus needs at least two labels"
        )

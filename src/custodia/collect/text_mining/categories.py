"""The label sets text mining predicts, and how labelled corpora map onto them.

Why: the complaint categories are a public contract (they land in ``interactions.complaint_type``
and analytics group by them), while labelled corpora come with their own names. The demo
generator, for instance, labels texts with fine-grained topics (``size_issue``, ``praise``, ...);
:func:`complaint_for_label` turns any such name into one of :data:`COMPLAINT_TYPES`.

``other`` holds every text that is none of the seven specific complaints: questions, praise and
complaints about anything else. Combine it with ``sentiment = 'negative'`` to find the latter.

Example::

    complaint_for_label("size_issue")   # 'size_fit'
    complaint_for_label("praise")       # 'other'
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from custodia.core.errors import ValidationError

ComplaintType = Literal[
    "logistics_delay",
    "quality",
    "size_fit",
    "wrong_item",
    "refund",
    "service_attitude",
    "price",
    "other",
]
Sentiment = Literal["negative", "neutral", "positive"]

COMPLAINT_TYPES: Final[tuple[str, ...]] = get_args(ComplaintType)
SENTIMENTS: Final[tuple[str, ...]] = get_args(Sentiment)
OTHER: Final = "other"

# Topic names of custodia.demo.text_corpus (the demo generator's ground truth), and common
# synonyms a labelled export may use. Names already in COMPLAINT_TYPES map to themselves.
LABEL_ALIASES: Final[dict[str, str]] = {
    "size_issue": "size_fit",
    "size": "size_fit",
    "fit": "size_fit",
    "quality_defect": "quality",
    "defect": "quality",
    "rude_service": "service_attitude",
    "service": "service_attitude",
    "delivery_delay": "logistics_delay",
    "late_delivery": "logistics_delay",
    "logistics": "logistics_delay",
    "wrong_product": "wrong_item",
    "pricing": "price",
    "inquiry": OTHER,
    "praise": OTHER,
    "none": OTHER,
    "": OTHER,
}


def complaint_for_label(label: str) -> str:
    """The complaint category for a corpus label; unknown labels are a ValidationError."""
    name = label.strip().lower()
    if name in COMPLAINT_TYPES:
        return name
    if name in LABEL_ALIASES:
        return LABEL_ALIASES[name]
    raise ValidationError(
        "complaint_type", "known_label", f"complaint_type: unknown label (known: {COMPLAINT_TYPES})"
    )


def sentiment_for_label(label: str) -> str:
    """The sentiment for a corpus label (``negative``, ``neutral`` or ``positive``)."""
    name = label.strip().lower()
    if name not in SENTIMENTS:
        raise ValidationError("sentiment", "known_label", f"sentiment: one of {SENTIMENTS}")
    return name

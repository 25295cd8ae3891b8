"""Redacting personal data found in free text: a display mask or a type tag, per entity.

Why through Presidio's anonymizer: it replaces many spans in one pass from the end of the text
backwards, so offsets found by :class:`~custodia.privacy.pii_detect.PiiDetector` stay right however
long the replacements are, in Chinese text as in English (Python offsets count characters).

Actions (:class:`RedactionPolicy`, set per entity with a default):

- ``mask``: the product's display mask of the value (:func:`custodia.core.masking.mask_identifier`):
  ``138****5678``, ``110105********002X``, ``z***@example.com``, ``***************0128``;
  separators and a ``+86`` prefix are dropped, so a mask never keeps more than its format shows.
- ``tag``: the entity type in angle brackets, ``<CN_MOBILE>``; nothing of the value is left.

Example::

    detector = PiiDetector()
    text = "手机13812345678，身份证11010519491231002X"
    policy = RedactionPolicy(default="tag", entities={"CN_MOBILE": "mask"})
    redact_text(text, detector.find(text), policy).text
    # '手机138****5678，身份证<CN_RESIDENT_ID>'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult
from pydantic import BaseModel, ConfigDict, Field, field_validator

from custodia.core.masking import mask_identifier
from custodia.privacy.pii_detect import PiiFinding
from custodia.privacy.pii_entities import (
    BANK_CARD,
    CN_MOBILE,
    CN_RESIDENT_ID,
    EMAIL_ADDRESS,
    PHONE_NUMBER,
    known_entities,
)
from custodia.privacy.pii_nlp_engine import fold_for_matching

__all__ = ["RedactedText", "RedactionAction", "RedactionPolicy", "mask_value", "redact_text"]

RedactionAction = Literal["mask", "tag"]

_MASK_KIND = {
    CN_MOBILE: "phone",
    PHONE_NUMBER: "phone",
    CN_RESIDENT_ID: "resident_id",
    EMAIL_ADDRESS: "email",
    BANK_CARD: "bank_card",
}
_NUMBER_NOISE = re.compile(r"[\s\-()（）]|转|分机|ext\.?", re.IGNORECASE)


class RedactionPolicy(BaseModel):
    """What replaces each entity type: ``mask`` or ``tag`` (the default for unlisted types).

    Refuses entity names the detector does not know, so a typo in a policy file cannot leave a
    type unredacted by accident.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: RedactionAction = "tag"
    entities: dict[str, RedactionAction] = Field(default_factory=dict)

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, value: dict[str, RedactionAction]) -> dict[str, RedactionAction]:
        return known_entities(value)

    def action_for(self, entity: str) -> RedactionAction:
        """The action for one entity type."""
        return self.entities.get(entity, self.default)


@dataclass(frozen=True)
class RedactedText:
    """The redacted text and what was replaced (offsets refer to the original text)."""

    text: str
    findings: tuple[PiiFinding, ...]


def mask_value(entity: str, value: str) -> str:
    """The display mask of one found value: width-folded, separators and ``+86`` dropped."""
    compact = _NUMBER_NOISE.sub("", fold_for_matching(value))
    if entity == CN_MOBILE:
        compact = compact.removeprefix("+").removeprefix("0086").removeprefix("86")
    return mask_identifier(_MASK_KIND.get(entity, entity.lower()), compact)


def redact_text(
    text: str, findings: Sequence[PiiFinding], policy: RedactionPolicy | None = None
) -> RedactedText:
    """``text`` with every finding replaced as ``policy`` says (default: type tags)."""
    if not findings:
        return RedactedText(text, ())
    chosen = policy or RedactionPolicy()
    entities = {f.entity for f in findings}
    result = AnonymizerEngine().anonymize(  # type: ignore[no-untyped-call]
        text=text,
        analyzer_results=[RecognizerResult(f.entity, f.start, f.end, f.score) for f in findings],
        operators={e: _operator(e, chosen.action_for(e)) for e in entities},
    )
    return RedactedText(result.text, tuple(sorted(findings)))


def _operator(entity: str, action: RedactionAction) -> OperatorConfig:
    if action == "tag":
        return OperatorConfig("replace", {"new_value": f"<{entity}>"})
    masker: Callable[[str], str] = lambda value: mask_value(entity, value)  # noqa: E731
    return OperatorConfig("custom", {"lambda": masker})

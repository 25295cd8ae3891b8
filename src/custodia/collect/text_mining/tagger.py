"""Turning service texts into structured tags: complaint type, sentiment, products, rule tags.

Why: the model, the rules and the product lexicons each know part of the answer; the tagger asks
them in a fixed order (model, then rules, then products) and writes one record per text, with
the reasons visible in the tags (``rule:price_complaint``, ``needs_review``).

Tags are strings with a namespace: ``complaint:<type>``, ``sentiment:<s>``, ``product:<name>``,
``product_type:<key>``, ``rule:<name>``, plus what rules add (``escalation_risk``) and
``needs_review`` when the complaint type is a low-probability model guess.

Example::

    tagger = TextTagger(model, config, catalog_names=["真丝法式连衣裙 黑色"])
    [tags] = tagger.tag([TextInput("买的真丝法式连衣裙M码太小了", "zh")])
    tags.complaint_type, tags.sentiment, tags.tags
    # ('size_fit', 'negative', ['complaint:size_fit', 'sentiment:negative',
    #  'product:真丝法式连衣裙', 'product_type:dress'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from custodia.collect.text_mining.config import TextMiningConfig
from custodia.collect.text_mining.model import TextModel
from custodia.collect.text_mining.products import ProductFinder
from custodia.collect.text_mining.rules import Decision, ModelAnswer, RuleBook
from custodia.collect.text_mining.tokenize import detect_language, fold_text

LANGUAGES = ("zh", "en")
NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class TextInput:
    """One text to tag, with its language when the source says it (zh or en)."""

    text: str | None
    language: str | None = None


class TextTags(BaseModel):
    """What text mining derived from one text."""

    language: str | None = Field(description="zh or en: given, or detected from the text.")
    complaint_type: str | None = Field(description="None only for an empty text.")
    sentiment: str | None
    tags: list[str]
    complaint_probability: float | None = Field(description="The model's, before rules.")
    rules: list[str] = Field(description="Rules that fired, in order.")


class TextTagger:
    """Model + rules + product lexicons, built once and applied to many texts."""

    def __init__(
        self, model: TextModel, config: TextMiningConfig, catalog_names: Iterable[str] = ()
    ) -> None:
        self.model = model
        self.config = config
        self._rules = RuleBook(config.active_rules(), unsure_below=config.unsure_below)
        self._products = ProductFinder(config, catalog_names)

    def tag(self, items: Sequence[TextInput]) -> list[TextTags]:
        """Tags for each input, in order; empty or missing texts get no labels and no tags."""
        present = [i for i, item in enumerate(items) if item.text and item.text.strip()]
        answers = self.model.predict([items[i].text or "" for i in present])
        by_index = dict(zip(present, answers, strict=True))
        return [
            self._tags(item, by_index[i]) if i in by_index else _empty(item)
            for i, item in enumerate(items)
        ]

    def _tags(self, item: TextInput, answer: ModelAnswer) -> TextTags:
        text = item.text or ""
        folded = fold_text(text)
        decision = self._rules.decide(folded, answer)
        return TextTags(
            language=_language(item),
            complaint_type=decision.complaint_type,
            sentiment=decision.sentiment,
            tags=self._tag_list(folded, decision, answer),
            complaint_probability=round(answer.complaint_probability, 4),
            rules=list(decision.fired),
        )

    def _tag_list(self, folded: str, decision: Decision, answer: ModelAnswer) -> list[str]:
        tags = [f"complaint:{decision.complaint_type}", f"sentiment:{decision.sentiment}"]
        tags += self._products.tags(folded)
        tags += [f"rule:{name}" for name in decision.fired]
        tags += decision.tags
        unsure = answer.complaint_probability < self.config.review_below
        if unsure and not decision.complaint_by_rule:
            tags.append(NEEDS_REVIEW)
        return list(dict.fromkeys(tags))


def _language(item: TextInput) -> str | None:
    given = (item.language or "").strip().lower()
    if given in LANGUAGES:
        return given
    return detect_language(item.text) if item.text else None


def _empty(item: TextInput) -> TextTags:
    return TextTags(
        language=_language(item),
        complaint_type=None,
        sentiment=None,
        tags=[],
        complaint_probability=None,
        rules=[],
    )

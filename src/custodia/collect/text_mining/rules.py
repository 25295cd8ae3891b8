"""Lexicon rules applied after the classifier: fill its gaps, or overrule it where told to.

Why: a model trained on one corpus never predicts a category that corpus lacks (price, in the
demo), and a brand may know better than the model for some phrases. Rules are data
(:class:`~custodia.collect.text_mining.config.TextRule`), checked in order; a field set by an
earlier rule is not changed by a later one, so the first matching rule decides.

Example::

    book = RuleBook(config.active_rules(), unsure_below=0.5)
    decision = book.decide(fold_text("这件太贵了"), ModelAnswer("other", 0.9, "neutral", 0.6))
    decision.complaint_type, decision.fired   # ('price', ('price_complaint',))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from custodia.collect.text_mining.categories import OTHER
from custodia.collect.text_mining.config import TextRule
from custodia.collect.text_mining.phrases import PhraseFinder


@dataclass(frozen=True)
class ModelAnswer:
    """What the classifier said about one text, with the probability of each answer."""

    complaint_type: str
    complaint_probability: float
    sentiment: str
    sentiment_probability: float


@dataclass(frozen=True)
class Decision:
    """Labels after the rules, which rules fired and the tags they add."""

    complaint_type: str
    sentiment: str
    complaint_by_rule: bool
    sentiment_by_rule: bool
    fired: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class _CompiledRule:
    rule: TextRule
    phrases: PhraseFinder
    unless: PhraseFinder

    def matches(self, folded: str) -> bool:
        return self.phrases.contains_any(folded) and not self.unless.contains_any(folded)


class RuleBook:
    """The active rules, compiled once; :meth:`decide` runs them over one text."""

    def __init__(self, rules: Sequence[TextRule], *, unsure_below: float) -> None:
        self._rules = tuple(
            _CompiledRule(
                r,
                PhraseFinder(dict.fromkeys(r.phrases, r.name)),
                PhraseFinder(dict.fromkeys(r.unless, r.name)),
            )
            for r in rules
            if r.enabled
        )
        self._unsure_below = unsure_below

    def __len__(self) -> int:
        return len(self._rules)

    def decide(self, folded: str, answer: ModelAnswer) -> Decision:
        """Apply every matching rule, in order, to the model's answer for ``folded`` text."""
        complaint: str | None = None
        sentiment: str | None = None
        fired: list[str] = []
        tags: list[str] = []
        for compiled in self._rules:
            rule = compiled.rule
            if not compiled.matches(folded):
                continue
            new_complaint = self._complaint_change(rule, answer) if complaint is None else None
            new_sentiment = self._sentiment_change(rule, answer) if sentiment is None else None
            changes = new_complaint is not None or new_sentiment is not None
            if not changes and (rule.complaint_type or rule.sentiment):
                continue  # a labelling rule whose condition does not hold does not fire
            complaint = complaint or new_complaint
            sentiment = sentiment or new_sentiment
            fired.append(rule.name)
            tags.extend(rule.tags)
        return Decision(
            complaint_type=complaint or answer.complaint_type,
            sentiment=sentiment or answer.sentiment,
            complaint_by_rule=complaint is not None,
            sentiment_by_rule=sentiment is not None,
            fired=tuple(fired),
            tags=tuple(dict.fromkeys(tags)),
        )

    def _complaint_change(self, rule: TextRule, answer: ModelAnswer) -> str | None:
        if rule.complaint_type is None:
            return None
        if not self._applies(rule, answer.complaint_probability, answer):
            return None
        return rule.complaint_type

    def _sentiment_change(self, rule: TextRule, answer: ModelAnswer) -> str | None:
        if rule.sentiment is None or not self._applies(rule, answer.sentiment_probability, answer):
            return None
        return rule.sentiment

    def _applies(self, rule: TextRule, probability: float, answer: ModelAnswer) -> bool:
        if rule.when == "override":
            return True
        other = answer.complaint_type == OTHER
        unsure = probability < self._unsure_below
        if rule.when == "if_other":
            return other
        if rule.when == "if_unsure":
            return unsure
        return other or unsure  # if_other_or_unsure

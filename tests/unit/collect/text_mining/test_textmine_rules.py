"""Lexicon rules after the model: when they may change labels, and in what order."""

from __future__ import annotations

import pytest

from custodia.collect.text_mining import ModelAnswer, RuleBook, TextRule, fold_text
from custodia.collect.text_mining.phrases import PhraseFinder

CONFIDENT_SIZE = ModelAnswer("size_fit", 0.95, "negative", 0.95)
UNSURE_SIZE = ModelAnswer("size_fit", 0.3, "negative", 0.3)
CONFIDENT_OTHER = ModelAnswer("other", 0.9, "neutral", 0.9)


def book(*rules: TextRule) -> RuleBook:
    return RuleBook(rules, unsure_below=0.5)


def rule(name: str, when: str, **fields: object) -> TextRule:
    return TextRule.model_validate({"name": name, "when": when, **fields})


@pytest.mark.parametrize(
    ("when", "answer", "expected"),
    [
        ("override", CONFIDENT_SIZE, "price"),
        ("if_other", CONFIDENT_SIZE, "size_fit"),
        ("if_other", CONFIDENT_OTHER, "price"),
        ("if_unsure", CONFIDENT_SIZE, "size_fit"),
        ("if_unsure", UNSURE_SIZE, "price"),
        ("if_other_or_unsure", CONFIDENT_OTHER, "price"),
        ("if_other_or_unsure", UNSURE_SIZE, "price"),
        ("if_other_or_unsure", CONFIDENT_SIZE, "size_fit"),
    ],
)
def test_when_decides_whether_a_rule_may_change_the_model(
    when: str, answer: ModelAnswer, expected: str
) -> None:
    decision = book(rule("price", when, phrases=["太贵"], complaint_type="price")).decide(
        fold_text("这件太贵了"), answer
    )
    assert decision.complaint_type == expected
    assert decision.complaint_by_rule is (expected == "price")
    assert decision.fired == (("price",) if expected == "price" else ())


def test_unless_phrases_stop_a_rule() -> None:
    rules = book(rule("price", "override", phrases=["贵"], unless=["不贵"], complaint_type="price"))
    assert rules.decide(fold_text("价格不贵，质量很好"), CONFIDENT_OTHER).complaint_type == "other"
    assert rules.decide(fold_text("有点贵"), CONFIDENT_OTHER).complaint_type == "price"


def test_the_first_matching_rule_decides_each_field() -> None:
    rules = book(
        rule("first", "override", phrases=["refund"], complaint_type="refund"),
        rule("second", "override", phrases=["late"], complaint_type="logistics_delay",
             sentiment="negative"),
    )  # fmt: skip
    decision = rules.decide(fold_text("Late parcel, I want a refund"), CONFIDENT_OTHER)
    assert decision.complaint_type == "refund"
    assert decision.sentiment == "negative"  # the second rule still sets what the first did not
    assert decision.fired == ("first", "second")


def test_tag_only_rules_always_fire_and_add_their_tags() -> None:
    rules = book(rule("escalation", "override", phrases=["12315"], tags=["escalation_risk"]))
    decision = rules.decide(fold_text("再不处理我就打12315"), CONFIDENT_SIZE)
    assert decision.complaint_type == "size_fit"
    assert decision.tags == ("escalation_risk",)
    assert rules.decide(fold_text("打123156"), CONFIDENT_SIZE).fired == ()


def test_sentiment_rules_use_the_sentiment_probability() -> None:
    rules = book(rule("praise", "if_unsure", phrases=["love it"], sentiment="positive"))
    unsure_sentiment = ModelAnswer("other", 0.9, "neutral", 0.4)
    assert rules.decide(fold_text("Love it!"), unsure_sentiment).sentiment == "positive"
    assert rules.decide(fold_text("Love it!"), CONFIDENT_OTHER).sentiment == "neutral"


def test_a_rule_must_have_phrases_and_an_effect() -> None:
    with pytest.raises(ValueError, match="phrase"):
        TextRule(name="empty", tags=("x",))
    with pytest.raises(ValueError, match="sets nothing"):
        TextRule(name="idle", phrases=("x",))
    assert not TextRule(name="off", enabled=False).phrases


def test_english_phrases_match_whole_words_and_plurals() -> None:
    finder = PhraseFinder({"dress": "dress", "shirt dress": "shirt_dress", "size": "size"})
    assert finder.find(fold_text("Two DRESSES and a shirt dress")) == ["dress", "shirt_dress"]
    assert finder.find(fold_text("an oversized top")) == []
    assert finder.find(fold_text("sizes run small")) == ["size"]


def test_chinese_phrases_match_anywhere_longest_first() -> None:
    finder = PhraseFinder({"衬衫": "shirt", "衬衫裙": "dress"})
    assert finder.find(fold_text("这条衬衫裙和那件衬衫")) == ["dress", "shirt"]

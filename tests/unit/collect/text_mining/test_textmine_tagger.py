"""The tagger: model, rules and product lexicons together, in Chinese and English."""

from __future__ import annotations

from custodia.collect.text_mining import (
    TextInput,
    TextModel,
    TextRule,
    TextTagger,
    default_config,
)


def test_chinese_ticket_gets_complaint_sentiment_and_products(small_model: TextModel) -> None:
    tagger = TextTagger(small_model, default_config(), catalog_names=["真丝法式连衣裙 黑色"])
    [tags] = tagger.tag([TextInput("您好，买的真丝法式连衣裙M码穿着太小了，能换大一码吗", "zh")])
    assert tags.complaint_type == "size_fit"
    assert tags.sentiment == "negative"
    assert tags.language == "zh"
    assert tags.tags[:2] == ["complaint:size_fit", "sentiment:negative"]
    assert "product:真丝法式连衣裙" in tags.tags
    assert "product_type:dress" in tags.tags


def test_english_review_and_detected_language(small_model: TextModel) -> None:
    tagger = TextTagger(small_model, default_config())
    [tags] = tagger.tag([TextInput("Love it, the dress is beautiful and fits perfectly", None)])
    assert tags.language == "en"
    assert tags.sentiment == "positive"
    assert "product_type:dress" in tags.tags


def test_price_complaints_are_found_though_the_corpus_has_none(small_model: TextModel) -> None:
    """The model learned "price" from the lexicon phrases; the rule backs it up when unsure."""
    tagger = TextTagger(small_model, default_config())
    [zh, en] = tagger.tag(
        [TextInput("同款别家便宜一半，太贵了", "zh"), TextInput("Totally overpriced", "en")]
    )
    assert zh.complaint_type == en.complaint_type == "price"
    assert zh.sentiment == en.sentiment == "negative"


def test_an_override_rule_overrules_a_confident_model(small_model: TextModel) -> None:
    text = "下单十天了还没收到货，物流一直不更新"
    plain = TextTagger(small_model, default_config()).tag([TextInput(text, "zh")])[0]
    assert plain.complaint_type == "logistics_delay"
    override = TextRule(
        name="all_about_refunds", when="override", phrases=("收到货",),
        complaint_type="refund", tags=("vip",),
    )  # fmt: skip
    config = default_config().model_copy(update={"rules": (override,)})
    [tags] = TextTagger(small_model, config).tag([TextInput(text, "zh")])
    assert tags.complaint_type == "refund"
    assert tags.rules == ["all_about_refunds"]
    assert {"rule:all_about_refunds", "vip"} <= set(tags.tags)


def test_escalation_threats_are_tagged_without_changing_labels(small_model: TextModel) -> None:
    tagger = TextTagger(small_model, default_config())
    [tags] = tagger.tag([TextInput("快递太慢了，再不处理我就打12315投诉", "zh")])
    assert tags.complaint_type == "logistics_delay"
    assert "escalation_risk" in tags.tags


def test_empty_texts_get_no_labels(small_model: TextModel) -> None:
    tagger = TextTagger(small_model, default_config())
    empty, blank, real = tagger.tag(
        [TextInput(None, "zh"), TextInput("   ", None), TextInput("Where is my parcel?", "en")]
    )
    assert empty.complaint_type is None and empty.tags == [] and empty.language == "zh"
    assert blank.complaint_type is None and blank.tags == []
    assert real.complaint_type is not None


def test_unsure_model_guesses_are_flagged_for_review(small_model: TextModel) -> None:
    strict = default_config().model_copy(update={"review_below": 1.01, "rules": ()})
    [tags] = TextTagger(small_model, strict).tag([TextInput("嗯", "zh")])
    assert "needs_review" in tags.tags

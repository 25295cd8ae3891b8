"""Tokenising and normalising Chinese and English service texts."""

from __future__ import annotations

from custodia.collect.text_mining import TextTokenizer, detect_language, fold_text, normalize_text


def test_chinese_is_segmented_into_words() -> None:
    tokens = TextTokenizer().tokens("买的连衣裙太小了，能换大一码吗")
    assert "连衣裙" in tokens
    assert "".join(tokens).replace(",", "，") == "买的连衣裙太小了，能换大一码吗"


def test_extra_words_are_kept_whole() -> None:
    plain = TextTokenizer().tokens("洗了一次就起毛球了")
    assert "起毛球" not in plain
    assert "起毛球" in TextTokenizer(extra_words=("起毛球",)).tokens("洗了一次就起毛球了")


def test_english_is_split_into_lowercase_words() -> None:
    tokens = TextTokenizer().tokens("The Dress doesn't FIT, sadly!")
    assert tokens == ["the", "dress", "doesn't", "fit", ",", "sadly", "!"]


def test_full_width_characters_and_digits_are_normalised() -> None:
    assert normalize_text("ＯＲＤＥＲ　１２３４５ arrived") == "order 0 arrived"
    assert fold_text("ＳＩＺＥ  Ｍ") == "size m"
    assert TextTokenizer().tokens("等了１５天") == TextTokenizer().tokens("等了3天")


def test_language_is_detected_by_script() -> None:
    assert detect_language("快递太慢了") == "zh"
    assert detect_language("买的连衣裙M码太小") == "zh"
    assert detect_language("I bought the 真丝连衣裙 and it is far too small") == "en"
    assert detect_language("Where is my parcel?") == "en"

"""Reading labelled corpora: a demo data folder and a labelled CSV."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from custodia.collect.text_mining import (
    COMPLAINT_TYPES,
    LABEL_ALIASES,
    LabelledText,
    complaint_for_label,
    describe_corpus,
    read_corpus,
)
from custodia.core.errors import ValidationError
from custodia.demo.text_corpus import COMPLAINT_TYPES as GENERATOR_TOPICS


def test_every_generator_topic_maps_to_a_complaint_category() -> None:
    for topic in GENERATOR_TOPICS:
        assert complaint_for_label(topic) in COMPLAINT_TYPES
    assert complaint_for_label("size_issue") == "size_fit"
    assert complaint_for_label("rude_service") == "service_attitude"
    assert complaint_for_label("praise") == complaint_for_label("inquiry") == "other"
    assert set(LABEL_ALIASES.values()) <= set(COMPLAINT_TYPES)


def test_demo_folder_texts_match_the_ground_truth(demo_corpus_dir: Path) -> None:
    corpus = read_corpus(demo_corpus_dir)
    truth = pq.read_table(demo_corpus_dir / "ground_truth" / "texts.parquet")
    assert len(corpus) == truth.num_rows
    first = corpus[0]
    assert first.source in {"tickets", "reviews"}
    assert first.text
    counts = describe_corpus(corpus)
    assert sum(sum(c.values()) for c in counts.values()) == len(corpus)


def test_handwritten_csv_is_a_balanced_corpus(handwritten_corpus: list[LabelledText]) -> None:
    counts = describe_corpus(handwritten_corpus)
    assert set(counts) == {"zh", "en"}
    for language in ("zh", "en"):
        assert set(counts[language]) == set(COMPLAINT_TYPES)


def test_csv_language_is_detected_and_labels_may_be_aliases(tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(
        "text,complaint_type,sentiment\n快递太慢了,late_delivery,negative\nNice!,praise,positive\n",
        encoding="utf-8",
    )
    corpus = read_corpus(path)
    assert [(c.language, c.complaint_type) for c in corpus] == [
        ("zh", "logistics_delay"),
        ("en", "other"),
    ]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("text,sentiment\nhello,neutral\n", "missing column"),
        ("text,complaint_type,sentiment\nhello,weather,neutral\n", "line 2: complaint_type"),
        ("text,complaint_type,sentiment\nhello,other,angry\n", "line 2: sentiment"),
        ("text,complaint_type,sentiment\n  ,other,neutral\n", "line 2: text is empty"),
    ],
)
def test_bad_csv_rows_name_the_line_not_the_value(
    tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError, match=fragment) as caught:
        read_corpus(path)
    assert "weather" not in str(caught.value)
    assert "angry" not in str(caught.value)


def test_a_folder_without_ground_truth_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"lacks service/tickets\.jsonl"):
        read_corpus(tmp_path)
    with pytest.raises(ValidationError, match="no such file"):
        read_corpus(tmp_path / "absent.csv")

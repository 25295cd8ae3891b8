"""Detection recall and precision on the labelled Chinese/English set (tests/data/pii).

The goal of issue 7: recall >= 0.99 for resident IDs, phones and emails. The figures are printed
by benchmarks/privacy/bench_pii_detect.py and kept in docs/privacy-detection.md.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from custodia.privacy.pii_detect import PiiDetector
from custodia.privacy.pii_evaluation import (
    DetectionScores,
    LabelledText,
    load_labelled_texts,
    parse_labelled_line,
    score_detection,
)
from custodia.privacy.pii_nlp_engine import fold_width
from custodia.privacy.pii_redact import redact_text

DATA = Path(__file__).parents[2] / "data" / "pii"
GOAL_ENTITIES = ("CN_RESIDENT_ID", "CN_MOBILE", "EMAIL_ADDRESS")


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector(today=date(2026, 11, 24))


@pytest.fixture(scope="module")
def labelled() -> list[LabelledText]:
    return load_labelled_texts(DATA / "handwritten.txt") + load_labelled_texts(
        DATA / "generated.txt"
    )


@pytest.fixture(scope="module")
def scores(detector: PiiDetector, labelled: list[LabelledText]) -> DetectionScores:
    return score_detection(labelled, detector.find_many([item.text for item in labelled]))


def test_the_set_is_large_enough_to_measure_one_percent(labelled: list[LabelledText]) -> None:
    counts = {e: sum(lab.entity == e for i in labelled for lab in i.labels) for e in GOAL_ENTITIES}
    assert all(n >= 100 for n in counts.values()), counts
    assert {i.language for i in labelled} == {"zh", "en", "mixed"}
    assert sum(not i.labels for i in labelled) >= 100  # hard negatives


@pytest.mark.parametrize("entity", GOAL_ENTITIES)
def test_recall_meets_the_goal_for_ids_phones_and_emails(
    scores: DetectionScores, entity: str
) -> None:
    assert scores.by_entity[entity].recall >= 0.99, scores.by_entity[entity].as_dict()


def test_precision_of_every_entity_is_high(scores: DetectionScores) -> None:
    low = {e: s.as_dict() for e, s in scores.by_entity.items() if s.precision < 0.95}
    assert not low


def test_recall_holds_in_each_language(scores: DetectionScores) -> None:
    low = {
        k: s.as_dict()
        for k, s in scores.by_language.items()
        if k[1] in GOAL_ENTITIES and s.recall < 0.99
    }
    assert not low


def test_tag_redaction_leaves_no_labelled_value(
    detector: PiiDetector, labelled: list[LabelledText]
) -> None:
    leaks = []
    for item in labelled:
        redacted = fold_width(redact_text(item.text, detector.find(item.text)).text)
        for label in item.labels:
            value = fold_width(item.text[label.start : label.end])
            core = re.sub(r"[\s\-()+]", "", value)
            if value in redacted or core in re.sub(r"[\s\-()+]", "", redacted):
                leaks.append(label.entity)
    assert leaks == []


@pytest.mark.parametrize(
    "item", load_labelled_texts(DATA / "known_gaps.txt"), ids=lambda item: item.text[:24]
)
def test_known_gaps_are_still_gaps(detector: PiiDetector, item: LabelledText) -> None:
    """Each line of known_gaps.txt is still detected wrongly; once fixed, move it to the set."""
    found = detector.find(item.text)
    covered = all(
        any(f.entity == lab.entity and f.start <= lab.start and lab.end <= f.end for f in found)
        for lab in item.labels
    )
    spurious = any(
        not any(
            f.entity == lab.entity and f.start < lab.end and lab.start < f.end
            for lab in item.labels
        )
        for f in found
    )
    assert not covered or spurious, "fixed: move this line to handwritten.txt"


def test_scoring_counts_misses_and_false_positives(detector: PiiDetector) -> None:
    item = parse_labelled_line("zh\t手机[[CN_MOBILE|13812345678]]，邮箱[[EMAIL_ADDRESS|a@b.cn]]")
    assert item.text == "手机13812345678，邮箱a@b.cn"
    only_email = PiiDetector(entities=["EMAIL_ADDRESS", "CN_PASSPORT"])
    wrong = parse_labelled_line("en\tpassport E12345678")  # unlabelled: a false positive
    scores = score_detection([item, wrong], only_email.find_many([item.text, wrong.text]))
    assert scores.by_entity["CN_MOBILE"].recall == 0.0
    assert scores.by_entity["EMAIL_ADDRESS"].recall == 1.0
    assert scores.by_entity["CN_PASSPORT"].precision == 0.0

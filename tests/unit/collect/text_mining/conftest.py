"""Small generated corpora and one model trained on them, shared by the text-mining tests.

The demo generator labels every text it writes, so a 300-customer data set is a labelled
corpus (about 270 texts); a second seed gives texts the model has never seen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.collect.text_mining import (
    LabelledText,
    TextModel,
    default_config,
    fit_corpus,
    lexicon_examples,
    read_corpus,
    read_demo_corpus,
)
from custodia.demo import generate_demo

TRAIN_SEED = 5
TEST_SEED = 6
CUSTOMERS = 300
HANDWRITTEN = Path(__file__).resolve().parents[3] / "data" / "text_mining" / "handwritten.csv"


@pytest.fixture(scope="session")
def demo_corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("text-train") / "demo"
    generate_demo(folder, customers=CUSTOMERS, seed=TRAIN_SEED)
    return folder


@pytest.fixture(scope="session")
def train_corpus(demo_corpus_dir: Path) -> list[LabelledText]:
    return read_demo_corpus(demo_corpus_dir)


@pytest.fixture(scope="session")
def test_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[LabelledText]:
    folder = tmp_path_factory.mktemp("text-test") / "demo"
    generate_demo(folder, customers=CUSTOMERS, seed=TEST_SEED)
    return read_demo_corpus(folder)


@pytest.fixture(scope="session")
def handwritten_corpus() -> list[LabelledText]:
    """86 hand-written texts that share no template with the generator (see tests/data)."""
    return read_corpus(HANDWRITTEN)


@pytest.fixture(scope="session")
def small_model(train_corpus: list[LabelledText]) -> TextModel:
    config = default_config()
    extra = lexicon_examples(config.active_rules())
    return fit_corpus(
        [*train_corpus, *extra], tokenizer_words=config.tokenizer_words, seed=TRAIN_SEED
    )

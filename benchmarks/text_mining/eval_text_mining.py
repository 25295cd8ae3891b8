"""Held-out evaluation of text mining: train on one generated corpus, score on another seed's.

The demo generator renders every ticket and review from template banks with random openers,
closers, products, sizes, day counts and personal data, and records the true complaint type and
sentiment (``ground_truth/texts.parquet``). Training on one seed and scoring on another keeps
every scored text unseen (the random variation is held out), though the templates are shared;
the hand-written texts of ``tests/data/text_mining/handwritten.csv`` share no template and show
how far the model carries over to other wording.

Figures: macro-F1, accuracy and per-class precision/recall/F1 per language, for the classifier
alone and for the full tagger (classifier + shipped rules), on both test sets; training and
tagging speed. Results go to ``benchmarks/results/text_mining.json``.

The hand-written set is small (43 texts per language), and which random texts the generator
writes moves its English scores by several points: ``--spread-seeds`` trains again on the
corpora of other seeds (same size) and reports the hand-written macro-F1 of each, so a figure
is read with its spread.

Run: ``.venv/bin/python benchmarks/text_mining/eval_text_mining.py [--train-seed S]
[--test-seed S] [--train-customers N] [--test-customers N] [--spread-seeds 101,202,303]
[--results NAME]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from custodia.collect.text_mining import (
    LabelledText,
    TextInput,
    TextModel,
    TextTagger,
    default_config,
    describe_corpus,
    evaluate_model,
    fit_corpus,
    lexicon_examples,
    library_versions,
    read_corpus,
    read_demo_corpus,
    score_labels,
)
from custodia.demo import generate_demo
from custodia.pipeline.text_model import DEFAULT_TRAINING_CUSTOMERS, DEFAULT_TRAINING_SEED

BENCHMARKS = Path(__file__).resolve().parent.parent
RESULTS = BENCHMARKS / "results"
WORK = BENCHMARKS / "work" / "text-mining"
HANDWRITTEN = BENCHMARKS.parent / "tests" / "data" / "text_mining" / "handwritten.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seed", type=int, default=DEFAULT_TRAINING_SEED)
    parser.add_argument("--test-seed", type=int, default=7)
    parser.add_argument("--train-customers", type=int, default=DEFAULT_TRAINING_CUSTOMERS)
    parser.add_argument("--test-customers", type=int, default=20_000)
    parser.add_argument("--spread-seeds", default="101,202,303", help="comma-separated, or ''")
    parser.add_argument("--results", default="text_mining", help="results file name (no .json)")
    args = parser.parse_args()
    spread_seeds = [int(s) for s in args.spread_seeds.split(",") if s.strip()]
    if args.train_seed == args.test_seed:
        parser.error("the test seed must differ from the training seed")
    train = generated_corpus(args.train_seed, args.train_customers)
    test = generated_corpus(args.test_seed, args.test_customers)
    handwritten = read_corpus(HANDWRITTEN)
    config = default_config()
    started = time.perf_counter()
    lexicon = lexicon_examples(config.active_rules())
    model = fit_corpus(
        [*train, *lexicon], tokenizer_words=config.tokenizer_words, seed=args.train_seed
    )
    train_seconds = time.perf_counter() - started
    tagger = TextTagger(model, config)
    figures = {
        "train": corpus_figures(train, args.train_seed, args.train_customers),
        "test": corpus_figures(test, args.test_seed, args.test_customers),
        "lexicon_texts": len(lexicon),
        "train_seconds": round(train_seconds, 2),
        "generated_test_set": scores(model, tagger, test),
        "handwritten_test_set": scores(model, tagger, handwritten),
        "tagging_texts_per_second": tagging_speed(tagger, test),
        "handwritten_by_training_seed": {
            str(seed): handwritten_macro_f1(seed, args.train_customers, handwritten)
            for seed in [args.train_seed, *spread_seeds]
            if seed != args.test_seed
        },
        "versions": library_versions(),
    }
    save(figures, args.results)
    print_summary(figures)
    shutil.rmtree(WORK, ignore_errors=True)


def generated_corpus(seed: int, customers: int) -> list[LabelledText]:
    folder = WORK / f"seed-{seed}-{customers}"
    shutil.rmtree(folder, ignore_errors=True)
    generate_demo(folder, customers=customers, seed=seed, inject_outage=False)
    return read_demo_corpus(folder)


def corpus_figures(corpus: Sequence[LabelledText], seed: int, customers: int) -> dict[str, Any]:
    return {
        "seed": seed,
        "customers": customers,
        "texts": len(corpus),
        "per_language": describe_corpus(corpus),
    }


def scores(model: TextModel, tagger: TextTagger, corpus: Sequence[LabelledText]) -> dict[str, Any]:
    """Classifier alone and full tagger, per target and language."""
    alone = evaluate_model(model, corpus)
    tagged = tagger.tag([TextInput(c.text, c.language) for c in corpus])
    languages = [c.language for c in corpus]
    with_rules = {
        "complaint_type": score_labels(
            [c.complaint_type for c in corpus], [t.complaint_type or "" for t in tagged], languages
        ),
        "sentiment": score_labels(
            [c.sentiment for c in corpus], [t.sentiment or "" for t in tagged], languages
        ),
    }
    return {
        "model": _dump(alone),
        "model_and_rules": _dump(with_rules),
        "errors_model_and_rules": _errors(corpus, [t.complaint_type or "" for t in tagged]),
    }


def handwritten_macro_f1(
    seed: int, customers: int, handwritten: Sequence[LabelledText]
) -> dict[str, dict[str, float]]:
    """Model + rules on the hand-written texts, trained on the corpus of ``seed``."""
    config = default_config()
    corpus = generated_corpus(seed, customers)
    lexicon = lexicon_examples(config.active_rules())
    model = fit_corpus([*corpus, *lexicon], tokenizer_words=config.tokenizer_words, seed=seed)
    tagged = scores(model, TextTagger(model, config), handwritten)["model_and_rules"]
    return {
        target: {lang: round(tagged[target][lang]["macro_f1"], 3) for lang in ("zh", "en")}
        for target in ("complaint_type", "sentiment")
    }


def tagging_speed(tagger: TextTagger, corpus: Sequence[LabelledText]) -> int:
    """Texts per second through the full tagger, on texts it has not tokenised before."""
    items = [TextInput(c.text + " ", c.language) for c in corpus]
    tagger.model.tokenizer._cache.clear()  # measure segmentation, not the memo
    started = time.perf_counter()
    tagger.tag(items)
    return round(len(items) / (time.perf_counter() - started))


def _dump(result: dict[str, Any]) -> dict[str, Any]:
    return {
        target: {lang: s.model_dump() for lang, s in by_lang.items()}
        for target, by_lang in result.items()
    }


def _errors(corpus: Sequence[LabelledText], predicted: Sequence[str]) -> list[dict[str, str]]:
    """Up to 30 misclassified texts, for reading (all texts are synthetic or hand-written)."""
    wrong = [
        {"language": c.language, "truth": c.complaint_type, "predicted": p, "text": c.text}
        for c, p in zip(corpus, predicted, strict=True)
        if c.complaint_type != p
    ]
    return wrong[:30]


def save(figures: dict[str, Any], name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "text_mining",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "figures": figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def print_summary(figures: dict[str, Any]) -> None:
    print(f"train: {figures['train']['texts']} texts in {figures['train_seconds']} s")
    for test_set in ("generated_test_set", "handwritten_test_set"):
        for variant in ("model", "model_and_rules"):
            for target in ("complaint_type", "sentiment"):
                by_lang = figures[test_set][variant][target]
                cells = ", ".join(
                    f"{lang} {by_lang[lang]['macro_f1']:.3f} (n={by_lang[lang]['texts']})"
                    for lang in ("zh", "en", "all")
                )
                print(f"{test_set} / {variant} / {target}: macro-F1 {cells}")
    print(f"tagging: {figures['tagging_texts_per_second']} texts/s")
    for seed, by_target in figures["handwritten_by_training_seed"].items():
        cells = "; ".join(
            f"{target} zh {by_lang['zh']:.3f} en {by_lang['en']:.3f}"
            for target, by_lang in by_target.items()
        )
        print(f"hand-written, model + rules, training seed {seed}: {cells}")


if __name__ == "__main__":
    main()

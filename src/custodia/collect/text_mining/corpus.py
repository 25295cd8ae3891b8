"""Labelled corpora to train and evaluate on: a demo data folder or a labelled CSV file.

Why: the demo generator writes service tickets and reviews together with the truth about every
text (``ground_truth/texts.parquet``: topic, complaint type, sentiment), which makes a corpus
whose labels are known by construction. A brand with its own labelled history exports it as a
CSV with the columns ``text, language, complaint_type, sentiment``. Both become
:class:`LabelledText` rows with labels mapped onto the complaint categories.

Example::

    corpus = read_corpus(Path("demo-data"))          # a folder written by custodia.demo
    corpus = read_corpus(Path("labelled.csv"))       # or a labelled CSV
    corpus[0].complaint_type, corpus[0].language     # ('size_fit', 'zh')
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from custodia.collect.text_mining.categories import complaint_for_label, sentiment_for_label
from custodia.collect.text_mining.tokenize import detect_language
from custodia.core.errors import ValidationError

TICKETS_FILE = Path("service") / "tickets.jsonl"
REVIEWS_FILE = Path("service") / "reviews.csv"
TRUTH_FILE = Path("ground_truth") / "texts.parquet"
CSV_COLUMNS = ("text", "complaint_type", "sentiment")


@dataclass(frozen=True)
class LabelledText:
    """One text with its true complaint type and sentiment (empty: not labelled)."""

    text: str
    language: str
    complaint_type: str
    sentiment: str
    source: str = ""
    text_id: str = ""


def read_corpus(path: Path) -> list[LabelledText]:
    """A demo data folder (with ground truth) or a labelled CSV file."""
    if path.is_dir():
        return read_demo_corpus(path)
    if path.is_file():
        return read_labelled_csv(path)
    raise ValidationError("corpus", "exists", f"corpus {path.name}: no such file or folder")


def read_demo_corpus(folder: Path) -> list[LabelledText]:
    """Tickets and reviews of a demo data folder, labelled from its ground truth.

    The generator's topics map onto the complaint categories (``size_issue`` -> ``size_fit``,
    ``inquiry`` and ``praise`` -> ``other``; see
    :data:`~custodia.collect.text_mining.categories.LABEL_ALIASES`).
    """
    import pyarrow.parquet as pq

    _require_files(folder, (TICKETS_FILE, REVIEWS_FILE, TRUTH_FILE))
    texts = dict(_demo_texts(folder))
    truth = pq.read_table(
        folder / TRUTH_FILE, columns=["source", "text_id", "language", "topic", "sentiment"]
    ).to_pylist()
    corpus = []
    for row in truth:
        key = (str(row["source"]), str(row["text_id"]))
        if key not in texts:
            raise ValidationError("corpus", "text_for_label", "ground truth names a missing text")
        corpus.append(
            LabelledText(
                text=texts[key],
                language=str(row["language"]),
                complaint_type=complaint_for_label(str(row["topic"])),
                sentiment=sentiment_for_label(str(row["sentiment"])),
                source=key[0],
                text_id=key[1],
            )
        )
    return corpus


def read_labelled_csv(path: Path) -> list[LabelledText]:
    """A UTF-8 CSV with ``text``, ``complaint_type``, ``sentiment`` and optionally ``language``.

    A missing or empty language is detected from the text. Labels may use the demo's topic names
    or common synonyms (see ``LABEL_ALIASES``).
    """
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValidationError(
                missing[0], "required_column", f"{path.name}: missing column(s) {missing}"
            )
        return [_csv_row(row, path.name, n) for n, row in enumerate(reader, start=2)]


def describe_corpus(corpus: Sequence[LabelledText]) -> dict[str, dict[str, int]]:
    """Text counts per language and complaint type (for model metadata and reports)."""
    counts: dict[str, Counter[str]] = {}
    for item in corpus:
        counts.setdefault(item.language, Counter())[item.complaint_type] += 1
    return {lang: dict(sorted(c.items())) for lang, c in sorted(counts.items())}


def _csv_row(row: dict[str, str], name: str, line: int) -> LabelledText:
    text = (row.get("text") or "").strip()
    if not text:
        raise ValidationError("text", "not_empty", f"{name}: line {line}: text is empty")
    try:
        complaint = complaint_for_label(row.get("complaint_type") or "")
        sentiment = sentiment_for_label(row.get("sentiment") or "")
    except ValidationError as exc:
        raise ValidationError(exc.field, exc.rule, f"{name}: line {line}: {exc}") from None
    language = (row.get("language") or "").strip().lower() or detect_language(text)
    return LabelledText(text, language, complaint, sentiment, source=name, text_id=str(line))


def _demo_texts(folder: Path) -> Iterator[tuple[tuple[str, str], str]]:
    with (folder / TICKETS_FILE).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                record = json.loads(line)
                yield ("tickets", str(record["ticket_id"])), str(record["text"])
    with (folder / REVIEWS_FILE).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield ("reviews", row["review_id"]), row["content"]


def _require_files(folder: Path, files: Sequence[Path]) -> None:
    for relative in files:
        if not (folder / relative).is_file():
            raise ValidationError(
                "corpus", "demo_layout", f"corpus folder lacks {relative.as_posix()}"
            )

"""Measuring personal-data detection on a labelled Chinese/English text set.

Why: the goal (recall >= 0.99 for IDs, phones and emails) is a number, so it is measured the same
way in the tests, the benchmark and the docs. A labelled line is ``LANG<TAB>TEXT`` where each
piece of personal data in TEXT is written ``[[ENTITY|value]]``; lines starting with ``#`` are
comments. A label is found when a finding of the same entity overlaps it; a finding that overlaps
no label of its entity is a false positive.

Example::

    item = parse_labelled_line("zh\\t手机[[CN_MOBILE|13812345678]]，谢谢")
    item.text, item.labels          # ('手机13812345678，谢谢', (Label(2, 13, 'CN_MOBILE'),))
    scores = score_detection([item], PiiDetector().find_many([item.text]))
    scores.by_entity["CN_MOBILE"].recall   # 1.0
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from custodia.privacy.pii_detect import PiiFinding

__all__ = [
    "DetectionScores",
    "EntityScore",
    "Label",
    "LabelledText",
    "load_labelled_texts",
    "parse_labelled_line",
    "score_detection",
]

_MARK = re.compile(r"\[\[([A-Z_]+)\|(.+?)\]\]")


@dataclass(frozen=True)
class Label:
    """Where one labelled piece of personal data is (character offsets) and its entity."""

    start: int
    end: int
    entity: str


@dataclass(frozen=True)
class LabelledText:
    """A text, its language (``zh``, ``en`` or ``mixed``) and its labels."""

    language: str
    text: str
    labels: tuple[Label, ...]


@dataclass
class EntityScore:
    """Counts for one entity (or one entity in one language) and the rates they give."""

    true_positives: int = 0
    false_negatives: int = 0
    false_positives: int = 0

    @property
    def labelled(self) -> int:
        """How many labels there are."""
        return self.true_positives + self.false_negatives

    @property
    def recall(self) -> float:
        """Share of labels found (1.0 when there are none)."""
        return self.true_positives / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        """Share of findings that are labels (1.0 when nothing was found)."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    def as_dict(self) -> dict[str, float | int]:
        """Counts and rates, rounded for a report."""
        return {
            "labelled": self.labelled,
            "found": self.true_positives,
            "missed": self.false_negatives,
            "false_positives": self.false_positives,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
        }


@dataclass
class DetectionScores:
    """Scores per entity and per (language, entity), over a whole labelled set."""

    by_entity: dict[str, EntityScore] = field(default_factory=lambda: defaultdict(EntityScore))
    by_language: dict[tuple[str, str], EntityScore] = field(
        default_factory=lambda: defaultdict(EntityScore)
    )

    def count(self, language: str, entity: str, outcome: str) -> None:
        """Add one ``true_positives``, ``false_negatives`` or ``false_positives``."""
        for score in (self.by_entity[entity], self.by_language[(language, entity)]):
            setattr(score, outcome, getattr(score, outcome) + 1)


def parse_labelled_line(line: str) -> LabelledText:
    """One ``LANG<TAB>TEXT`` line with ``[[ENTITY|value]]`` marks, as text and offsets."""
    language, _, marked = line.rstrip("\n").partition("\t")
    parts: list[str] = []
    labels: list[Label] = []
    position = cursor = 0
    for mark in _MARK.finditer(marked):
        before = marked[cursor : mark.start()]
        parts.append(before)
        position += len(before)
        value = mark.group(2)
        labels.append(Label(position, position + len(value), mark.group(1)))
        parts.append(value)
        position += len(value)
        cursor = mark.end()
    parts.append(marked[cursor:])
    return LabelledText(language, "".join(parts), tuple(labels))


def load_labelled_texts(path: Path) -> list[LabelledText]:
    """Every labelled line of a file (comments and blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_labelled_line(x) for x in lines if x.strip() and not x.startswith("#")]


def score_detection(
    items: Sequence[LabelledText], findings: Iterable[Sequence[PiiFinding]]
) -> DetectionScores:
    """Recall and precision of ``findings`` (one list per item) against the items' labels."""
    scores = DetectionScores()
    for item, found in zip(items, findings, strict=True):
        for label in item.labels:
            hit = any(_overlaps(f, label) and f.entity == label.entity for f in found)
            scores.count(
                item.language, label.entity, "true_positives" if hit else "false_negatives"
            )
        for f in found:
            if not any(_overlaps(f, label) and f.entity == label.entity for label in item.labels):
                scores.count(item.language, f.entity, "false_positives")
    return scores


def _overlaps(finding: PiiFinding, label: Label) -> bool:
    return finding.start < label.end and label.start < finding.end

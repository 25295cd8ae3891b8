"""Personal data in free text: recall and precision on the labelled set, and detection speed.

Quality: ``tests/data/pii`` (hand-written and generated Chinese/English texts, see its
PROVENANCE.md) scored per entity, and per language for each entity (``zh``, ``en``, ``mixed``).
A label is found when a finding of the same entity overlaps it; a finding overlapping no label of
its entity is a false positive (:mod:`custodia.privacy.pii_evaluation`).

Speed, on the same texts repeated ``--repeat`` times (default 5), single-threaded, in process
CPU time (best run) unless said otherwise:

- ``import_seconds``: importing the detector (Presidio and spaCy's modules, no model);
- ``build_ms``: building a :class:`~custodia.privacy.pii_detect.PiiDetector`;
- ``us_per_text`` / ``texts_per_second``: :meth:`PiiDetector.find` over all texts;
  ``wall_us_per_text`` the same in wall time (median run);
- ``us_per_text_with_pii`` / ``us_per_text_without_digits``: texts that carry personal data, and
  texts with no digit and no ``@`` (skipped before Presidio runs);
- ``us_per_text_without_phone_number``: all texts, without the international phone recognizer
  (python-phonenumbers);
- ``us_per_redaction``: :func:`~custodia.privacy.pii_redact.redact_text` with masks.

Run: ``.venv/bin/python benchmarks/privacy/bench_pii_detect.py [--repeat 5]``
Results: ``benchmarks/results/privacy_pii_detect.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from custodia.privacy.pii_detect import PiiDetector
from custodia.privacy.pii_entities import PHONE_NUMBER, PII_ENTITIES
from custodia.privacy.pii_evaluation import LabelledText, load_labelled_texts, score_detection
from custodia.privacy.pii_redact import RedactionPolicy, redact_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import save

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "pii"
TODAY = date(2026, 11, 24)


def quality(detector: PiiDetector, items: list[LabelledText]) -> dict[str, Any]:
    """Recall and precision per entity and per language."""
    scores = score_detection(items, detector.find_many([i.text for i in items]))
    return {
        "texts": len(items),
        "by_entity": {e: s.as_dict() for e, s in sorted(scores.by_entity.items())},
        "by_language": {
            f"{lang}/{entity}": s.as_dict()
            for (lang, entity), s in sorted(scores.by_language.items())
        },
    }


def microseconds_per_text(detector: PiiDetector, texts: list[str], repeat: int) -> float:
    """Process CPU time per text to find personal data in every text, best of ``repeat`` runs.

    CPU time, not wall time: the work is single-threaded and the machine is shared, and CPU time
    is what other work distorts least.
    """
    return round(min(_runs(detector, texts, repeat, time.process_time)), 1)


def wall_microseconds_per_text(detector: PiiDetector, texts: list[str], repeat: int) -> float:
    """Wall time per text, median of ``repeat`` runs (for comparison with the CPU figure)."""
    return round(statistics.median(_runs(detector, texts, repeat, time.perf_counter)), 1)


def _runs(
    detector: PiiDetector, texts: list[str], repeat: int, clock: Callable[[], float]
) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = clock()
        for text in texts:
            detector.find(text)
        runs.append((clock() - start) / len(texts) * 1e6)
    return runs


def import_seconds() -> float:
    """Seconds to import the detector in a fresh interpreter (median of three)."""
    code = "import time; t = time.perf_counter(); import custodia.privacy.pii_detect; "
    code += "print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout)
        for _ in range(3)
    ]
    return round(statistics.median(runs), 2)


def speed(detector: PiiDetector, items: list[LabelledText], repeat: int) -> dict[str, Any]:
    """Microseconds per text for all texts, those with personal data, those with no digits."""
    texts = [i.text for i in items]
    with_pii = [i.text for i in items if i.labels]
    plain = [t for t in texts if not any(c.isnumeric() or c in "@＠" for c in t)]
    plain = plain or ["物流太慢了，等了好几天还没到，客服也不回复"] * 100
    started = time.perf_counter()
    PiiDetector(today=TODAY)
    build_ms = (time.perf_counter() - started) * 1e3
    per_text = microseconds_per_text(detector, texts, repeat)
    findings = detector.find_many(with_pii)
    policy = RedactionPolicy(default="mask")
    started = time.perf_counter()
    for text, found in zip(with_pii, findings, strict=True):
        redact_text(text, found, policy)
    redaction = (time.perf_counter() - started) / len(with_pii) * 1e6
    no_foreign_phones = PiiDetector([e for e in PII_ENTITIES if e != PHONE_NUMBER], today=TODAY)
    return {
        "import_seconds": import_seconds(),
        "build_ms": round(build_ms, 2),
        "us_per_text": per_text,
        "texts_per_second": round(1e6 / per_text),
        "wall_us_per_text": wall_microseconds_per_text(detector, texts, repeat),
        "us_per_text_with_pii": microseconds_per_text(detector, with_pii, repeat),
        "us_per_text_without_digits": microseconds_per_text(detector, plain, repeat),
        "us_per_text_without_phone_number": microseconds_per_text(no_foreign_phones, texts, repeat),
        "us_per_redaction": round(redaction, 1),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    """Measure and save ``results/privacy_pii_detect.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    detector = PiiDetector(today=TODAY)
    handwritten = load_labelled_texts(DATA / "handwritten.txt")
    generated = load_labelled_texts(DATA / "generated.txt")
    figures = {
        "all": quality(detector, handwritten + generated),
        "handwritten": quality(detector, handwritten),
        "generated": quality(detector, generated),
        "speed": speed(detector, handwritten + generated, args.repeat),
    }
    save("privacy_pii_detect", figures)


if __name__ == "__main__":
    main()

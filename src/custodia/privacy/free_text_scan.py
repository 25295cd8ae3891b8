"""Scanning a column of free text for personal data and redacting it as a policy rule says.

Why a module of its own: loads call it for every staged batch of a scanned column, and the
detector behind it imports Presidio (about 1.3 s); that import happens on the first batch that
has text to scan, never when a load of orders or events merely reads the policy.

Counts are kept per entity type (no values), so they can go to the run log.

Example::

    rule = FreeTextRule(action="redact", replace="mask")
    scan = scan_texts(["回电13812345678", None, "thanks"], rule)
    scan.values          # ['回电138****5678', None, 'thanks']
    scan.findings        # {'CN_MOBILE': 1}
    scan.rows_with_findings  # 1
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from custodia.privacy.classification import FreeTextRule

if TYPE_CHECKING:
    from custodia.privacy.pii_detect import PiiDetector

__all__ = ["TextScan", "scan_texts", "shared_detector"]


@dataclass(frozen=True)
class TextScan:
    """A scanned column: the values to store and what was found (counts only)."""

    values: list[str | None]
    findings: Counter[str] = field(default_factory=Counter)
    rows_with_findings: int = 0

    def detail(self, rule: FreeTextRule) -> dict[str, object]:
        """For a run step's detail: what was done and how much, never a value."""
        return {
            "action": rule.action,
            "rows_scanned": len(self.values),
            "rows_with_findings": self.rows_with_findings,
            "findings": dict(sorted(self.findings.items())),
        }


def scan_texts(texts: Sequence[str | None], rule: FreeTextRule) -> TextScan:
    """Find personal data in each text; with a ``redact`` rule, return the redacted texts."""
    from custodia.privacy.pii_redact import RedactionPolicy, redact_text

    detector = shared_detector()
    policy = RedactionPolicy(default=rule.replace, entities=dict(rule.entities))
    values: list[str | None] = []
    found: Counter[str] = Counter()
    rows = 0
    for text in texts:
        findings = detector.find(text) if text else []
        if text is None or not findings:
            values.append(text)
            continue
        rows += 1
        found.update(f.entity for f in findings)
        values.append(redact_text(text, findings, policy).text if rule.redacts else text)
    return TextScan(values, found, rows)


@cache
def shared_detector() -> PiiDetector:
    """One detector per process, built on first use (Presidio is imported here, not before)."""
    from custodia.privacy.pii_detect import PiiDetector

    return PiiDetector()

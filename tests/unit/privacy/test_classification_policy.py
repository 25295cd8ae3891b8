"""The classification policy: raised tiers, per-entry override of the shipped defaults, and the
free-text scan that loads run per rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.core.errors import ValidationError
from custodia.core.types import Tier
from custodia.privacy.classification import ClassificationFile, ClassificationPolicy, FreeTextRule
from custodia.privacy.free_text_scan import scan_texts

SHIPPED = ClassificationPolicy.shipped()


def parse(text: str) -> ClassificationPolicy:
    return ClassificationPolicy.from_text(text, origin="c.yaml", base=SHIPPED)


def test_shipped_defaults_redact_ticket_text_and_subject_with_masks() -> None:
    rules = SHIPPED.free_text_rules("interactions")
    assert set(rules) == {"text", "subject"}
    assert all(r.redacts and r.replace == "mask" for r in rules.values())
    assert SHIPPED.tier("orders", "channel") is Tier.L1


def test_a_tier_can_be_raised_or_restated_but_not_lowered() -> None:
    policy = parse("tiers: {orders.channel: L3, interactions.text: L3}")
    assert policy.tier("orders", "channel") is Tier.L3
    assert policy.tier("interactions", "text") is Tier.L3
    with pytest.raises(ValidationError, match=r"c.yaml line 1: tiers.interactions.subject: cannot"):
        parse("tiers: {interactions.subject: L1}")


def test_workspace_entries_replace_shipped_ones_of_the_same_column_only() -> None:
    policy = parse("free_text:\n  interactions.subject: {scan: false}\n")
    assert set(policy.free_text_rules("interactions")) == {"text"}
    assert policy.free_text["interactions.subject"].scan is False
    assert parse("").free_text == SHIPPED.free_text


def test_the_workspace_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    seen: list[str] = []
    policies = ClassificationFile(tmp_path, on_change=lambda origin, _text: seen.append(origin))
    assert policies.current() == SHIPPED
    policies.replace("free_text: {interactions.text: {action: flag}}\n", "new.yaml")
    assert policies.current().free_text["interactions.text"].action == "flag"
    assert seen[0] == "privacy/classification.yaml"
    with pytest.raises(ValidationError, match=r"bad\.yaml line 1"):
        policies.replace("tiers: {orders.nope: L2}\n", "bad.yaml")
    assert policies.current().free_text["interactions.text"].action == "flag"


def test_scan_masks_or_tags_per_entity_and_counts_without_values() -> None:
    rule = FreeTextRule(replace="mask", entities={"CN_RESIDENT_ID": "tag"})
    texts = ["回电13812345678", None, "", "thanks", "身份证11010519491231002X"]
    scan = scan_texts(texts, rule)
    assert scan.values == ["回电138****5678", None, "", "thanks", "身份证<CN_RESIDENT_ID>"]
    assert scan.detail(rule) == {
        "action": "redact", "rows_scanned": 5, "rows_with_findings": 2,
        "findings": {"CN_MOBILE": 1, "CN_RESIDENT_ID": 1},
    }  # fmt: skip


def test_a_flag_rule_keeps_the_text_and_counts() -> None:
    scan = scan_texts(["回电13812345678"], FreeTextRule(action="flag"))
    assert scan.values == ["回电13812345678"]
    assert dict(scan.findings) == {"CN_MOBILE": 1}

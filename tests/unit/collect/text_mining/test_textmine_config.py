"""Shipped lexicons and rules, and a workspace file laid over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.collect.text_mining import (
    COMPLAINT_TYPES,
    default_config,
    default_config_text,
    load_text_mining_config,
)
from custodia.core.errors import ConfigurationError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "text_mining.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_cover_every_complaint_type_but_other() -> None:
    config = default_config()
    labelled = {r.complaint_type for r in config.active_rules() if r.complaint_type}
    assert labelled == set(COMPLAINT_TYPES) - {"other"}
    assert "dress" in config.product_types
    assert "escalation_risk" in default_config_text()


def test_a_missing_workspace_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_text_mining_config(tmp_path / "absent.yaml") == default_config()
    assert load_text_mining_config(None) == default_config()


def test_workspace_rules_come_first_and_replace_shipped_ones_by_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
rules:
  - name: vip
    when: override
    phrases: [VIP客户]
    tags: [vip]
  - name: price_complaint
    enabled: false
  - name: refund_phrases
    when: override
    complaint_type: refund
    phrases: [退钱]
""",
    )
    config = load_text_mining_config(path)
    names = [r.name for r in config.rules]
    assert names[:3] == ["vip", "price_complaint", "refund_phrases"]
    assert names.count("refund_phrases") == 1
    assert "price_complaint" not in [r.name for r in config.active_rules()]
    refund = next(r for r in config.rules if r.name == "refund_phrases")
    assert refund.when == "override"
    assert refund.phrases == ("退钱",)


def test_product_types_words_and_scalars_merge(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
unsure_below: 0.7
tokenizer_words: [起毛球]
product_types:
  dress: [旗袍]
  shoes: []
  hats: [帽子, hat]
products:
  - name: 云朵大衣
    aliases: [Cloud Coat]
catalog_from_workspace: false
""",
    )
    config = load_text_mining_config(path)
    assert config.unsure_below == 0.7
    assert config.review_below == default_config().review_below
    assert "起毛球" in config.tokenizer_words
    assert "起球" in config.tokenizer_words
    assert config.product_types["dress"] == ("旗袍",)
    assert "shoes" not in config.product_types
    assert config.product_types["hats"] == ("帽子", "hat")
    assert config.products[-1].aliases == ("Cloud Coat",)
    assert config.catalog_from_workspace is False


def test_replace_defaults_drops_the_shipped_lexicons(tmp_path: Path) -> None:
    path = write(tmp_path, "replace_defaults: true\nproduct_types: {hats: [hat]}\n")
    config = load_text_mining_config(path)
    assert config.rules == ()
    assert config.product_types == {"hats": ("hat",)}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("rules: [\n", "invalid YAML at line"),
        ("unsure_below: 2\n", "unsure_below"),
        ("rules:\n  - name: x\n    when: sometimes\n    phrases: [a]\n    tags: [t]\n", "when"),
        ("rules:\n  - name: x\n    phrases: [secret-phrase]\n", "sets nothing"),
        ("colour: red\n", "colour"),
    ],
)
def test_errors_name_the_file_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment) as caught:
        load_text_mining_config(write(tmp_path, text))
    assert str(caught.value).startswith("text_mining.yaml")
    assert "secret-phrase" not in str(caught.value)

"""The identity spec: defaults, and clear errors for specs that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.core.errors import ValidationError
from custodia.identity.models import IdentitySpec
from custodia.identity.spec_file import load_spec, parse_spec, save_spec, spec_digest


def test_default_spec_guards_resident_ids_and_blocks_junk() -> None:
    spec = IdentitySpec()
    assert spec.guarded() == {"resident_id"}
    assert spec.limits()["resident_id"] == 1
    assert "+8613800000000" in spec.blocked("phone")
    assert "anonymous" in spec.blocked("email")


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("identifiers:\n  passport: {priority: 1}\n", "identifiers", "unknown identifier type"),
        (
            "identifiers:\n  phone: {priority: 1, max_per_profile: 0}\n",
            "identifiers.phone",
            "at least 1",
        ),
        (
            "identifiers:\n  resident_id:\n"
            "    {priority: 1, max_per_profile: 2, never_merge_different: true}\n",
            "identifiers",
            "never_merge_different",
        ),
        (
            "survivorship:\n  shoe_size: {strategy: most_recent}\n",
            "survivorship",
            "unknown attribute",
        ),
        ("blocklist:\n  fax: ['0']\n", "blocklist", "unknown identifier type"),
        ("identifiers:\n  phone: {priority: 1, match: false}\n", "spec", "at least one type"),
        ("source_trust: [a\n", "spec", "not valid YAML"),
        ("- 1\n- 2\n", "spec", "must be a mapping"),
        ("surprise: 1\n", "surprise", "Extra inputs"),
    ],
)
def test_bad_specs_are_refused_with_the_field_named(text: str, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_spec(text)
    assert caught.value.field.startswith(field)
    assert words in str(caught.value)


def test_spec_round_trips_through_yaml_with_chinese_text(tmp_path: Path) -> None:
    spec = parse_spec("source_trust: [会员系统, pos_receipts]\nemail_strip_plus_tag: true\n")
    path = tmp_path / "identity" / "spec.yaml"
    save_spec(spec, path)
    assert "会员系统" in path.read_text(encoding="utf-8")
    again = load_spec(path)
    assert again == spec
    assert spec_digest(again) == spec_digest(spec)
    assert spec_digest(IdentitySpec()) != spec_digest(spec)


def test_missing_spec_file_names_only_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"spec\.yaml not found"):
        load_spec(tmp_path / "secret-dir" / "spec.yaml")

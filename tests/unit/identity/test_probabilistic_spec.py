"""The probabilistic spec refuses what it cannot run, naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from custodia.identity.probabilistic_spec import (
    COMPARISON_METHODS,
    ProbabilisticSpec,
    blocking_key_column,
)


def _spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "comparisons": [
            {"column": "name", "method": "name", "term_frequency": True},
            {"column": "birthday", "method": "date"},
        ],
        "blocking_rules": [["birthday"], ["substr(name, 1, 2)", "city"]],
        "training_blocking_rules": [["birthday"]],
        "deterministic_rules": [["name", "birthday"]],
    }
    base.update(changes)
    return base


def test_a_valid_spec_lists_every_column_it_reads_once() -> None:
    spec = ProbabilisticSpec.model_validate(_spec())
    assert spec.columns() == ["name", "birthday", "city"]
    assert spec.match_threshold == 0.9
    assert spec.recall == 0.7
    assert "phone" in COMPARISON_METHODS


def test_an_unknown_method_is_refused_naming_the_field() -> None:
    bad = _spec(comparisons=[{"column": "name", "method": "soundex"}])
    with pytest.raises(ValidationError, match=r"comparisons\.0\.method"):
        ProbabilisticSpec.model_validate(bad)


def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="threshold"):
        ProbabilisticSpec.model_validate(_spec(threshold=0.5))


@pytest.mark.parametrize(
    "key",
    ["name; drop table x", "substr(name, 0, 3)", "lower(name)", "l.name = r.name", ""],
)
def test_blocking_keys_must_be_columns_or_prefixes(key: str) -> None:
    with pytest.raises(ValidationError, match=r"blocking_rules\[0\]"):
        ProbabilisticSpec.model_validate(_spec(blocking_rules=[[key]]))


def test_an_empty_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"deterministic_rules\[0\]: a rule needs"):
        ProbabilisticSpec.model_validate(_spec(deterministic_rules=[[]]))


def test_a_column_compared_twice_is_refused() -> None:
    twice = [{"column": "name", "method": "name"}, {"column": "name", "method": "exact"}]
    with pytest.raises(ValidationError, match="compared twice"):
        ProbabilisticSpec.model_validate(_spec(comparisons=twice))


@pytest.mark.parametrize(
    ("method", "thresholds", "message"),
    [
        ("name", [1.2], "strictly between 0 and 1"),
        ("levenshtein", [0.5], "whole numbers"),
        ("date", [1], "takes no thresholds"),
    ],
)
def test_thresholds_must_fit_the_method(method: str, thresholds: list[float], message: str) -> None:
    comparison = {"column": "name", "method": method, "thresholds": thresholds}
    with pytest.raises(ValidationError, match=message):
        ProbabilisticSpec.model_validate(_spec(comparisons=[comparison]))


@pytest.mark.parametrize("field", ["match_threshold", "recall"])
def test_probabilities_outside_zero_one_are_refused(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        ProbabilisticSpec.model_validate(_spec(**{field: 1.5}))


def test_blocking_key_column_reads_through_a_prefix() -> None:
    assert blocking_key_column("substr( surname ,1, 4)") == "surname"
    assert blocking_key_column("phone") == "phone"


def test_em_pair_cap_is_optional_and_bounded() -> None:
    assert ProbabilisticSpec.model_validate(_spec()).max_pairs_for_em is None
    assert ProbabilisticSpec.model_validate(_spec(max_pairs_for_em=5000)).max_pairs_for_em == 5000
    with pytest.raises(ValidationError, match="max_pairs_for_em"):
        ProbabilisticSpec.model_validate(_spec(max_pairs_for_em=10))


def test_swapped_with_names_another_column_of_a_name_like_method() -> None:
    names = [
        {"column": "name", "method": "name", "swapped_with": "surname"},
        {"column": "surname", "method": "name", "swapped_with": "name"},
    ]
    spec = ProbabilisticSpec.model_validate(_spec(comparisons=names))
    assert spec.columns() == ["name", "surname", "birthday", "city"]
    with pytest.raises(ValidationError, match="swapped_with: must name another column"):
        ProbabilisticSpec.model_validate(
            _spec(comparisons=[{"column": "name", "method": "name", "swapped_with": "name"}])
        )
    with pytest.raises(ValidationError, match="swapped_with: method 'date'"):
        ProbabilisticSpec.model_validate(
            _spec(comparisons=[{"column": "dob", "method": "date", "swapped_with": "name"}])
        )

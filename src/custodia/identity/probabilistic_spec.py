"""The probabilistic matching spec: which columns Fellegi-Sunter compares, how, and when to link.

Records without a shared key (a service ticket with a name and a city, a store receipt with a
misspelled phone) are matched by a Fellegi-Sunter model (Splink). This spec declares the model
without any code: the compared columns and their comparison method, the blocking rules that pick
the candidate pairs, the rules that train it unsupervised, and the probability threshold at or above
which a pair becomes an identity edge. It is part of the workspace's identity spec
(``IdentitySpec.probabilistic``) and is validated strictly: unknown keys, unknown methods and
malformed blocking keys are refused with an error naming the field.

A blocking rule is a list of *keys* that must all be equal for two records to be compared. A key
is a column name (``"phone"``) or a prefix of one written ``"substr(surname, 1, 4)"``.

Example (YAML)::

    comparisons:
      - {column: name, method: name, term_frequency: true}
      - {column: birthday, method: date}
      - {column: phone, method: phone}
    blocking_rules: [[phone], [birthday, "substr(name, 1, 1)"]]
    training_blocking_rules: [[birthday], [phone]]
    deterministic_rules: [[phone, birthday]]
    match_threshold: 0.95
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "COMPARISON_METHODS",
    "ComparisonMethod",
    "ComparisonSpec",
    "ProbabilisticSpec",
    "blocking_key_column",
]

ComparisonMethod = Literal[
    "exact",
    "name",
    "date",
    "levenshtein",
    "damerau_levenshtein",
    "jaro_winkler",
    "postcode",
    "email",
    "phone",
]
COMPARISON_METHODS: tuple[str, ...] = get_args(ComparisonMethod)
"""Every comparison method a spec may name (see ``docs/identity.md`` for their levels)."""

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PREFIX = re.compile(r"^substr\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$")


def blocking_key_column(key: str) -> str:
    """The column a blocking key reads (``"substr(surname, 1, 4)"`` reads ``surname``).

    >>> blocking_key_column("substr(surname, 1, 4)")
    'surname'
    """
    if _COLUMN.match(key):
        return key
    prefix = _PREFIX.match(key)
    if prefix is None or int(prefix.group(2)) < 1 or int(prefix.group(3)) < 1:
        raise ValueError(
            "a blocking key must be a column name or 'substr(column, start, length)' "
            "with start and length at least 1"
        )
    return prefix.group(1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComparisonSpec(_Strict):
    """One compared column and how its agreement is graded into levels.

    Methods (levels from strongest to weakest, then "else"; a null on either side is its own
    level and is neutral):

    - ``exact``: exact match.
    - ``name``: exact, Jaro-Winkler > 0.92, > 0.88, > 0.7 (``thresholds`` overrides).
    - ``exact``, ``name`` and ``jaro_winkler`` with ``swapped_with``: a level "swapped with
      <column>" right after the exact one (both columns equal crosswise).
    - ``date`` (ISO ``YYYY-MM-DD`` strings; unparsable ones count as null): exact, one typo
      (Damerau-Levenshtein <= 1), same year and month, within a year.
    - ``levenshtein`` / ``damerau_levenshtein``: exact, distance <= each threshold (default 1, 2).
    - ``jaro_winkler``: exact, similarity > each threshold (default 0.9, 0.7).
    - ``postcode``: exact, one typo, same first 3 characters.
    - ``email``: exact, same user name, Jaro-Winkler > 0.88 on the address, on the user name.
    - ``phone``: exact, same last 8 digits, one typo.
    """

    column: str = Field(description="Column of the records table that is compared")
    method: ComparisonMethod = Field(description="How agreement is graded (see the class doc)")
    term_frequency: bool = Field(
        default=False,
        description="Term-frequency adjustment of the exact level: agreeing on a rare value "
        "counts more than agreeing on a common one",
    )
    thresholds: list[float] | None = Field(
        default=None,
        description="Levels of the similarity methods (name, jaro_winkler: similarities in "
        "(0, 1), strongest first; levenshtein, damerau_levenshtein: whole distances, smallest "
        "first); absent for the method's defaults",
    )

    swapped_with: str | None = Field(
        default=None,
        description="Another column this one is often swapped with (given name and surname): "
        "adds the level 'swapped with <column>' after the exact one (methods exact, name, "
        "jaro_winkler)",
    )

    @field_validator("column", "swapped_with")
    @classmethod
    def _plain_column(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not _COLUMN.match(value):
            raise ValueError("column must be a plain column name (letters, digits, underscore)")
        return value

    @model_validator(mode="after")
    def _swap_fits(self) -> ComparisonSpec:
        if self.swapped_with is None:
            return self
        if self.method not in ("exact", "name", "jaro_winkler"):
            raise ValueError(f"swapped_with: method {self.method!r} has no swapped level")
        if self.swapped_with == self.column:
            raise ValueError("swapped_with: must name another column")
        return self

    @model_validator(mode="after")
    def _thresholds_fit(self) -> ComparisonSpec:
        if self.thresholds is None:
            return self
        if self.method in ("name", "jaro_winkler"):
            if not self.thresholds or not all(0 < t < 1 for t in self.thresholds):
                raise ValueError("thresholds: similarities must lie strictly between 0 and 1")
        elif self.method in ("levenshtein", "damerau_levenshtein"):
            if not self.thresholds or not all(t >= 1 and t == int(t) for t in self.thresholds):
                raise ValueError("thresholds: distances must be whole numbers of at least 1")
        else:
            raise ValueError(f"thresholds: method {self.method!r} takes no thresholds")
        return self


def _check_rules(field: str, rules: list[list[str]]) -> list[list[str]]:
    for number, rule in enumerate(rules):
        if not rule:
            raise ValueError(f"{field}[{number}]: a rule needs at least one key")
        for key in rule:
            try:
                blocking_key_column(key)
            except ValueError as err:
                raise ValueError(f"{field}[{number}]: {err}") from None
    return rules


class ProbabilisticSpec(_Strict):
    """A Fellegi-Sunter model, declared: comparisons, blocking, unsupervised training, threshold."""

    enabled: bool = Field(default=True, description="Run probabilistic matching at all")
    comparisons: list[ComparisonSpec] = Field(
        min_length=1, description="Compared columns; each column at most once"
    )
    blocking_rules: list[list[str]] = Field(
        min_length=1,
        description="Candidate pairs for scoring: records equal on every key of at least one rule",
    )
    training_blocking_rules: list[list[str]] = Field(
        min_length=1,
        description="One EM training pass per rule (the comparisons in a rule are not trained "
        "by its pass, so use rules on different columns)",
    )
    deterministic_rules: list[list[str]] = Field(
        min_length=1,
        description="Rules that admit almost no false matches; with ``recall`` they estimate "
        "the probability that two random records match",
    )
    recall: float = Field(
        default=0.7,
        gt=0,
        le=1,
        description="Estimated share of true matches that the deterministic rules find",
    )
    match_threshold: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="Match probability at or above which a pair becomes an identity edge",
    )
    max_pairs_for_u: int = Field(
        default=1_000_000,
        ge=1_000,
        description="Random pairs sampled to estimate the u probabilities (non-match agreement)",
    )
    max_pairs_for_em: int | None = Field(
        default=None,
        ge=1_000,
        description="At most about this many blocked pairs per EM pass (a deterministic hash "
        "sample of the records); absent to train on every blocked pair",
    )
    max_pairs_per_chunk: int = Field(
        default=20_000_000,
        ge=100,
        description="A full scoring run is split into chunks of about this many blocked pairs "
        "(records hashed into n groups, n x n chunks), so memory stays bounded on loose rules",
    )
    seed: int = Field(default=42, ge=0, description="Seed of the random sampling (reproducible)")

    @field_validator("blocking_rules")
    @classmethod
    def _blocking(cls, value: list[list[str]]) -> list[list[str]]:
        return _check_rules("blocking_rules", value)

    @field_validator("training_blocking_rules")
    @classmethod
    def _training(cls, value: list[list[str]]) -> list[list[str]]:
        return _check_rules("training_blocking_rules", value)

    @field_validator("deterministic_rules")
    @classmethod
    def _deterministic(cls, value: list[list[str]]) -> list[list[str]]:
        return _check_rules("deterministic_rules", value)

    @field_validator("comparisons")
    @classmethod
    def _distinct_columns(cls, value: list[ComparisonSpec]) -> list[ComparisonSpec]:
        seen: set[str] = set()
        for comparison in value:
            if comparison.column in seen:
                raise ValueError(f"comparisons: column {comparison.column!r} is compared twice")
            seen.add(comparison.column)
        return value

    def columns(self) -> list[str]:
        """Every column the spec reads (comparisons first, then blocking keys), once each."""
        names = [c.column for c in self.comparisons]
        names.extend(c.swapped_with for c in self.comparisons if c.swapped_with)
        for rules in (self.blocking_rules, self.training_blocking_rules, self.deterministic_rules):
            names.extend(blocking_key_column(key) for rule in rules for key in rule)
        return list(dict.fromkeys(names))

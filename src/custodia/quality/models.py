"""Quality rule specs: what a rule file may say, validated with errors that name the field.

A rule file (``HOME/quality/rules.yaml``) lists rules; each names a canonical table, a column
where it needs one, and a ``check``. The check decides the SQL the rule compiles to
(:mod:`custodia.quality.rule_sql`) and its default quality dimension:

==================  ==============  =====================================================
check               dimension       fails when
==================  ==============  =====================================================
not_null            completeness    the column is null or blank
unique              uniqueness      the columns' value is shared with another row
regex / format      validity        a non-null value does not match (formats: cn_mobile, ...)
accepted_values     validity        a non-null value is not in ``values``
range               validity        a non-null value is below ``min`` or above ``max``
references          consistency     a non-null value has no row in ``references`` table.column
match               consistency     the value differs from the joined row of another table
max_per_key         consistency     a key has more than ``max`` distinct values of the column
freshness           timeliness      a source's newest row is older than ``max_age``
volume              timeliness      a period's row count falls outside ``min_ratio``..``max_ratio``
                                    of the median of the ``lookback`` periods before it
custom_sql          (given)         the ``sql`` query's ``failed`` count, out of ``checked``
==================  ==============  =====================================================

Rules marked ``at_entry`` also run on each record as it is collected
(:mod:`custodia.quality.entry`), with an action: ``reject``, ``quarantine`` or ``flag``.

Example::

    rules = RuleSet.model_validate({"rules": [
        {"name": "phone_format", "table": "customer_records", "column": "phone",
         "check": "format", "format": "cn_mobile", "threshold": {"max_failure_rate": 0.05}}]})
    rules.rules[0].dimension      # Dimension.VALIDITY
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from custodia.core.durations import parse_duration
from custodia.quality.formats import FORMATS

__all__ = [
    "ActionSpec",
    "AlertSettings",
    "Dimension",
    "EntryAction",
    "EntrySpec",
    "HighValueSpec",
    "Rule",
    "RuleSet",
    "Severity",
    "Threshold",
    "parse_duration",
]

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,79}$"


class Dimension(StrEnum):
    """The quality dimensions scores are reported in."""

    COMPLETENESS = "completeness"
    VALIDITY = "validity"
    UNIQUENESS = "uniqueness"
    CONSISTENCY = "consistency"
    TIMELINESS = "timeliness"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class EntryAction(StrEnum):
    """What happens at collection time to a record that breaks an ``at_entry`` rule.

    ``reject``: refused (HTTP 400 for single calls; kept in the quarantine, open, for batches and
    files); ``quarantine``: not stored, kept in the quarantine until replayed; ``flag``: stored,
    with a flagged quarantine entry saying what is wrong.
    """

    REJECT = "reject"
    QUARANTINE = "quarantine"
    FLAG = "flag"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntrySpec(_Spec):
    action: EntryAction = EntryAction.QUARANTINE


class Threshold(_Spec):
    """When a rule's result is bad enough to raise an alert (one of the two bounds, or both)."""

    max_failure_rate: float | None = Field(default=None, ge=0, le=1)
    max_failed: int | None = Field(default=None, ge=0)
    per_source: bool = False
    """Judge each source on its own (one alert per source) instead of the table as a whole."""

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if self.max_failure_rate is None and self.max_failed is None:
            raise ValueError("give max_failure_rate (0..1) or max_failed")
        return self


class ActionSpec(_Spec):
    """What to do when the rule's alert opens, besides storing it and calling the webhook.

    ``review``: open review tasks for failing rows of high-value customers;
    ``rerun_load``: run the last load of ``source`` again (e.g. a partial upload);
    ``webhook``: post to ``url`` (on top of the rule file's alert webhook).
    """

    type: Literal["review", "rerun_load", "webhook"]
    source: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> ActionSpec:
        if self.type == "rerun_load" and not self.source:
            raise ValueError("rerun_load needs a source")
        if self.type == "webhook" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("webhook needs an http(s) url")
        return self


class _RuleBase(_Spec):
    name: str = Field(pattern=NAME_PATTERN)
    table: str
    description: str = ""
    severity: Severity = Severity.WARNING
    where: str | None = None
    """A SQL condition on the table's columns: only rows where it holds are checked."""
    dimension: Dimension | None = None
    threshold: Threshold | None = None
    actions: tuple[ActionSpec, ...] = ()
    owner: str | None = None
    at_entry: EntrySpec | None = None
    """Also check each record as it is collected (HTTP and connectors), with this action."""
    line: int | None = Field(default=None, exclude=True)
    """Line of the rule in its file (set by the loader, for error messages)."""

    @model_validator(mode="after")
    def _entry_check(self) -> _RuleBase:
        check = getattr(self, "check", "")
        if self.at_entry is not None and check not in ENTRY_CHECKS:
            raise ValueError(f"at_entry works for {', '.join(sorted(ENTRY_CHECKS))}, not {check}")
        return self

    @property
    def measured_dimension(self) -> Dimension:
        return self.dimension or DEFAULT_DIMENSION[self.check]  # type: ignore[attr-defined]

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of ``table`` the rule reads (checked against the table's schema)."""
        column = getattr(self, "column", None)
        return (column,) if column else ()

    @property
    def scored_column(self) -> str:
        """The column the rule's result counts for in column scores ('' for table-level)."""
        return self.columns[0] if len(self.columns) == 1 else ""


class NotNullRule(_RuleBase):
    check: Literal["not_null"]
    column: str
    blank_is_null: bool = True


class UniqueRule(_RuleBase):
    check: Literal["unique"]
    column: str | None = None
    key: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_of(self) -> UniqueRule:
        if not self.column and not self.key:
            raise ValueError("unique needs a column or a key (list of columns)")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key or ((self.column,) if self.column else ())


class RegexRule(_RuleBase):
    check: Literal["regex"]
    column: str
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc.msg})") from None
        return value


class FormatRule(_RuleBase):
    check: Literal["format"]
    column: str
    format: str

    @field_validator("format")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"unknown format; known: {', '.join(sorted(FORMATS))}")
        return value


class AcceptedValuesRule(_RuleBase):
    check: Literal["accepted_values"]
    column: str
    values: tuple[str | int | float, ...] = Field(min_length=1)


class RangeRule(_RuleBase):
    check: Literal["range"]
    column: str
    min: float | str | None = None
    max: float | str | None = None

    @model_validator(mode="after")
    def _bounded(self) -> RangeRule:
        if self.min is None and self.max is None:
            raise ValueError("range needs min, max or both")
        return self


class ReferencesRule(_RuleBase):
    check: Literal["references"]
    column: str
    references: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    """``table.column`` every value must exist in."""


class MatchRule(_RuleBase):
    check: Literal["match"]
    column: str
    other: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    """``table.column`` holding the value that must agree."""
    join: dict[str, str] = Field(min_length=1)
    """Join keys: this table's column -> the other table's column."""
    normalize: tuple[Literal["trim", "lower", "nfc", "no_spaces", "digits"], ...] = ("trim",)


class MaxPerKeyRule(_RuleBase):
    check: Literal["max_per_key"]
    column: str
    key: tuple[str, ...] = Field(min_length=1)
    max: int = Field(ge=1)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self.key)


class FreshnessRule(_RuleBase):
    check: Literal["freshness"]
    column: str | None = None
    """Timestamp column (default: the table's time column)."""
    max_age: str

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class VolumeRule(_RuleBase):
    check: Literal["volume"]
    column: str | None = None
    """Timestamp column whose period is counted (default: the table's time column)."""
    by: tuple[str, ...] = ()
    """Extra columns to count separately besides the source (e.g. store_id)."""
    period: Literal["day", "week", "month"] = "day"
    lookback: int = Field(default=14, ge=3, le=366)
    """Periods before each judged one whose median is the expected count."""
    window: int = Field(default=7, ge=1, le=366)
    """The most recent periods (of the data) that are judged."""
    min_ratio: float = Field(default=0.5, ge=0)
    max_ratio: float | None = Field(default=None, gt=1)
    max_p_value: float = Field(default=0.01, gt=0, le=1)
    """A count is an anomaly only if it is also this unlikely under a Poisson law with the
    expected mean, so small counts do not raise noise."""

    @property
    def columns(self) -> tuple[str, ...]:
        return ((self.column,) if self.column else ()) + self.by

    @property
    def scored_column(self) -> str:
        return ""


class CustomSqlRule(_RuleBase):
    check: Literal["custom_sql"]
    sql: str
    """A read-only query returning ``checked`` and ``failed`` counts, optionally per ``source``
    and ``day``."""

    @model_validator(mode="after")
    def _dimension_given(self) -> CustomSqlRule:
        if self.dimension is None:
            raise ValueError("custom_sql needs a dimension")
        return self


Rule = Annotated[
    NotNullRule
    | UniqueRule
    | RegexRule
    | FormatRule
    | AcceptedValuesRule
    | RangeRule
    | ReferencesRule
    | MatchRule
    | MaxPerKeyRule
    | FreshnessRule
    | VolumeRule
    | CustomSqlRule,
    Field(discriminator="check"),
]

DEFAULT_DIMENSION: dict[str, Dimension] = {
    "not_null": Dimension.COMPLETENESS,
    "unique": Dimension.UNIQUENESS,
    "regex": Dimension.VALIDITY,
    "format": Dimension.VALIDITY,
    "accepted_values": Dimension.VALIDITY,
    "range": Dimension.VALIDITY,
    "references": Dimension.CONSISTENCY,
    "match": Dimension.CONSISTENCY,
    "max_per_key": Dimension.CONSISTENCY,
    "freshness": Dimension.TIMELINESS,
    "volume": Dimension.TIMELINESS,
}

ENTRY_CHECKS = frozenset({"not_null", "regex", "format", "accepted_values", "range"})
"""Checks that judge one record alone, so they can run at entry."""


class AlertSettings(_Spec):
    webhook: str | None = None
    """URL that receives every alert opening and resolving (JSON POST)."""
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("webhook")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("webhook must be an http(s) url")
        return value


class HighValueSpec(_Spec):
    """Which customers count as high value: their anomalies wait for a data steward."""

    table: Literal["profiles"] = "profiles"
    where: str = "member_level is not null"


class RuleSet(_Spec):
    """A whole rule file."""

    version: Literal[1] = 1
    rules: tuple[Rule, ...] = ()
    alerts: AlertSettings = AlertSettings()
    high_value: HighValueSpec = HighValueSpec()
    dimension_weights: dict[Dimension, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name} is used twice")
            seen.add(rule.name)
        return self

    def rule(self, name: str) -> Any:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

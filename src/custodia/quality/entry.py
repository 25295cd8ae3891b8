"""Entry validation: the ``at_entry`` rules of a table as Python checks on one record at a time.

The HTTP collector and the connectors call :meth:`EntryValidator.check` on every record they
take in, so it is compiled once per rule set and kept cheap: each rule becomes a small closure
with its pattern compiled and its bounds converted to the column's type, and the checks are
grouped by the column they read, so a JSON document (``traits``) is decoded once per record
however many rules look inside it. A record that passes allocates nothing but the empty list.

A check judges a value the way the rule's SQL does (:mod:`custodia.quality.rule_sql`), so a
record refused at entry is one the quality run would count as failed:

- ``not_null``: fails on null (and blank text, unless ``blank_is_null: false``);
- ``regex`` / ``format``: a present value must match the whole pattern (ASCII classes, as RE2);
- ``accepted_values``: a present value must be one of ``values``;
- ``range``: a present value must lie within ``min``/``max`` (dates and times as such; inside
  JSON, numeric bounds compare numbers and text that is not a number is not checked).

A value inside a JSON column (``traits.phone``) is read as the engines' ``json_extract_string``
reads it: text as is, numbers and booleans as their JSON text, a missing key or ``null`` as null.

Each broken rule gives an :class:`EntryViolation` whose reason names the field and the rule,
never the value (it ends up in HTTP replies and the quarantine).

Example::

    validator = entry_validator(ruleset, "customer_records")
    validator.check({"phone": "1380013800", "email": "a@b.cn"})
    # [EntryViolation(rule='customer_phone_format', field='phone', action=<EntryAction.FLAG>,
    #   reason='phone: violates rule customer_phone_format (not in format cn_mobile)')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import msgspec
import pyarrow as pa
import sqlglot
from sqlglot import exp

from custodia.core.tables import TableSpec, table_spec
from custodia.quality.entry_where import Condition, compile_where
from custodia.quality.formats import FORMATS
from custodia.quality.models import EntryAction, RuleSet
from custodia.quality.rule_columns import split_column

__all__ = [
    "EntryValidator",
    "EntryViolation",
    "entry_problem",
    "entry_validator",
    "entry_validators",
]

_JSON: Final = msgspec.json.Decoder()
Test = Callable[[Any], bool]
"""True when a value passes the rule."""


@dataclass(frozen=True, slots=True)
class EntryViolation:
    """One ``at_entry`` rule a record breaks, and what to do with the record."""

    rule: str
    field: str
    action: EntryAction
    reason: str

    @property
    def blocks(self) -> bool:
        """Whether the record must be kept out (reject or quarantine), not stored and flagged."""
        return self.action is not EntryAction.FLAG


@dataclass(frozen=True, slots=True)
class _Check:
    path: tuple[str, ...]
    passes: Test
    violation: EntryViolation
    applies: Condition | None = None
    """The rule's ``where`` condition: the record is judged only where it is true."""
    scope: frozenset[str] = frozenset()
    """Columns the condition reads."""


@dataclass(frozen=True, slots=True)
class _ColumnChecks:
    """The checks that read one column of the record (``json``: they look inside it)."""

    column: str
    json: bool
    checks: tuple[_Check, ...]


class EntryValidator:
    """The ``at_entry`` rules of one table, compiled; :meth:`check` judges one record."""

    def __init__(self, table: str, rules: Sequence[Any]) -> None:
        spec = table_spec(table)
        self.table = table
        self.rules = tuple(rules)
        grouped: dict[str, list[_Check]] = {}
        for rule in self.rules:
            head, path = split_column(rule.column)
            grouped.setdefault(head, []).append(_compile(spec, rule, path))
        self._groups = tuple(
            _ColumnChecks(head, any(c.path for c in checks), tuple(checks))
            for head, checks in grouped.items()
        )
        scopes = [c for checks in grouped.values() for check in checks for c in check.scope]
        self.columns: tuple[str, ...] = tuple(dict.fromkeys([*grouped, *scopes]))
        """The record's columns the rules read (JSON columns as a whole, ``where`` columns)."""
        self.applies_to_types: frozenset[str] | None = _types_judged(self.rules)
        """The ``type`` values a record must have for any rule to judge it (None: any record
        may be judged): lets the collector skip e.g. track events when every rule is on
        identify calls, without building their columns."""

    def check(self, record: Mapping[str, Any]) -> list[EntryViolation]:
        """The rules ``record`` breaks (empty when it passes). ``record`` maps column names to
        values; a JSON column may be a dict or JSON text (str or UTF-8 bytes)."""
        found: list[EntryViolation] = []
        for group in self._groups:
            value = record.get(group.column)
            document = _document(value) if group.json else None
            for check in group.checks:
                if check.applies is not None and check.applies(record) is not True:
                    continue
                seen = _at(document, check.path) if check.path else value
                if not check.passes(seen):
                    found.append(check.violation)
        return found

    def only(self, columns: Collection[str]) -> EntryValidator | None:
        """The rules that read only ``columns`` (None: none do), e.g. those the HTTP collector
        can judge before a message is normalized."""
        spec = table_spec(self.table)
        kept = [
            rule
            for rule in self.rules
            if split_column(rule.column)[0] in columns
            and (not rule.where or compile_where(rule.where, spec)[1] <= set(columns))
        ]
        return EntryValidator(self.table, kept) if kept else None


def _types_judged(rules: Sequence[Any]) -> frozenset[str] | None:
    """The union of the ``type`` values each rule's ``where`` requires (a conjunct
    ``type = 'x'`` or ``type IN (...)``), or None when some rule does not require one."""
    found: set[str] = set()
    for rule in rules:
        values = _required_values(rule.where, "type") if rule.where else None
        if values is None:
            return None
        found |= values
    return frozenset(found)


def _required_values(where: str, column: str) -> set[str] | None:
    try:
        tree = sqlglot.parse_one(where, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    conjuncts = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    for part in conjuncts:
        if isinstance(part, exp.EQ | exp.In) and _is_column(part.this, column):
            literals = [part.expression] if isinstance(part, exp.EQ) else part.expressions
            if literals and all(isinstance(v, exp.Literal) and v.is_string for v in literals):
                return {str(v.this).lower() for v in literals}
    return None


def _is_column(node: exp.Expression, column: str) -> bool:
    return isinstance(node, exp.Column) and node.name == column and not node.table


def entry_validators(ruleset: RuleSet) -> dict[str, EntryValidator]:
    """One validator per table that has ``at_entry`` rules."""
    by_table: dict[str, list[Any]] = {}
    for rule in ruleset.rules:
        if rule.at_entry is not None:
            by_table.setdefault(rule.table, []).append(rule)
    return {table: EntryValidator(table, rules) for table, rules in by_table.items()}


def entry_validator(ruleset: RuleSet, table: str) -> EntryValidator | None:
    """The validator of ``table`` (None: no ``at_entry`` rule on it, nothing to check)."""
    return entry_validators(ruleset).get(table)


def entry_problem(rule: Any) -> str | None:
    """Why an ``at_entry`` rule cannot run at entry (None: it can). Checked when a rule file is
    read, so a rule that cannot run is refused with its file and line."""
    if rule.at_entry is None:
        return None
    try:
        _compile(table_spec(rule.table), rule, split_column(rule.column)[1])
    except ValueError as exc:
        return str(exc)
    return None


# -- compiling one rule ---------------------------------------------------------------------------


def _compile(spec: TableSpec, rule: Any, path: tuple[str, ...]) -> _Check:
    kind = pa.string() if path else spec.column(split_column(rule.column)[0]).type
    builders: dict[str, Callable[[Any, pa.DataType, bool], tuple[Test, str]]] = {
        "not_null": _not_null,
        "regex": _regex,
        "format": _regex,
        "accepted_values": _accepted,
        "range": _range,
    }
    passes, what = builders[rule.check](rule, kind, bool(path))
    assert rule.at_entry is not None
    reason = f"{rule.column}: violates rule {rule.name} ({what})"
    violation = EntryViolation(rule.name, rule.column, rule.at_entry.action, reason)
    if not rule.where:
        return _Check(path, passes, violation)
    applies, scope = compile_where(rule.where, spec)
    return _Check(path, passes, violation, applies, scope)


def _not_null(rule: Any, kind: pa.DataType, in_json: bool) -> tuple[Test, str]:
    if not rule.blank_is_null:
        return (lambda v: v is not None), "is missing"

    def passes(value: Any) -> bool:
        return value is not None and not (isinstance(value, str) and value.strip(" ") == "")

    return passes, "is missing or blank"


def _regex(rule: Any, kind: pa.DataType, in_json: bool) -> tuple[Test, str]:
    if rule.check == "format":
        pattern, what = FORMATS[rule.format].pattern, f"not in format {rule.format}"
    else:
        pattern, what = rule.pattern, "does not match the pattern"
    fullmatch = re.compile(pattern, re.ASCII).fullmatch  # RE2: \d, \w, \s are ASCII

    def passes(value: Any) -> bool:
        if value is None:
            return True
        return fullmatch(value if type(value) is str else _text(value)) is not None

    return passes, what


def _accepted(rule: Any, kind: pa.DataType, in_json: bool) -> tuple[Test, str]:
    if in_json:
        texts = frozenset(v if isinstance(v, str) else _text(v) for v in rule.values)
        return (lambda v: v is None or _text(v) in texts), "not an accepted value"
    accepted = frozenset(rule.values)
    return (lambda v: v is None or v in accepted), "not an accepted value"


def _range(rule: Any, kind: pa.DataType, in_json: bool) -> tuple[Test, str]:
    as_value = _bound_converter(rule, kind, in_json)
    low = None if rule.min is None else as_value(rule.min)
    high = None if rule.max is None else as_value(rule.max)
    numeric = in_json and not isinstance(rule.min if rule.min is not None else rule.max, str)

    def passes(value: Any) -> bool:
        if value is None:
            return True
        if numeric:
            value = _number(value)
            if value is None:
                return True
        elif in_json:
            value = _text(value)
        return not ((low is not None and value < low) or (high is not None and value > high))

    what = f"outside {'' if rule.min is None else rule.min}..{'' if rule.max is None else rule.max}"
    return passes, what


def _bound_converter(rule: Any, kind: pa.DataType, in_json: bool) -> Callable[[Any], Any]:
    """How a bound of the rule file becomes comparable with the column's values."""
    if in_json:
        return lambda v: v if isinstance(v, str) else float(v)
    if pa.types.is_timestamp(kind):
        return _instant
    if pa.types.is_date(kind):
        return lambda v: date.fromisoformat(str(v))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return str
    if isinstance(rule.min, str) or isinstance(rule.max, str):
        raise ValueError(f"column {rule.column} needs a number, not text")
    return float


def _instant(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


# -- reading values -------------------------------------------------------------------------------


def _document(value: Any) -> Any:
    """A JSON column's value as Python: dicts as they are, JSON text decoded (None if it is not
    JSON: nothing inside it can be read)."""
    if value is None or isinstance(value, dict):
        return value
    try:
        return _JSON.decode(value)
    except (TypeError, msgspec.DecodeError, RecursionError):
        return None


def _at(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _text(value: Any) -> str:
    """A JSON value as ``json_extract_string`` gives it: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _number(value: Any) -> float | None:
    """A JSON value as ``TRY_CAST(... AS DOUBLE)`` sees it (None: not a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None

"""Reading a quality rule file: YAML in, a checked :class:`RuleSet` out, or an error naming the
file, the line and the rule.

Beyond the shape (pydantic), every rule is checked against the canonical model in
:mod:`custodia.core.tables`: the table must exist, every column it names must be one of the
table's columns, ``references``/``other`` must name a table and column, and the ``where``
condition must parse as SQL and name only the table's columns. So a typo fails when the file
is read, not in the middle of a run.

Example::

    rules = load_rule_file(Path("quality/rules.yaml"))
    # ValidationError: rules.yaml line 14, rule phone_format: column 'phnoe' is not a column of
    # customer_records
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pydantic
import sqlglot
from sqlglot import exp

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import TableSpec, table_spec
from custodia.core.yaml_document import item_error, item_lines, load_yaml_mapping
from custodia.quality.entry import entry_problem
from custodia.quality.models import ENTRY_CHECKS, RuleSet
from custodia.quality.rule_columns import is_json_column, split_column
from custodia.quality.rule_sql import compile_rules

__all__ = ["load_rule_file", "parse_rules"]


def parse_rules(text: str, *, origin: str = "rules") -> RuleSet:
    """Validate rule-file text; the first problem raises a ValidationError naming line and rule."""
    document, lines = _load_yaml(text, origin)
    try:
        ruleset = RuleSet.model_validate(document)
    except pydantic.ValidationError as exc:
        raise item_error(
            exc, document, {"rules": lines}, origin=origin, fallback="rules", tag_of=_check_of
        ) from None
    located = tuple(
        rule.model_copy(update={"line": line})
        for rule, line in zip(ruleset.rules, lines, strict=False)
    )
    ruleset = ruleset.model_copy(update={"rules": located})
    for rule in ruleset.rules:
        _check_against_model(rule, origin)
    return ruleset


def load_rule_file(path: Path) -> RuleSet:
    """Read and check a rule file (UTF-8)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError("rules", "exists", f"rule file {path.name} not found") from None
    except UnicodeDecodeError:
        raise ValidationError("rules", "utf8", f"{path.name}: not UTF-8 text") from None
    return parse_rules(text, origin=path.name)


def _load_yaml(text: str, origin: str) -> tuple[dict[str, Any], list[int]]:
    """The document and, for each item of ``rules``, the line it starts on (1-based)."""
    document, node = load_yaml_mapping(text, origin=origin, field="rules")
    return document, item_lines(node, "rules")


def _check_of(rule: Mapping[str, Any]) -> str | None:
    """A rule's ``check``: the tag pydantic puts in the path of a rule's problem."""
    check = rule.get("check")
    return check if isinstance(check, str) else None


def _check_against_model(rule: Any, origin: str) -> None:
    where = f"{origin}{f' line {rule.line}' if rule.line else ''}, rule {rule.name}"
    spec = _table(rule.table, "table", where)
    _known_columns(spec, rule.columns, where, json_paths=rule.check in ENTRY_CHECKS)
    for attr in ("references", "other"):
        target = getattr(rule, attr, None)
        if target:
            table, column = target.split(".", 1)
            _known_columns(_table(table, attr, where), [column], where, field=attr)
    join = getattr(rule, "join", None)
    if join:
        other = _table(rule.other.split(".", 1)[0], "other", where)
        _known_columns(spec, join.keys(), where, field="join")
        _known_columns(other, join.values(), where, field="join")
    if rule.where:
        _known_columns(spec, _condition_columns(rule.where, where), where, field="where")
    if rule.check == "custom_sql":
        _check_query(rule.sql, where)
    try:
        compile_rules([rule])
    except ValueError as exc:
        raise ValidationError("rule", "compiles", f"{where}: {exc}") from None
    problem = entry_problem(rule)
    if problem is not None:
        raise ValidationError("at_entry", "entry_check", f"{where}: {problem}")


def _check_query(sql: str, where: str) -> None:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        raise ValidationError("sql", "sql", f"{where}: sql is not a valid query") from None
    if not isinstance(tree, exp.Query):
        raise ValidationError("sql", "query", f"{where}: sql must be a SELECT query")


def _table(name: str, field: str, where: str) -> TableSpec:
    try:
        return table_spec(name)
    except TableNotFoundError as exc:
        raise ValidationError(field, "known_table", f"{where}: {exc}") from None


def _known_columns(
    spec: TableSpec,
    columns: Iterable[str],
    where: str,
    *,
    field: str = "column",
    json_paths: bool = False,
) -> None:
    """Every column must be the table's; with ``json_paths``, ``column.key`` inside a JSON
    column is fine too (rules that judge one value: see :mod:`custodia.quality.rule_columns`)."""
    for column in columns:
        if column in spec.column_names:
            continue
        if json_paths and "." in column:
            _known_json_path(spec, column, where, field)
            continue
        raise ValidationError(
            field,
            "known_column",
            f"{where}: '{column}' is not a column of {spec.name}",
        )


def _known_json_path(spec: TableSpec, column: str, where: str, field: str) -> None:
    try:
        head, _ = split_column(column)
    except ValueError as exc:
        raise ValidationError(field, "json_path", f"{where}: {exc}") from None
    if not is_json_column(spec, head):
        raise ValidationError(
            field,
            "known_column",
            f"{where}: '{column}': {head} is not a JSON column of {spec.name}",
        )


def _condition_columns(condition: str, where: str) -> list[str]:
    try:
        tree = sqlglot.parse_one(condition, read="duckdb")
    except sqlglot.errors.ParseError:
        raise ValidationError("where", "sql", f"{where}: where is not a SQL condition") from None
    if isinstance(tree, exp.Query) or tree.find(exp.Select):
        raise ValidationError("where", "sql", f"{where}: where must be a condition, not a query")
    return [col.name for col in tree.find_all(exp.Column)]

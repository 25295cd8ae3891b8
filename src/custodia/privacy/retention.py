"""The retention policy: how long rows of each data category may be kept, at most.

A rule names a **category** (a group of tables, :data:`ROW_CATEGORIES`) or one **table**, and a
maximum age in days, measured by the table's ``time_column`` in :mod:`custodia.core.tables`
(order lines by their order's time). Older rows are deleted, or, with ``columns:``, only those
personal columns are cleared and the rows kept (a ticket's text goes, its tags stay). Several
rules on one table are each a maximum: the shortest applies.

**Purpose link.** A rule may name a consent ``purpose`` and a shorter
``max_age_days_if_withdrawn``: rows of people whose latest choice for that purpose is a
withdrawal are kept that long only (marketing touchpoints: a year, 30 days once marketing
consent is withdrawn). Data kept for other reasons (orders for the books) has no purpose link.

Customer master data (records, golden profiles, identifiers) has no age limit here: it is
removed per person, by an erasure or by the customer's own expiry
(:mod:`custodia.privacy.user_expiry`), which the same job enforces.

The shipped policy is ``retention.yaml`` beside this module; a workspace replaces it with
``HOME/privacy/retention.yaml``. Errors name the file, the line and the rule, never a value.

Example::

    policy = parse_retention_policy(shipped_retention_text(), origin="retention.yaml")
    policy.rules_for("events")[0].max_age_days      # 730
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import table_spec
from custodia.core.yaml_document import item_lines, load_yaml_mapping
from custodia.privacy.consent import Purpose
from custodia.privacy.user_expiry import EXPIRY_CATEGORIES

__all__ = [
    "RETENTION_PATH",
    "ROW_CATEGORIES",
    "RetentionPolicy",
    "RetentionRule",
    "load_retention_file",
    "parse_retention_policy",
    "shipped_retention_text",
]

RETENTION_PATH: Final = Path("privacy") / "retention.yaml"
"""The workspace's retention policy, relative to HOME."""

ROW_CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "behaviour": ("events", "touchpoints"),
    "transactions": ("orders", "order_lines", "deliveries"),
    "service": ("interactions",),
    "raw_landing": ("source_records_raw",),
    "quarantine": ("quarantine",),
}
"""Category -> the tables whose rows an age rule removes (the row categories of the customer
expiry, plus the raw landing zone and the quarantine)."""

AGE_TABLES: Final = tuple(sorted({t for tables in ROW_CATEGORIES.values() for t in tables}))
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MAX_DAYS: Final = 36500


class RetentionRule(BaseModel):
    """One maximum age for the rows (or some personal columns) of a category or table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    category: str | None = None
    table: str | None = None
    max_age_days: int = Field(ge=0, le=_MAX_DAYS)
    columns: tuple[str, ...] = ()
    purpose: Purpose | None = None
    max_age_days_if_withdrawn: int | None = Field(default=None, ge=0, le=_MAX_DAYS)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not _NAME.fullmatch(self.name):
            raise ValueError("name: snake_case, starting with a letter")
        _check_target(self.category, self.table)
        for table in self.tables:
            _check_columns(table, self.columns)
        if (self.purpose is None) != (self.max_age_days_if_withdrawn is None):
            raise ValueError("purpose and max_age_days_if_withdrawn go together")
        withdrawn = self.max_age_days_if_withdrawn
        if withdrawn is not None and withdrawn > self.max_age_days:
            raise ValueError("max_age_days_if_withdrawn: must not exceed max_age_days")
        return self

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the rule covers."""
        return ROW_CATEGORIES[self.category] if self.category else (str(self.table),)


class RetentionPolicy(BaseModel):
    """The rules in force, in file order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[RetentionRule, ...] = ()

    def rules_for(self, table: str) -> list[RetentionRule]:
        """The rules that cover ``table``."""
        return [rule for rule in self.rules if table in rule.tables]

    def as_rows(self) -> list[dict[str, Any]]:
        """One row per rule and table, for listings."""
        return [
            {"rule": r.name, "table": t, "category": r.category, "max_age_days": r.max_age_days,
             "columns": list(r.columns), "purpose": r.purpose and r.purpose.value,
             "max_age_days_if_withdrawn": r.max_age_days_if_withdrawn}
            for r in self.rules
            for t in r.tables
        ]  # fmt: skip


def parse_retention_policy(text: str, *, origin: str) -> RetentionPolicy:
    """The checked policy; a ValidationError names ``origin``, the line and the rule."""
    document, node = load_yaml_mapping(text, origin=origin, field="retention")
    unknown = sorted(set(document) - {"rules"})
    if unknown:
        raise ValidationError(
            "retention", "sections", f"{origin}: unknown sections {unknown}; known: ['rules']"
        )
    raw = document.get("rules") or []
    if not isinstance(raw, list):
        raise ValidationError("rules", "list", f"{origin}: 'rules' must be a list")
    lines = item_lines(node, "rules")
    rules: list[RetentionRule] = []
    for index, item in enumerate(raw):
        line = lines[index] if index < len(lines) else "?"
        rules.append(_rule(item, f"{origin} line {line}: rules[{index}]"))
    _unique_names(rules, origin)
    return RetentionPolicy(rules=tuple(rules))


def load_retention_file(path: Path) -> RetentionPolicy:
    """:func:`parse_retention_policy` of a file (its path is the origin in errors)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            "retention", "readable", f"{path}: cannot be read ({type(exc).__name__})"
        ) from None
    return parse_retention_policy(text, origin=str(path))


def shipped_retention_text() -> str:
    """The policy shipped with Custodia."""
    return resources.files("custodia.privacy").joinpath("retention.yaml").read_text("utf-8")


def _rule(item: object, at: str) -> RetentionRule:
    name = item.get("name") if isinstance(item, dict) else None
    where = f"{at} ({name})" if isinstance(name, str) and _NAME.fullmatch(name) else at
    if not isinstance(item, dict):
        raise ValidationError("rules", "mapping", f"{where}: each rule is a mapping")
    try:
        return RetentionRule.model_validate(item)
    except PydanticError as exc:
        raise ValidationError("rules", "rule", f"{where}: {_reason(exc)}") from None


def _check_target(category: str | None, table: str | None) -> None:
    if (category is None) == (table is None):
        raise ValueError("give exactly one of category and table")
    if category in EXPIRY_CATEGORIES and category not in ROW_CATEGORIES:
        raise ValueError(
            f"category {category} holds a person's fields, which go by erasure or expiry, "
            "not by age"
        )
    if category is not None and category not in ROW_CATEGORIES:
        raise ValueError(f"category: must be one of {', '.join(ROW_CATEGORIES)}")
    if table is not None and table not in AGE_TABLES:
        raise ValueError(f"table: must be one of {', '.join(AGE_TABLES)}")


def _check_columns(table: str, columns: tuple[str, ...]) -> None:
    try:
        spec = table_spec(table)
    except TableNotFoundError:  # pragma: no cover - AGE_TABLES are canonical
        raise ValueError(f"table: unknown {table}") from None
    for column in columns:
        if column not in spec.column_names:
            raise ValueError(f"columns: {table} has no column {column}")
        if not spec.column(column).personal or not spec.column(column).nullable:
            raise ValueError(f"columns: {table}.{column} is not a personal, nullable column")


def _unique_names(rules: list[RetentionRule], origin: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ValidationError("rules", "unique", f"{origin}: rule {rule.name} is named twice")
        seen.add(rule.name)


def _reason(exc: PydanticError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message

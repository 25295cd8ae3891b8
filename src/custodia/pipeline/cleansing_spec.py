"""The cleansing file: which duplicates to remove, which columns to standardize, which gaps to fill.

``<home>/quality/cleansing.yaml`` (the shipped ``cleansing.yaml`` of this package is written there
on first use, for the team to edit). Three sections, run in this order by
:func:`~custodia.pipeline.cleanse_run.run_cleansing`:

``deduplicate``
    rules: a ``table``, the ``key`` columns whose equal values make rows duplicates (``profile_id``
    on ``customer_records`` means "the same person", from identity resolution), ``keep`` (the
    order that picks the surviving row: the first one), an optional ``where`` and the ``action``:
    ``delete`` the other rows from the table, or only ``count`` them.
``standardize``
    per table, ``column: standardizer`` (:mod:`custodia.pipeline.cleansing_standardizers`).
``fill``
    ``columns`` of ``customer_records`` to fill from the golden profile of the same person, and an
    optional ``where``; the result is the curated table ``customer_records_filled``.

Every table, column and ``where`` is checked against :mod:`custodia.core.tables` when the file is
read, and a mistake names the file, the line and the section entry. A broken file keeps the last
valid copy (``cleansing.active.yaml``) in force, as the quality rule file does.

Example::

    in_force = cleansing_in_force(ws)
    in_force.spec.standardize[0].columns     # {'phone': 'cn_mobile', ...}
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pydantic
import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlglot import exp

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import CUSTOMER_RECORDS, PROFILES, TableSpec, table_spec
from custodia.core.yaml_document import load_yaml_mapping
from custodia.pipeline.cleansing_standardizers import STANDARDIZERS
from custodia.pipeline.file_in_force import FileInForce
from custodia.workspace import Workspace

__all__ = [
    "CleansingInForce",
    "CleansingSpec",
    "DedupeRule",
    "FillRule",
    "StandardizeRule",
    "cleansing_in_force",
    "cleansing_path",
    "ensure_cleansing_file",
    "install_cleansing",
    "load_cleansing_file",
    "parse_cleansing",
]

PROFILE_KEY = "profile_id"
"""A key column of ``customer_records`` dedupe rules: the record's profile (the same person)."""
FILL_TABLE = CUSTOMER_RECORDS.name
FILLABLE = tuple(c for c in PROFILES.column_names if c in CUSTOMER_RECORDS.column_names)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DedupeRule(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    table: str
    key: list[str] = Field(min_length=1)
    """Rows with equal (non-null) values in all these columns are duplicates."""
    keep: list[str] = Field(default_factory=list)
    """``column`` or ``column desc``: the first row in this order survives (key breaks ties)."""
    where: str | None = None
    action: Literal["delete", "count"] = "delete"


class StandardizeRule(_Strict):
    table: str
    columns: dict[str, str] = Field(min_length=1)
    """Column name -> standardizer name."""
    where: str | None = None


class FillRule(_Strict):
    table: Literal["customer_records"] = "customer_records"
    columns: list[str] = Field(min_length=1)
    where: str | None = None


class CleansingSpec(_Strict):
    version: Literal[1] = 1
    deduplicate: list[DedupeRule] = Field(default_factory=list)
    standardize: list[StandardizeRule] = Field(default_factory=list)
    fill: FillRule | None = None


@dataclass(frozen=True)
class CleansingInForce:
    spec: CleansingSpec
    origin: str
    """``cleansing.yaml``, ``cleansing.active.yaml`` (last valid copy) or ``shipped``."""
    error: str | None = None


def parse_cleansing(text: str, *, origin: str = "cleansing") -> CleansingSpec:
    """Validate cleansing-file text; the first problem raises a ValidationError naming the line."""
    document, lines = _load_yaml(text, origin)
    try:
        spec = CleansingSpec.model_validate(document)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(p) for p in first["loc"])
        field = ".".join(loc) or "cleansing"
        message = first["msg"].removeprefix("Value error, ")
        where = _where(origin, lines, loc)
        raise ValidationError(field, first["type"], f"{where}: {message}") from None
    _check_model(spec, origin, lines)
    return spec


def _load_yaml(text: str, origin: str) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    document, node = load_yaml_mapping(text, origin=origin, field="cleansing")
    return document, _entry_lines(node)


def _entry_lines(node: yaml.Node | None) -> dict[tuple[str, ...], int]:
    """Line (1-based) of each section and of each item of a list section."""
    lines: dict[tuple[str, ...], int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        section = str(getattr(key, "value", ""))
        lines[(section,)] = value.start_mark.line + 1
        if isinstance(value, yaml.SequenceNode):
            for i, item in enumerate(value.value):
                lines[(section, str(i))] = item.start_mark.line + 1
    return lines


def _where(origin: str, lines: dict[tuple[str, ...], int], loc: tuple[str, ...]) -> str:
    entry = loc[:2] if len(loc) >= 2 and loc[1].isdigit() else loc[:1]
    line = lines.get(entry)
    label = f"{entry[0]} #{int(entry[1]) + 1}" if len(entry) == 2 else (entry[0] if entry else "")
    return f"{origin}{f' line {line}' if line else ''}{f', {label}' if label else ''}"


def _check_model(spec: CleansingSpec, origin: str, lines: dict[tuple[str, ...], int]) -> None:
    for i, rule in enumerate(spec.deduplicate):
        where = _where(origin, lines, ("deduplicate", str(i))) + f" ({rule.name})"
        table = _table(rule.table, where)
        extra = (PROFILE_KEY,) if rule.table == FILL_TABLE else ()
        _columns(table, rule.key, where, "key", extra)
        _columns(table, [k.split()[0] for k in rule.keep if k.split()], where, "keep", extra)
        _keep_orders(rule.keep, where)
        _condition(table, rule.where, where)
    for i, std in enumerate(spec.standardize):
        where = _where(origin, lines, ("standardize", str(i)))
        table = _table(std.table, where)
        _columns(table, list(std.columns), where, "columns", ())
        _standardizers(table, std.columns, where)
        _condition(table, std.where, where)
    if spec.fill is not None:
        where = _where(origin, lines, ("fill",))
        _columns(_table(FILL_TABLE, where), spec.fill.columns, where, "columns", ())
        wrong = [c for c in spec.fill.columns if c not in FILLABLE]
        if wrong:
            raise ValidationError(
                "columns", "fillable", f"{where}: profiles do not hold {', '.join(wrong)}"
            )
        _condition(_table(FILL_TABLE, where), spec.fill.where, where)


def _table(name: str, where: str) -> TableSpec:
    try:
        spec = table_spec(name)
    except TableNotFoundError as exc:
        raise ValidationError("table", "known", f"{where}: {exc}") from None
    if spec.zone.value != "staged":
        raise ValidationError("table", "staged", f"{where}: cleansing changes staged tables only")
    return spec


def _columns(
    spec: TableSpec, names: list[str], where: str, field: str, extra: tuple[str, ...]
) -> None:
    for name in names:
        if name not in spec.column_names and name not in extra:
            raise ValidationError(
                field, "column", f"{where}: {field}: '{name}' is not a column of {spec.name}"
            )


def _keep_orders(keep: list[str], where: str) -> None:
    for item in keep:
        parts = item.split()
        if len(parts) not in (1, 2) or (len(parts) == 2 and parts[1].lower() not in _ORDERS):
            raise ValidationError("keep", "order", f"{where}: keep: write 'column [asc|desc]'")


_ORDERS = ("asc", "desc")


def _standardizers(spec: TableSpec, columns: dict[str, str], where: str) -> None:
    for column, name in columns.items():
        if name not in STANDARDIZERS:
            known = ", ".join(STANDARDIZERS)
            raise ValidationError(
                "columns", "standardizer", f"{where}: {column}: unknown '{name}' (known: {known})"
            )
        if not pa.types.is_string(spec.column(column).type):
            raise ValidationError("columns", "text", f"{where}: {column} is not a text column")


def _condition(spec: TableSpec, condition: str | None, where: str) -> None:
    if condition is None:
        return
    try:
        tree = sqlglot.parse_one(condition, read="duckdb")
    except sqlglot.errors.SqlglotError:
        raise ValidationError("where", "sql", f"{where}: where is not a valid condition") from None
    names = [c.name for c in tree.find_all(exp.Column)]
    _columns(spec, names, where, "where", ())


def cleansing_path(ws: Workspace) -> Path:
    return ws.home / "quality" / "cleansing.yaml"


def shipped_cleansing_text() -> str:
    return resources.files("custodia.pipeline").joinpath("cleansing.yaml").read_text("utf-8")


def load_cleansing_file(path: Path) -> CleansingSpec:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise ValidationError("cleansing", "exists", f"{path.name}: no such file") from None
    except UnicodeDecodeError:
        raise ValidationError("cleansing", "utf8", f"{path.name}: not UTF-8 text") from None
    return parse_cleansing(text, origin=path.name)


def _cleansing_file(ws: Workspace) -> FileInForce[CleansingSpec]:
    return FileInForce(
        cleansing_path(ws), shipped_cleansing_text,
        lambda text, origin: parse_cleansing(text, origin=origin), load_cleansing_file,
    )  # fmt: skip


def cleansing_in_force(ws: Workspace) -> CleansingInForce:
    """The cleansing spec a run uses: the file, else its last valid copy, else the shipped one."""
    found = _cleansing_file(ws).in_force()
    return CleansingInForce(found.value, found.origin, found.error)


def ensure_cleansing_file(ws: Workspace) -> None:
    """Write the shipped cleansing steps to ``cleansing.yaml`` if there is no file yet."""
    _cleansing_file(ws).ensure()


def install_cleansing(ws: Workspace, text: str, *, origin: str = "cleansing") -> CleansingSpec:
    """Check cleansing text and, only if it is valid, make it the workspace's cleansing file."""
    return _cleansing_file(ws).install(text, origin=origin)

"""Workspace overrides of the catalog: ``HOME/catalog.yaml`` gives tables an owner, a description,
tags, and columns their own descriptions.

The model (:mod:`custodia.core.tables`) declares a default owner and an English description for
every table; data teams name the real owner and describe tables in their own words (Chinese
included) without touching code. Every table and column named must exist in the model, so a typo
is reported (file, line, table) instead of silently ignored.

Example ``catalog.yaml``::

    tables:
      orders:
        owner: 交易数据组 trade-data@example.com
        description: 线上商城与门店的订单，一单一行
        tags: [finance, daily]
        columns:
          total_amount: 实付金额（元，含运费）

Example::

    overrides = load_overrides(ws.home / "catalog.yaml")
    overrides.tables["orders"].owner
"""

from __future__ import annotations

from pathlib import Path

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import table_spec
from custodia.core.yaml_document import entry_lines, load_yaml_mapping

__all__ = ["CATALOG_FILE", "CatalogOverrides", "TableOverride", "load_overrides", "parse_overrides"]

CATALOG_FILE = "catalog.yaml"


class TableOverride(BaseModel):
    """What ``catalog.yaml`` says about one table; unset fields keep the model's values."""

    model_config = ConfigDict(extra="forbid")

    owner: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, min_length=1, max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    columns: dict[str, str] = Field(default_factory=dict, description="Column name -> description")


class CatalogOverrides(BaseModel):
    """The whole file: table name -> override."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    tables: dict[str, TableOverride] = Field(default_factory=dict)


def load_overrides(path: Path) -> CatalogOverrides:
    """Read and check ``path``; a missing file means no overrides."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CatalogOverrides()
    except UnicodeDecodeError:
        raise ValidationError("catalog", "utf8", f"{path.name}: not UTF-8 text") from None
    return parse_overrides(text, origin=path.name)


def parse_overrides(text: str, *, origin: str = CATALOG_FILE) -> CatalogOverrides:
    """Validate the text; the first problem raises a ValidationError naming line and table."""
    document, node = load_yaml_mapping(text, origin=origin, field="catalog")
    lines = entry_lines(node, "tables")
    try:
        overrides = CatalogOverrides.model_validate(document)
    except pydantic.ValidationError as exc:
        raise _shape_error(exc, lines, origin) from None
    for name, override in overrides.tables.items():
        _check_against_model(name, override, f"{origin} line {lines.get(name, 1)}")
    return overrides


def _shape_error(
    exc: pydantic.ValidationError, lines: dict[str, int], origin: str
) -> ValidationError:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    table = loc[1] if len(loc) > 1 and loc[0] == "tables" else None
    where = f"{origin} line {lines[table]}, table {table}" if table in lines else origin
    field = ".".join(loc) or "catalog"
    return ValidationError(field, error["type"], f"{where}: {field}: {error['msg']}")


def _check_against_model(name: str, override: TableOverride, where: str) -> None:
    try:
        spec = table_spec(name)
    except TableNotFoundError:
        raise ValidationError(
            "tables", "known_table", f"{where}: '{name}' is not a table of the data model"
        ) from None
    for column in override.columns:
        if column not in spec.column_names:
            raise ValidationError(
                "columns", "known_column", f"{where}: '{column}' is not a column of {name}"
            )

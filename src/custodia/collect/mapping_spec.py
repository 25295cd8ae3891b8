"""Declarative source mappings: how a source's records become rows of canonical tables.

A mapping file (YAML) names each source, how to read it, and one or more targets. A target's
columns are SQL expressions over the source's records (a relation named ``records`` whose columns
are the source's fields). Expressions are plain SQL so the same mapping runs on DuckDB here and on
Spark at scale. ``custodia_key(expr)`` derives the surrogate key the way :func:`record_key` does.

Example (YAML)::

    sources:
      - name: crm
        format: sqlite
        path: crm/members.db
        table: members
        entity: customers
        targets:
          - table: customer_records
            key: member_id
            columns:
              member_id: member_id
              name: name
              birthday: try_cast(birthday AS DATE)
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, field_validator

from custodia.core.errors import ValidationError
from custodia.core.tables import table_spec


class SourceFormat(StrEnum):
    """How a source is read."""

    CSV = "csv"
    JSONL = "jsonl"
    SQLITE = "sqlite"
    SEGMENT_BATCH = "segment_batch"


class TargetMapping(BaseModel):
    """One canonical table filled from a source."""

    table: str = Field(description="Canonical table name (see docs/data-model.md).")
    key: str = Field(description="SQL expression of the source key; hashed into the table's key.")
    columns: dict[str, str] = Field(
        default_factory=dict, description="Target column -> SQL expression over `records`."
    )
    from_: str = Field(
        default="records",
        alias="from",
        description="FROM clause; e.g. `records, unnest(items) AS t(item)` to explode arrays.",
    )
    where: str | None = Field(default=None, description="Optional filter on the records.")
    group_by: str | None = Field(default=None, description="Optional GROUP BY (aggregating).")

    model_config = {"populate_by_name": True, "extra": "forbid"}

    @field_validator("table")
    @classmethod
    def _known_table(cls, name: str) -> str:
        table_spec(name)
        return name


class SourceMapping(BaseModel):
    """One source: where its files are, how to read them, and what it fills."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="Source name (stable).")
    format: SourceFormat
    path: str = Field(description="File, glob or database path relative to the sources folder.")
    table: str | None = Field(default=None, description="Table name for database sources.")
    entity: str = Field(description="What the records are (customers, orders, events, ...).")
    timezone: str = Field(default="Asia/Shanghai", description="Zone of naive timestamps.")
    targets: list[TargetMapping] = Field(default_factory=list)

    model_config = {"extra": "forbid"}


class MappingFile(BaseModel):
    """A whole mapping file."""

    sources: list[SourceMapping]

    model_config = {"extra": "forbid"}

    def source(self, name: str) -> SourceMapping:
        for src in self.sources:
            if src.name == name:
                return src
        raise ValidationError("source", "unknown", f"source '{name}' is not in the mapping file")


def load_mapping_file(path: Path) -> MappingFile:
    """Parse and validate a mapping YAML file; errors name the file and the field."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError("mapping", "yaml", f"{path.name}: cannot read YAML ({exc})") from None
    try:
        return MappingFile.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(where, "mapping", f"{path.name}: {where}: {first['msg']}") from None

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

A column may also be a declarative transform (rename, cast, dates in Chinese and English
formats, split, join, constants, lookups; see :mod:`custodia.collect.mapping_transforms`), a
source may rename fields and derive new ones before its targets are mapped, and small lookup
tables live in the same file::

    lookups:
      gender: {男: M, 女: F, M: M, F: F}
    sources:
      - name: store_members
        format: csv
        encoding: gb18030
        entity: customers
        rename: {会员编号: member_id}
        derive:
          full_address: {join: [省份, 城市, 地址]}
        targets:
          - table: customer_records
            key: member_id
            columns:
              gender: {field: 性别, lookup: gender}
              birthday: {field: 生日, parse_date: auto, required: true}
              address: full_address

The full reference with examples is ``docs/connectors.md``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, field_validator, model_validator

from custodia.collect.mapping_transforms import ColumnSpec, ColumnTransform, LookupTable
from custodia.core.errors import ValidationError
from custodia.core.tables import table_spec


class SourceFormat(StrEnum):
    """How a source is read."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    EXCEL = "excel"
    SQLITE = "sqlite"
    SQL = "sql"
    SEGMENT_BATCH = "segment_batch"

    @property
    def is_database(self) -> bool:
        return self in {SourceFormat.SQLITE, SourceFormat.SQL}


class TargetMapping(BaseModel):
    """One canonical table filled from a source."""

    table: str = Field(description="Canonical table name (see docs/data-model.md).")
    key: str = Field(description="SQL expression of the source key; hashed into the table's key.")
    columns: dict[str, ColumnSpec] = Field(
        default_factory=dict,
        description="Target column -> SQL expression over `records`, or a transform object.",
    )
    required: list[str] = Field(
        default_factory=list,
        description="Target columns that must not be NULL; a row breaking this is quarantined.",
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
    path: str | None = Field(
        default=None,
        description=(
            "File, glob or SQLite database relative to the sources folder; may be left out "
            "when the source is loaded with `custodia ingest`, which names the file or database."
        ),
    )
    table: str | None = Field(default=None, description="Table name for database sources.")
    entity: str = Field(description="What the records are (customers, orders, events, ...).")
    timezone: str = Field(default="Asia/Shanghai", description="Zone of naive timestamps.")
    encoding: str | None = Field(
        default=None, description="Text encoding of CSV/JSONL files; detected when left out."
    )
    delimiter: str | None = Field(
        default=None,
        min_length=1,
        max_length=1,
        description="CSV field delimiter (default: a tab for .tsv files, else a comma).",
    )
    sheet: str | None = Field(default=None, description="Excel sheet (default: the first).")
    incremental: str | None = Field(
        default=None,
        description="Database sources: cursor column for incremental loads (a watermark).",
    )
    rename: dict[str, str] = Field(
        default_factory=dict, description="Source field -> new name, before anything else."
    )
    derive: dict[str, ColumnSpec] = Field(
        default_factory=dict,
        description="New fields computed from each record, in order, usable by the targets.",
    )
    tracking_plan: str | None = Field(
        default=None,
        description=(
            "segment_batch sources: JSON tracking plan file, relative to the mapping file "
            "(see docs/tracking-plans.md)."
        ),
    )
    targets: list[TargetMapping] = Field(default_factory=list)

    model_config = {"extra": "forbid"}

    @field_validator("derive")
    @classmethod
    def _derived_not_required(cls, derive: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        """Only target columns are checked; `required` on a derived field would be ignored."""
        for name, spec in derive.items():
            if isinstance(spec, ColumnTransform) and spec.required:
                raise ValueError(f"derive.{name}: mark the target column required instead")
        return derive


class MappingFile(BaseModel):
    """A whole mapping file: small lookup tables shared by its sources, and the sources."""

    lookups: dict[str, LookupTable] = Field(
        default_factory=dict, description="Name -> {source value: canonical value}."
    )
    sources: list[SourceMapping]

    model_config = {"extra": "forbid"}

    @model_validator(mode="before")
    @classmethod
    def _text_lookup_keys(cls, data: Any) -> Any:
        """YAML reads ``1:`` as a number and ``yes:`` as a boolean: keys are matched as text, so
        numbers become text and booleans are refused (quote them)."""
        if isinstance(data, dict) and isinstance(data.get("lookups"), dict):
            data = {**data, "lookups": {k: _text_keys(k, v) for k, v in data["lookups"].items()}}
        return data

    def source(self, name: str) -> SourceMapping:
        for src in self.sources:
            if src.name == name:
                return src
        raise ValidationError("source", "unknown", f"source '{name}' is not in the mapping file")


def _text_keys(name: str, table: Any) -> Any:
    if not isinstance(table, dict):
        return table
    if any(isinstance(key, bool) for key in table):
        raise ValueError(f"lookup {name}: quote keys such as 'yes', 'no', 'true' (YAML booleans)")
    return {str(key): value for key, value in table.items()}


def load_mapping_file(path: Path) -> MappingFile:
    """Parse and validate a mapping YAML file; errors name the file and the field."""
    from pydantic import ValidationError as PydanticValidationError

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValidationError("mapping", "yaml", f"{path.name}: cannot read YAML ({exc})") from None
    try:
        parsed = MappingFile.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValidationError(where, "mapping", f"{path.name}: {where}: {first['msg']}") from None
    return _plans_beside(parsed, path.resolve().parent)


def _plans_beside(mappings: MappingFile, folder: Path) -> MappingFile:
    """Tracking plan paths are relative to the mapping file: make them absolute, so they hold
    wherever the data files are (``ingest file`` reads from another folder)."""
    for source in mappings.sources:
        if source.tracking_plan and not Path(source.tracking_plan).is_absolute():
            source.tracking_plan = str(folder / source.tracking_plan)
    return mappings

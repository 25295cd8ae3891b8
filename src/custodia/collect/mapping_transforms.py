"""Declarative column transforms of a mapping, and their compilation to SQL (or Arrow).

A target column (or a derived field) is either a SQL expression over ``records`` (a string) or a
transform object. The object names where the value comes from (exactly one of ``field``,
``expr``, ``const``, ``join``) and the steps applied to it, always in this order::

    field | expr | const | join   ->  normalize -> split -> trim -> lookup
                                  ->  parse_date | cast  ->  default  ->  required?

YAML examples (Chinese and English sources alike)::

    member_id: {field: 会员编号, trim: true, required: true}
    birthday:  {field: 生日, parse_date: auto}                # 2026年3月5日, 05-Mar-2026, ...
    sold_at:   {field: 销售时间, parse_date: ["%d/%m/%Y %H:%M"], required: true}
    gender:    {field: 性别, lookup: gender}                  # a table under `lookups:`
    city:      {field: 地址, split: {sep: " ", part: 2}}
    address:   {join: [省, 市, 详细地址], sep: ""}
    amount:    {field: 金额, cast: "decimal(14,2)"}          # ¥1,299.00 -> 1299.00
    channel:   {const: pos}
    name_ascii: {field: 姓名, normalize: NFKC}                # full-width -> ASCII (in Arrow)

Everything compiles to SQL through a dialect (:mod:`custodia.collect.mapping_dialect`) except
Unicode normalisation, which SQL engines lack: it runs vectorised in Arrow on the records first
(:class:`ArrowStep`) and the SQL reads its result. A column declared ``required`` whose value is
NULL after all steps sends its row to the quarantine, with a rule saying which step failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from custodia.collect.mapping_dialect import DUCKDB, DuckDBDialect
from custodia.core.errors import ValidationError
from custodia.core.sql_text import quote_ident, quote_literal

__all__ = [
    "ArrowStep",
    "ColumnSpec",
    "ColumnTransform",
    "CompiledColumn",
    "LookupTable",
    "Scalar",
    "SplitSpec",
    "TemporalKind",
    "compile_column",
    "field_ref",
]

Scalar = str | int | float | bool
LookupTable = dict[str, Scalar | None]
TemporalKind = Literal["date", "timestamp"]
_DATE_CASTS = {
    "date": "date",
    "timestamp": "timestamp",
    "timestamptz": "timestamp",
    "datetime": "timestamp",
}


class SplitSpec(BaseModel):
    """Take one part of a delimited value: ``part`` 1 is the first, -1 the last."""

    sep: str = Field(min_length=1, description="The delimiter, e.g. ' ' or '/'.")
    part: int = Field(description="1-based part number; negative counts from the end.")

    model_config = {"extra": "forbid"}

    @field_validator("part")
    @classmethod
    def _nonzero(cls, part: int) -> int:
        if part == 0:
            raise ValueError("part numbers start at 1 (or -1 for the last)")
        return part


class ColumnTransform(BaseModel):
    """How one column's value is made from a record (see the module docstring)."""

    field: str | None = Field(
        default=None, description="Source field (after `rename`); dots reach nested fields."
    )
    expr: str | None = Field(default=None, description="SQL expression over `records`.")
    const: Scalar | None = Field(default=None, description="A constant value.")
    join: list[str] | None = Field(default=None, description="Fields joined with `sep`.")
    sep: str = Field(default="", description="Separator for `join`; NULL parts are skipped.")
    normalize: Literal["NFKC", "NFC"] | None = Field(
        default=None, description="Unicode normalisation of `field` (full-width to ASCII: NFKC)."
    )
    split: SplitSpec | None = None
    trim: bool = Field(default=False, description="Strip spaces; an empty result is NULL.")
    lookup: str | LookupTable | None = Field(
        default=None, description="Name of a table under `lookups:`, or an inline table."
    )
    keep_unmatched: bool = Field(
        default=False, description="Keep values the lookup does not list (default: NULL)."
    )
    parse_date: Literal["auto"] | list[str] | None = Field(
        default=None, description="`auto` or strptime formats, e.g. ['%Y年%m月%d日']."
    )
    cast: str | None = Field(
        default=None,
        description="text, int, float, decimal, decimal(p,s), bool, date or timestamp.",
    )
    default: Scalar | None = Field(default=None, description="Value when the result is NULL.")
    required: bool = Field(
        default=False, description="A NULL result sends the row to the quarantine."
    )

    model_config = {"extra": "forbid"}

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnTransform:
        given = [
            name
            for name, value in (
                ("field", self.field),
                ("expr", self.expr),
                ("const", self.const),
                ("join", self.join),
            )
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError("give exactly one of field, expr, const or join")
        if self.normalize and self.field is None:
            raise ValueError("normalize applies to a `field`")
        if self.cast is not None and self.cast.strip().lower() not in _DATE_CASTS:
            DUCKDB.cast("x", self.cast)  # raises on an unknown type
        return self


ColumnSpec = str | ColumnTransform


@dataclass(frozen=True)
class ArrowStep:
    """A step SQL cannot do, run on the records in Arrow before the SQL: Unicode
    normalisation of ``field`` into the hidden field ``output``."""

    field: str
    form: str
    output: str


@dataclass(frozen=True)
class CompiledColumn:
    """A column's SQL, the SQL of its raw input (to tell "missing" from "unparseable"), the
    rule a NULL result breaks when the input was there, and any Arrow steps it needs."""

    sql: str
    input_sql: str | None
    failure_rule: str
    arrow_steps: tuple[ArrowStep, ...] = ()


def compile_column(
    spec: ColumnSpec,
    *,
    lookups: dict[str, LookupTable],
    temporal: TemporalKind | None = None,
    dialect: DuckDBDialect = DUCKDB,
) -> CompiledColumn:
    """Compile one column. ``temporal`` is what the target column holds (date or timestamp),
    which decides what ``parse_date`` yields when no ``cast`` says it.

    >>> compile_column("upper(name)", lookups={}).sql
    'upper(name)'
    """
    if isinstance(spec, str):
        return CompiledColumn(spec, None, "required")
    base, steps = _origin(spec, dialect)
    value, rule = base, None
    if spec.split is not None:
        value = dialect.split_part(value, spec.split.sep, spec.split.part)
    if spec.trim:
        value = dialect.trim(value)
    if spec.lookup is not None:
        table = _lookup_table(spec.lookup, lookups)
        value = dialect.lookup(value, table, keep_unmatched=spec.keep_unmatched)
        rule = "lookup"
    kind = _temporal_kind(spec, temporal)
    formats = spec.parse_date if isinstance(spec.parse_date, list) else None
    if kind == "date":
        value, rule = dialect.parse_date(value, formats), "date_format"
    elif kind == "timestamp":
        value, rule = dialect.parse_timestamp(value, formats), "date_format"
    elif spec.cast is not None:
        value, rule = dialect.cast(value, spec.cast), "cast"
    if spec.default is not None:
        value = f"coalesce({value}, {_literal(spec.default)})"
    return CompiledColumn(value, base, rule or "cast", steps)


def _origin(spec: ColumnTransform, dialect: DuckDBDialect) -> tuple[str, tuple[ArrowStep, ...]]:
    if spec.field is not None:
        if spec.normalize:
            output = f"__{spec.normalize.lower()}__{spec.field}"
            return quote_ident(output), (ArrowStep(spec.field, spec.normalize, output),)
        return field_ref(spec.field), ()
    if spec.expr is not None:
        return f"({spec.expr})", ()
    if spec.join is not None:
        return dialect.concat([field_ref(f) for f in spec.join], spec.sep), ()
    assert spec.const is not None
    return _literal(spec.const), ()


def field_ref(name: str) -> str:
    """A field reference: dots reach into nested objects (``shipping.city``).

    >>> field_ref("shipping.city")
    '"shipping"."city"'
    """
    return ".".join(quote_ident(part) for part in name.split("."))


def _temporal_kind(spec: ColumnTransform, target: TemporalKind | None) -> TemporalKind | None:
    cast = _DATE_CASTS.get((spec.cast or "").strip().lower())
    if spec.parse_date is None and cast is None:
        return None
    if cast == "date" or (cast is None and target == "date"):
        return "date"
    return "timestamp"


def _lookup_table(ref: str | LookupTable, lookups: dict[str, LookupTable]) -> dict[str, str | None]:
    if isinstance(ref, str):
        if ref not in lookups:
            known = ", ".join(sorted(lookups)) or "none"
            raise ValidationError("lookup", "known", f"unknown lookup '{ref}' (known: {known})")
        ref = lookups[ref]
    return {key: None if value is None else _text(value) for key, value in ref.items()}


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _literal(value: Scalar) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return quote_literal(value)

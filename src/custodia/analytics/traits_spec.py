"""The traits spec: computed traits per profile and the tags derived from them (YAML).

Shipped default: ``traits.yaml`` in this package; a workspace overrides it with
``HOME/analytics/traits.yaml``. Every problem is a :class:`ValidationError` naming the file, the
line of the entry and the field (docs/analytics-traits.md describes the language).

A **trait** is one value per profile computed from one source (``profiles``, ``orders``,
``order_lines``, ``events``, ``interactions``, ``touchpoints``): ``count``, ``count_distinct``,
``sum``, ``avg``, ``min``, ``max``, ``most_frequent``, ``first``, ``last``, ``unique`` (a sorted
list) of a column, optionally filtered (``where``) and within a sliding window of
``window_days`` before the as-of date; ``value`` reads a golden profile attribute. A **tag** is
either a rule (``when``: a condition over trait names) or the value(s) of a trait
(``from_trait``, with a ``prefix``), in one of three dimensions: identity, need, value.

Example::

    spec = parse_traits(text, origin="traits.yaml")
    spec.trait("orders_90d").window_days        # 90
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from custodia.analytics.traits_expr import check_condition, render_expression
from custodia.core.errors import ValidationError
from custodia.core.yaml_document import item_error, item_lines, load_yaml_mapping

__all__ = [
    "AGGREGATES",
    "DIMENSIONS",
    "SOURCES",
    "TagSpec",
    "TraitSource",
    "TraitSpec",
    "TraitsParams",
    "TraitsSpec",
    "load_traits_file",
    "parse_traits",
    "shipped_traits_text",
]

Aggregate = Literal[
    "value", "count", "count_distinct", "sum", "avg", "min", "max",
    "most_frequent", "first", "last", "unique",
]  # fmt: skip
AGGREGATES: Final = Aggregate.__args__  # type: ignore[attr-defined]
Dimension = Literal["identity", "need", "value"]
DIMENSIONS: Final = ("identity", "need", "value")
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,62}")
_RESERVED: Final = frozenset({"profile_id", "as_of"})


@dataclass(frozen=True)
class TraitSource:
    """A table traits read: its time column and the columns a trait may use."""

    name: str
    time_column: str | None
    columns: frozenset[str]
    json_columns: frozenset[str] = frozenset()


SOURCES: Final = {
    s.name: s
    for s in (
        TraitSource(
            "profiles", None,
            frozenset({"member_level", "gender", "age", "province", "city", "occupation",
                       "industry", "record_count", "first_seen", "last_seen"}),
        ),
        TraitSource(
            "orders", "ordered_at",
            frozenset({"order_id", "source_key", "channel", "store_id", "ordered_at", "status",
                       "currency", "total_amount", "item_count", "payment_method", "coupon_code",
                       "ship_to_city", "source"}),
        ),
        TraitSource(
            "order_lines", "ordered_at",
            frozenset({"order_id", "line_id", "sku", "product_name", "category", "quantity",
                       "unit_price", "line_amount", "ordered_at", "order_status",
                       "order_channel"}),
        ),
        TraitSource(
            "events", "timestamp",
            frozenset({"message_id", "type", "event", "name", "timestamp", "source",
                       "event_date"}),
            frozenset({"properties"}),
        ),
        TraitSource(
            "interactions", "created_at",
            frozenset({"interaction_id", "kind", "channel", "created_at", "language", "rating",
                       "status", "complaint_type", "sentiment", "source"}),
        ),
        TraitSource(
            "touchpoints", "occurred_at",
            frozenset({"touchpoint_id", "channel", "campaign", "interaction", "occurred_at",
                       "cost", "source"}),
        ),
    )
}  # fmt: skip
"""What each source offers. Personal identifiers and free text are not offered: traits are
about behaviour, not copies of contact data. ``profiles.age`` is whole years at the as-of
date (from the golden birthday); ``order_lines`` carry their order's time, status and channel."""


class TraitSpec(BaseModel):
    """One computed trait (a column of the trait map)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    source: Literal["profiles", "orders", "order_lines", "events", "interactions", "touchpoints"]
    aggregate: Aggregate
    column: str | None = None
    where: str | None = None
    window_days: int | None = Field(default=None, ge=1, le=3660)
    limit: int = Field(default=20, ge=1, le=200)
    line: int | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value) or value in _RESERVED:
            raise ValueError("lower-case letters, digits and '_', starting with a letter")
        return value

    @model_validator(mode="after")
    def _fits_source(self) -> TraitSpec:
        source = SOURCES[self.source]
        if self.source == "profiles":
            if self.aggregate != "value" or self.where or self.window_days:
                raise ValueError("aggregate: a profiles trait is 'value', without where or window")
        elif self.aggregate == "value":
            raise ValueError("aggregate: 'value' reads a profile attribute (source profiles)")
        if self.column is None and self.aggregate != "count":
            raise ValueError(f"column: aggregate {self.aggregate} needs a column")
        try:
            if self.column is not None:
                render_expression(
                    self.column, source.columns, field="column", json_columns=source.json_columns
                )
            if self.where is not None:
                check_condition(
                    self.where, source.columns, field="where", json_columns=source.json_columns
                )
        except ValidationError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def is_list(self) -> bool:
        return self.aggregate == "unique"


class TagSpec(BaseModel):
    """A tag: a rule over traits (``when``) or a trait's value(s) (``from_trait``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    dimension: Dimension
    description: str = ""
    when: str | None = None
    from_trait: str | None = None
    prefix: str = Field(default="", max_length=32)
    line: int | None = None

    @field_validator("name", "prefix")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(not ch.isprintable() for ch in value):
            raise ValueError("printable text only")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> TagSpec:
        if (self.when is None) == (self.from_trait is None):
            raise ValueError("when: give exactly one of when (a rule) or from_trait")
        return self


class TraitsSpec(BaseModel):
    """The whole file: traits, then tags over them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    traits: tuple[TraitSpec, ...] = Field(min_length=1)
    tags: tuple[TagSpec, ...] = ()

    def trait(self, name: str) -> TraitSpec:
        for trait in self.traits:
            if trait.name == name:
                return trait
        raise KeyError(name)

    def digest(self) -> str:
        """A hash of what the spec computes (not its comments or lines)."""
        doc = self.model_dump(mode="json", exclude={"traits": {"__all__": {"line"}},
                                                    "tags": {"__all__": {"line"}}})  # fmt: skip
        return hashlib.sha256(repr(doc).encode()).hexdigest()[:16]


class TraitsParams(BaseModel):
    """Parameters of a traits run: the as-of date (default today) and a full recompute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: date | None = Field(default=None, description="Windows end on this day (inclusive)")
    full: bool = Field(default=False, description="Recompute every profile, not only the due")


def shipped_traits_text() -> str:
    return resources.files("custodia.analytics").joinpath("traits.yaml").read_text("utf-8")


def load_traits_file(path: Path) -> TraitsSpec:
    """Read and validate a traits file (errors name the file and line, never its content)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise ValidationError("traits", "exists", f"traits file {path.name} not found") from None
    except UnicodeDecodeError:
        raise ValidationError("traits", "utf8", f"{path.name}: not UTF-8 text") from None
    return parse_traits(text, origin=path.name)


def parse_traits(text: str, *, origin: str = "traits.yaml") -> TraitsSpec:
    """Validate spec text; the first problem raises a ValidationError naming file and line."""
    document, node = load_yaml_mapping(text, origin=origin, field="traits")
    lines = {"traits": item_lines(node, "traits"), "tags": item_lines(node, "tags")}
    try:
        spec = TraitsSpec.model_validate(document)
    except pydantic.ValidationError as exc:
        raise item_error(exc, document, lines, origin=origin, fallback="traits") from None
    spec = spec.model_copy(
        update={
            "traits": _located(spec.traits, lines["traits"]),
            "tags": _located(spec.tags, lines["tags"]),
        }
    )
    _check_names(spec, origin)
    return spec


def _located(items: tuple[Any, ...], lines: list[int]) -> tuple[Any, ...]:
    return tuple(
        item.model_copy(update={"line": lines[i] if i < len(lines) else None})
        for i, item in enumerate(items)
    )


def _at(origin: str, line: int | None) -> str:
    return f"{origin} line {line}" if line else origin


def _check_names(spec: TraitsSpec, origin: str) -> None:
    seen: set[str] = set()
    for trait in spec.traits:
        if trait.name in seen:
            where = _at(origin, trait.line)
            raise ValidationError("name", "unique", f"{where}, trait {trait.name}: name: repeated")
        seen.add(trait.name)
    for tag in spec.tags:
        where = f"{_at(origin, tag.line)}, tag {tag.name}"
        if tag.from_trait is not None and tag.from_trait not in seen:
            raise ValidationError(
                "from_trait", "known_trait", f"{where}: from_trait: no trait {tag.from_trait!r}"
            )
        if tag.when is not None:
            try:
                check_condition(tag.when, seen, field="when")
            except ValidationError as exc:
                raise ValidationError(exc.field, exc.rule, f"{where}: {exc}") from None

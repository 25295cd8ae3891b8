"""The differential-privacy policy: which tables, public keys and measures analysts may aggregate.

Groups come from each public key's declared domain, never from the data: a release lists every
declared value (noised, also when no row has it) and nothing else, so whether some group exists
is not disclosed. Measures carry clamping bounds, which fix the noise scale. A policy may name
only columns that ``core.tables`` classifies L1 and not personal and that are not the table's
key; anything else is refused when the policy is loaded, naming the table and column.

The shipped policy is ``custodia/privacy/dp_policy.yaml``; a workspace replaces it with
``HOME/dp_policy.yaml``.

Example::

    policy = load_dp_policy(shipped_dp_policy_text(), origin="dp_policy.yaml")
    policy.table("orders").public_keys["channel"]     # ('online', 'pos')
    policy.table("orders").measures["item_count"]     # Bounds(lower=0.0, upper=20.0)
"""

from __future__ import annotations

from importlib import resources
from typing import Self

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticError

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import TableSpec, table_spec
from custodia.core.types import Tier
from custodia.core.yaml_document import load_yaml_mapping

__all__ = [
    "Bounds",
    "DpPolicy",
    "DpTablePolicy",
    "column_refusal",
    "load_dp_policy",
    "shipped_dp_policy_text",
]


class Bounds(BaseModel):
    """Every value of a measure is clamped into ``[lower, upper]`` before it is aggregated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    lower: float
    upper: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.lower < self.upper:
            raise ValueError("lower must be below upper")
        return self

    @property
    def magnitude(self) -> float:
        """The most one value can move a sum when it is added or removed."""
        return max(abs(self.lower), abs(self.upper))


class DpTablePolicy(BaseModel):
    """What may be aggregated over one table, and how much one person may contribute."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    person_column: str | None = None
    max_rows_per_person: int = Field(default=1, ge=1, le=1000)
    public_keys: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    measures: dict[str, Bounds] = Field(default_factory=dict)


class DpPolicy(BaseModel):
    """The whole policy: per-table declarations plus budget and accuracy settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default_budget: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    max_epsilon_per_query: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    max_groups: int = Field(default=200, ge=1)
    tables: dict[str, DpTablePolicy] = Field(default_factory=dict)

    def table(self, name: str) -> DpTablePolicy:
        """The declaration of ``name``; a refusal naming the table when it has none."""
        declared = self.tables.get(name)
        if declared is None:
            raise ValidationError("table", "dp_not_declared", f"table '{name}' {_NOT_DECLARED}")
        return declared


_NOT_DECLARED = "is not declared in the differential privacy policy"


def column_refusal(spec: TableSpec, column: str, *, measure: bool = False) -> str | None:
    """Why ``column`` of ``spec`` may never be a public key (or, with ``measure``, a measure),
    or None if it may.

    Returns the rule name: ``unknown_column``, ``sensitive`` or ``near_unique`` (part of the
    table's key, one value per row). A public key must be general (L1) and not personal: its
    values are released as labels. A measure is only ever released as a noisy aggregate, which is
    what differential privacy protects, so a sensitive (L2) amount such as an order total may be
    summed; a highly sensitive (L3) column never.
    """
    if column not in spec.column_names:
        return "unknown_column"
    col = spec.column(column)
    general = not col.personal and col.tier is Tier.L1
    amount = col.tier is Tier.L2 and _numeric(col.type)
    if not (general or (measure and amount)):
        return "sensitive"
    if column in spec.key:
        return "near_unique"
    return None


def _numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


def load_dp_policy(text: str, *, origin: str) -> DpPolicy:
    """Parse and check a policy document; every error names the file, table and column."""
    document, _node = load_yaml_mapping(text, origin=origin, field="dp_policy")
    try:
        policy = DpPolicy.model_validate(document)
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValidationError("dp_policy", "schema", f"{origin}: {where}: {first['msg']}") from None
    for name, declared in policy.tables.items():
        _check_table(name, declared, policy.max_groups, origin)
    return policy


def shipped_dp_policy_text() -> str:
    """The policy that ships with Custodia (used when a workspace has none of its own)."""
    return resources.files("custodia.privacy").joinpath("dp_policy.yaml").read_text("utf-8")


def _check_table(name: str, declared: DpTablePolicy, max_groups: int, origin: str) -> None:
    try:
        spec = table_spec(name)
    except TableNotFoundError:
        raise ValidationError(
            "table", "unknown_table", f"{origin}: unknown table '{name}'"
        ) from None
    named = [(c, False) for c in declared.public_keys] + [(c, True) for c in declared.measures]
    for column, measure in named:
        rule = column_refusal(spec, column, measure=measure)
        if rule is not None:
            raise ValidationError(column, rule, f"{origin}: {name}.{column} refused ({rule})")
    if declared.person_column is not None and declared.person_column not in spec.column_names:
        raise ValidationError(
            "person_column", "unknown_column", f"{origin}: {name}.{declared.person_column}"
        )
    for column, values in declared.public_keys.items():
        if not values or len(values) > max_groups or len(set(values)) != len(values):
            raise ValidationError(
                column,
                "public_domain",
                f"{origin}: {name}.{column} needs 1 to {max_groups} distinct values",
            )

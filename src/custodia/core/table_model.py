"""How a canonical table is declared: columns with type, tier and meaning; tables with their home.

:mod:`custodia.core.tables` declares the customer data model with these, and
:mod:`custodia.core.analysis_tables` the curated tables analyses write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from custodia.core.types import Domain, Home, Tier, Zone

__all__ = ["JSON", "L1", "L2", "L3", "MONEY", "TS", "ColumnSpec", "S", "TableSpec", "_c"]

MONEY = pa.decimal128(14, 2)
TS = pa.timestamp("us", tz="UTC")
JSON = pa.large_string()  # JSON documents are stored as text so every engine can read them


@dataclass(frozen=True)
class ColumnSpec:
    """One column: Arrow type, classification tier, and whether it relates to a person."""

    name: str
    type: pa.DataType
    tier: Tier
    description: str
    personal: bool = False
    nullable: bool = True

    def arrow_field(self) -> pa.Field:
        meta = {
            b"tier": self.tier.value.encode(),
            b"personal": b"true" if self.personal else b"false",
            b"description": self.description.encode(),
        }
        return pa.field(self.name, self.type, nullable=self.nullable, metadata=meta)


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: where it lives, what it holds, and its columns."""

    name: str
    zone: Zone
    domain: Domain
    description: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    home: Home = Home.LAKE
    owner: str = "data-platform"
    lineage: tuple[str, ...] = field(default=())
    time_column: str | None = None
    """The column saying when the row's fact happened: quality scores group by its day and
    freshness and volume checks read it."""

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [c.arrow_field() for c in self.columns],
            metadata={b"table": self.name.encode(), b"zone": self.zone.value.encode()},
        )

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def stats_columns(self) -> tuple[str, ...]:
        """Columns allowed in Delta statistics: never personal data (erasure leaves no trace)."""
        return tuple(c.name for c in self.columns if not c.personal and c.tier is Tier.L1)


def _c(
    name: str,
    type_: pa.DataType,
    tier: Tier,
    description: str,
    *,
    personal: bool = False,
    nullable: bool = True,
) -> ColumnSpec:
    return ColumnSpec(name, type_, tier, description, personal, nullable)


S = pa.string()
L1, L2, L3 = Tier.L1, Tier.L2, Tier.L3

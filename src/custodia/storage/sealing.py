"""Hooks through which the lakehouse and the query engine seal and open encrypted columns.

Storage does not know keys or policies: the workspace (which does) passes a
:class:`ColumnSealing` to :class:`~custodia.storage.lake.Lakehouse` (sealing on every write)
and to :class:`~custodia.storage.engine.QueryEngine` (opening on every read). Opening runs
inside DuckDB as a vectorized Arrow function over the columns a
:class:`~custodia.storage.lake.TableLocation` marks as ``sealed``, so every query, trusted or
not, sees plain values while the Parquet files and the Delta log hold only ciphertexts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

__all__ = ["CIPHERTEXT_MARK", "OPEN_FUNCTION", "ColumnSealing", "SealedColumns"]

CIPHERTEXT_MARK = "enc:"
"""How every sealed value starts (``enc:v1:<key id>:...``); other text is never opened."""

OPEN_FUNCTION = "__custodia_open"
"""Name of the DuckDB function that opens a sealed value: (table, column, row key, value)."""


@dataclass(frozen=True, slots=True)
class SealedColumns:
    """Columns of one table that may hold sealed values, and the row key bound into each."""

    table: str
    row_key: str
    columns: tuple[str, ...]


class ColumnSealing(Protocol):
    def seal(self, table: str, rows: pa.Table) -> pa.Table:
        """``rows`` as they must be stored (sensitive values encrypted)."""
        ...

    def open(self, table: str, column: str, row_keys: pa.Array, values: pa.Array) -> pa.Array:
        """Plain values of one column chunk; values that are not sealed pass through."""
        ...

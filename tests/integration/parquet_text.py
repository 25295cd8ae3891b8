"""Every text value of Parquet files, decoded (pages are compressed: raw bytes prove nothing).

Shared by the tests that prove what is and is not on disk (erasure, encryption at rest).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def is_text(kind: pa.DataType) -> bool:
    """String columns in any of Arrow's layouts (delta-rs writes ``string_view``)."""
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def table_strings(table: pa.Table) -> list[str]:
    """The non-null text values of every string column of ``table``."""
    out: list[str] = []
    for column in table.columns:
        if is_text(column.type):
            out += [v for v in column.to_pylist() if v is not None]
    return out


def parquet_strings(root: Path) -> list[str]:
    """The text values of every Parquet file under ``root``."""
    return [
        s for path in sorted(root.rglob("*.parquet")) for s in table_strings(pq.read_table(path))
    ]

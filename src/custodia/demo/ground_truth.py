"""Collecting and writing the ground truth: record-to-person map, labels, injected problems.

Why: identity resolution is scored with pairwise precision/recall over *records*, so every source
record key is mapped to the person it really belongs to (``ground_truth/persons.parquet``).
Per-person facts (tier, churn date) and per-text labels go to their own Parquet files; the counts
and keys of injected problems go to ``ground_truth.json``.

Example::

    book = TruthBook()
    book.add_records("crm", "member_id", ["M0000001"], ["P0000001"])
    book.add_problem("invalid_phones", "crm", "...", [ProblemRecord(key="M0000001", kind="junk")])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from custodia.demo.models import InjectedProblem, ProblemRecord


class TruthBook:
    """Accumulates record keys and problems while the sources are written."""

    def __init__(self) -> None:
        self._sources: list[str] = []
        self._key_types: list[str] = []
        self._keys: list[str] = []
        self._persons: list[str] = []
        self.problems: list[InjectedProblem] = []

    def add_records(
        self, source: str, key_type: str, keys: Sequence[str], person_ids: Sequence[str]
    ) -> None:
        """Map each record key of one source to its true person id."""
        if len(keys) != len(person_ids):
            raise ValueError(f"{source}.{key_type}: {len(keys)} keys but {len(person_ids)} persons")
        self._sources += [source] * len(keys)
        self._key_types += [key_type] * len(keys)
        self._keys += list(keys)
        self._persons += list(person_ids)

    def add_problem(
        self, name: str, source: str, description: str, records: list[ProblemRecord]
    ) -> None:
        """Register an injected problem and every record it affects."""
        self.problems.append(
            InjectedProblem(
                name=name,
                source=source,
                description=description,
                count=len(records),
                records=records,
            )
        )

    def counts(self) -> dict[str, int]:
        """Number of affected records per problem."""
        return {p.name: p.count for p in self.problems}

    def write_persons(self, path: Path) -> int:
        """``persons.parquet``: source, key_type, record_key, person_id (one row per record)."""
        table = pa.table(
            {
                "source": pa.array(self._sources, pa.string()).dictionary_encode(),
                "key_type": pa.array(self._key_types, pa.string()).dictionary_encode(),
                "record_key": pa.array(self._keys, pa.string()),
                "person_id": pa.array(self._persons, pa.string()),
            }
        )
        write_parquet(path, table)
        return int(table.num_rows)


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write a Parquet file with settings that keep the bytes identical across runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", write_statistics=False)

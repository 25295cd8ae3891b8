"""What a batch load reports: per source, per target table, per run.

Example::

    report = load_sources(ws, mappings, root=root)
    for src in report.sources:
        print(src.source, src.rows_in, src.rows_landed, src.rows_unmapped)
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["LoadReport", "SourceResult", "TargetResult"]


class TargetResult(BaseModel):
    """Rows one mapping target produced and how the table changed."""

    table: str
    rows_mapped: int
    rows_inserted: int = Field(description="New keys the merge inserted.")
    rows_updated: int = Field(description="Existing keys the merge replaced (e.g. a re-upload).")
    table_version: int
    rows_unmapped: int = Field(
        default=0, description="Rows that broke a required check; quarantined (kind=record)."
    )
    unmapped_by_rule: dict[str, int] = Field(
        default_factory=dict, description="`table.column:rule` -> rows quarantined."
    )


class SourceResult(BaseModel):
    """What happened to one source in a load."""

    source: str
    entity: str
    format: str
    rows_in: int
    rows_landed: int
    rows_rejected: int = Field(description="Rows quarantined with their reason.")
    rows_duplicate: int = Field(default=0, description="Retries of a message in the same load.")
    rejected_by_rule: dict[str, int]
    targets: list[TargetResult]
    rows_unmapped: int = Field(
        default=0,
        description="Rows targets could not map, quarantined with rule and reason (summed over "
        "targets).",
    )
    rows_skipped: int = Field(
        default=0,
        description="Incremental reads: rows at the watermark already loaded before (not read).",
    )
    watermark: str | None = Field(
        default=None, description="Incremental reads: the cursor value stored after this load."
    )


class LoadReport(BaseModel):
    """The outcome of one load run."""

    run_id: str
    sources: list[SourceResult]

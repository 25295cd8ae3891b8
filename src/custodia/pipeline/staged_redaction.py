"""Scan and redact free-text columns of rows about to be staged, as the workspace policy says.

Why here: the staged zone is what analysts, tagging, identity and exports read, so personal data
found in ticket text is replaced before the first staged commit (the raw zone keeps the record
as it arrived: ``source_records_raw`` is L3, for replay, and is covered by encryption and
erasure). Loads and quarantine replays both store through
:func:`custodia.pipeline.source_staging.store_target`, which calls :func:`redact_staged_rows`
before text tags are carried or derived, so tags are computed on the redacted text and a
re-staged unchanged text still matches the stored one.

The run step gets counts per column and entity type, never a value.

Example::

    redacted = redact_staged_rows(ws, "interactions", rows, mapped_columns=target.columns)
    redacted.rows                     # text columns redacted
    redacted.detail                   # {'pii': {'interactions.text': {'findings': {...}, ...}}}
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from custodia.privacy.classification import ClassificationFile
from custodia.privacy.policy_audit import PolicyChangeAudit
from custodia.workspace import Workspace

__all__ = ["StagedRedaction", "classification_file", "redact_staged_rows"]


@dataclass(frozen=True)
class StagedRedaction:
    """The rows to stage and, per scanned column, what the scan found and did."""

    rows: pa.Table
    detail: dict[str, Any] = field(default_factory=dict)


def classification_file(ws: Workspace) -> ClassificationFile:
    """The workspace's classification policy; each new version a process loads or installs
    writes one ``policy.change`` audit entry (its SHA-256, never its content)."""
    return ClassificationFile(ws.home, on_change=PolicyChangeAudit(ws.store, ws.clock))


def redact_staged_rows(
    ws: Workspace, table: str, rows: pa.Table, mapped_columns: Collection[str]
) -> StagedRedaction:
    """``rows`` (bound for ``table``) with its scanned free-text columns handled per policy.

    Only columns the mapping sets (``mapped_columns``) are scanned: the others are NULL.
    Tables without scanned columns, and empty batches, pass through without loading the
    detector.
    """
    rules = classification_file(ws).current().free_text_rules(table)
    present = {name: rule for name, rule in rules.items() if name in set(mapped_columns)}
    if not present or rows.num_rows == 0:
        return StagedRedaction(rows)
    from custodia.privacy.free_text_scan import scan_texts

    report: dict[str, Any] = {}
    for name, rule in present.items():
        scan = scan_texts(rows.column(name).to_pylist(), rule)
        report[f"{table}.{name}"] = scan.detail(rule)
        if rule.redacts and scan.rows_with_findings:
            index = rows.schema.get_field_index(name)
            column = pa.array(scan.values, rows.schema.field(name).type)
            rows = rows.set_column(index, rows.schema.field(name), column)
    return StagedRedaction(rows, {"pii": report})

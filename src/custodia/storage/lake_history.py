"""Reading a Delta table's past: snapshots, time travel by version or timestamp, commit records.

Shared by :class:`~custodia.storage.lake.Lakehouse` and the query engine, which opens tables by
path from its catalog. Time travel errors name the table and the versions that can still be
read (vacuum and log cleanup end older ones).

Example::

    snap = open_snapshot(path, label="raw.events", version=3)
    snap.dataset().count_rows()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from custodia.core.errors import TableNotFoundError, TimeTravelError
from custodia.storage.lake_errors import delta_errors

if TYPE_CHECKING:
    import pyarrow.dataset as pads

__all__ = [
    "CommitRecord",
    "DataFile",
    "TableSnapshot",
    "commit_record",
    "open_latest",
    "open_snapshot",
    "version_range",
]

# commitInfo keys written by delta-rs itself; anything else came from ``commit_info``.
_STANDARD_COMMIT_KEYS = frozenset(
    {
        "timestamp",
        "operation",
        "operationParameters",
        "operationMetrics",
        "readVersion",
        "engineInfo",
        "clientVersion",
        "version",
        "isolationLevel",
        "isBlindAppend",
        "userMetadata",
        "userId",
        "userName",
    }
)


@dataclass(frozen=True)
class CommitRecord:
    """One entry of a table's history; ``info`` holds the caller's ``commit_info``."""

    version: int
    timestamp: datetime
    operation: str
    metrics: Mapping[str, int | float | str]
    info: Mapping[str, str]


@dataclass(frozen=True)
class TableSnapshot:
    """A table pinned at one version: its schema, its parquet files, or a pyarrow dataset.

    Example::

        snap = lake.snapshot("raw", "events", timestamp=datetime(2026, 11, 24, tzinfo=UTC))
        con.register("events", snap.dataset())
    """

    label: str
    path: Path
    version: int
    _table: DeltaTable = field(repr=False, compare=False)

    def dataset(self) -> pads.Dataset:
        """A lazy pyarrow dataset (partition columns included; projection is pushed down).

        Caution: with pyarrow 26, a *filter* on a string column fails for files that delta-rs
        merges wrote with ``string_view`` columns; filter after reading, or use the engine.
        """
        return self._table.to_pyarrow_dataset()

    def file_uris(self) -> list[str]:
        """The parquet files of this version (partition columns are NOT inside the files)."""
        return list(self._table.file_uris())

    def schema(self) -> pa.Schema:
        """The table schema at this version, as Arrow."""
        return pa.schema(self._table.schema().to_arrow())

    def partition_columns(self) -> tuple[str, ...]:
        """Columns whose values live in directory names and the log, not in the files."""
        return tuple(self._table.metadata().partition_columns)

    def reader_features(self) -> tuple[str, ...]:
        """Delta reader features the table uses (e.g. ``deletionVectors``)."""
        return tuple(self._table.protocol().reader_features or ())

    def data_files(self) -> list[DataFile]:
        """The parquet files of this version with their partition values, for other readers."""
        actions = pa.table(self._table.get_add_actions(flatten=True)).to_pylist()
        prefix = "partition."
        return [
            DataFile(
                path=_file_path(self.path, str(action["path"])),
                partition_values={
                    k.removeprefix(prefix): v for k, v in action.items() if k.startswith(prefix)
                },
                num_records=action.get("num_records"),
            )
            for action in actions
        ]


@dataclass(frozen=True)
class DataFile:
    """One parquet file of a snapshot; ``path`` is a local path (or a URI off the local disk)."""

    path: str
    partition_values: Mapping[str, object]
    num_records: int | None


def _file_path(root: Path, action_path: str) -> str:
    """Resolve an add action's path: relative ones are percent-encoded under the table root."""
    if "://" in action_path:
        parsed = urlparse(action_path)
        return unquote(parsed.path) if parsed.scheme == "file" else action_path
    return str(root.absolute() / unquote(action_path))


def open_snapshot(
    path: Path,
    *,
    label: str,
    version: int | None = None,
    timestamp: datetime | None = None,
) -> TableSnapshot:
    """Open the Delta table at ``path`` at a version, a point in time, or its latest version.

    ``timestamp`` picks the latest commit made at or before it (naive means UTC). Raises
    :class:`TimeTravelError` naming ``label`` and the available version range.
    """
    if version is not None and timestamp is not None:
        raise TimeTravelError(f"{label}: give a version or a timestamp, not both")
    latest = open_latest(path, label)
    if timestamp is not None:
        version = _version_at(latest, timestamp, label)
    if version is None or version == latest.version():
        return TableSnapshot(label, path, latest.version(), latest)
    return TableSnapshot(label, path, version, _open_version(latest, path, version, label))


def version_range(path: Path, *, label: str) -> tuple[int, int]:
    """The oldest and newest versions of the table at ``path`` that can still be read."""
    latest = open_latest(path, label)
    return _first_version(latest), int(latest.version())


def open_latest(path: Path, label: str) -> DeltaTable:
    if not (path / "_delta_log").is_dir():
        raise TableNotFoundError(f"table '{label}' does not exist")
    with delta_errors(label):
        return DeltaTable(str(path))


def _open_version(latest: DeltaTable, path: Path, version: int, label: str) -> DeltaTable:
    first = _first_version(latest)
    if isinstance(version, bool) or not first <= version <= latest.version():
        raise TimeTravelError(
            f"{label}: version {version} does not exist; "
            f"available versions are {first}..{latest.version()}"
        )
    try:
        return DeltaTable(str(path), version=version)
    except DeltaError:
        raise TimeTravelError(
            f"{label}: version {version} can no longer be read; "
            f"available versions are {first}..{latest.version()}"
        ) from None


def _version_at(table: DeltaTable, moment: datetime, label: str) -> int:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    commits = sorted((_commit_time(c), int(c["version"])) for c in table.history())
    eligible = [version for at, version in commits if at <= moment]
    if not eligible:
        first_at, first = commits[0]
        raise TimeTravelError(
            f"{label}: no version at {moment.isoformat()}; the oldest available version "
            f"{first} was committed at {first_at.isoformat()} "
            f"(available versions are {first}..{table.version()})"
        )
    return max(eligible)


def _first_version(table: DeltaTable) -> int:
    return min(int(commit["version"]) for commit in table.history())


def _commit_time(commit: Mapping[str, object]) -> datetime:
    millis = commit.get("timestamp")
    return datetime.fromtimestamp(int(str(millis)) / 1000, UTC)


def commit_record(commit: Mapping[str, object]) -> CommitRecord:
    raw_metrics = commit.get("operationMetrics") or {}
    metrics = {
        str(k): v if isinstance(v, int | float) else str(v)
        for k, v in dict(raw_metrics).items()  # type: ignore[call-overload]
    }
    info = {k: str(v) for k, v in commit.items() if k not in _STANDARD_COMMIT_KEYS}
    return CommitRecord(
        version=int(str(commit["version"])),
        timestamp=_commit_time(commit),
        operation=str(commit.get("operation", "")),
        metrics=metrics,
        info=info,
    )

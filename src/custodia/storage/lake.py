"""The lakehouse: Delta Lake tables on disk in three zones, every write an ACID commit.

A table lives at ``<root>/<zone>/<name>`` where zone is ``raw`` (as collected), ``staged``
(cleaned, typed) or ``curated`` (unified model). delta-rs gives atomic commits, optimistic
concurrency and time travel; this module adds the rules Custodia needs on top:

* data is cast to the table's declared schema before it is written (errors name the column);
* column statistics are kept only for columns the caller declares safe (``stats_columns``),
  because Delta copies min/max values into ``_delta_log`` where deletes cannot reach them;
* deletes go by surrogate key through a merge, so no key or personal value is written into the
  commit's predicate text;
* :meth:`Lakehouse.vacuum` and :meth:`Lakehouse.clean_log` physically remove what a delete left
  behind (old data files, old commits).

Partition values are stored in directory names and in the log: partition only by columns that
hold no personal data.

Example::

    lake = Lakehouse(Path("workspace/lake"))
    lake.ensure_table("raw", "events", EVENTS_SCHEMA, stats_columns=("timestamp", "event"))
    lake.append("raw", "events", batch, commit_info={"run_id": run_id})
    old = lake.snapshot("raw", "events", version=3).dataset()
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, Field, write_deltalake

from custodia.core.errors import (
    SchemaMismatchError,
    TableNotFoundError,
    ValidationError,
)
from custodia.storage.lake_errors import delta_errors
from custodia.storage.lake_history import (
    CommitRecord,
    TableSnapshot,
    commit_record,
    open_latest,
    open_snapshot,
    version_range,
)
from custodia.storage.lake_keys import new_rows_only
from custodia.storage.lake_schema import conform_to_schema, delta_compatible_schema
from custodia.storage.sealing import ColumnSealing, SealedColumns

__all__ = [
    "CommitRecord",
    "CommitResult",
    "Lakehouse",
    "TableLocation",
    "TableSnapshot",
    "Zone",
    "open_snapshot",
    "version_range",
]

Zone = Literal["raw", "staged", "curated"]
ZONES: tuple[Zone, ...] = get_args(Zone)
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DEFAULT_LOG_RETENTION = "interval 30 days"


@dataclass(frozen=True)
class TableLocation:
    """Where a table lives, for the query engine's catalog.

    ``columns`` limits what queries may see; empty means every column of the snapshot.
    """

    zone: str
    path: Path
    columns: tuple[str, ...] = ()
    sealed: SealedColumns | None = None
    """Columns that may hold encrypted values, opened by the engine's sealing hook."""


@dataclass(frozen=True)
class CommitResult:
    """What a write did: the version it committed (None when there was nothing to write)."""

    version: int | None
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


class Lakehouse:
    """Delta tables under ``root``, by zone and name; every write is one ACID commit.

    Example::

        lake = Lakehouse(tmp_path / "lake")
        lake.ensure_table("curated", "profiles", PROFILES, stats_columns=("profile_id",))
        lake.merge("curated", "profiles", changes, key_columns=("profile_id",))
        lake.delete_by_keys("curated", "profiles", "profile_id", ["p-42"])
    """

    def __init__(self, root: Path, *, sealing: ColumnSealing | None = None) -> None:
        self.root = Path(root)
        self._sealing = sealing

    def _sealed(self, name: str, data: pa.Table) -> pa.Table:
        """``data`` with the columns the sealing hook encrypts sealed (see storage.sealing)."""
        return data if self._sealing is None else self._sealing.seal(name, data)

    # -- locating tables --------------------------------------------------------------------

    def path(self, zone: Zone, name: str) -> Path:
        """Directory of a table (it need not exist); validates zone and name."""
        if zone not in ZONES:
            raise ValidationError("zone", "one_of", f"zone must be one of {', '.join(ZONES)}")
        if not _TABLE_NAME.match(name):
            raise ValidationError(
                "table", "identifier", "table names are lower-case letters, digits and '_'"
            )
        return self.root / zone / name

    def exists(self, zone: Zone, name: str) -> bool:
        """True when the table has a Delta log."""
        return (self.path(zone, name) / "_delta_log").is_dir()

    def list_tables(self) -> list[tuple[Zone, str, Path]]:
        """Every table, sorted by zone then name."""
        found: list[tuple[Zone, str, Path]] = []
        for zone in ZONES:
            zone_dir = self.root / zone
            if zone_dir.is_dir():
                found += [(zone, p.name, p) for p in sorted(zone_dir.iterdir()) if _is_delta_dir(p)]
        return found

    def catalog(self) -> dict[str, TableLocation]:
        """Tables for :class:`~custodia.storage.engine.QueryEngine`.

        Every table is listed as ``zone.name``; the bare ``name`` points at the most refined
        zone that has it (curated, then staged, then raw).
        """
        entries: dict[str, TableLocation] = {}
        for zone, name, path in self.list_tables():
            location = TableLocation(zone, path)
            entries[f"{zone}.{name}"] = location
            entries[name] = location  # later zones are more refined and win
        return entries

    # -- creating ---------------------------------------------------------------------------

    def ensure_table(
        self,
        zone: Zone,
        name: str,
        schema: pa.Schema,
        partition_by: Sequence[str] = (),
        stats_columns: Sequence[str] | None = None,
        description: str | None = None,
    ) -> bool:
        """Create the table if missing; returns True when it was created.

        ``stats_columns`` are the only columns whose min/max go into the log; None or empty
        keeps no column statistics at all (row counts are still kept). When the table exists,
        new nullable columns in ``schema`` are added; a dropped or retyped column is an error.
        """
        label = f"{zone}.{name}"
        path = self.path(zone, name)
        _check_columns_exist(schema, [*partition_by, *(stats_columns or ())], label)
        if self.exists(zone, name):
            self._evolve(label, path, schema, tuple(partition_by))
            return False
        config = _stats_configuration(stats_columns)
        path.parent.mkdir(parents=True, exist_ok=True)
        with delta_errors(label):
            DeltaTable.create(
                str(path),
                schema,
                mode="error",
                partition_by=list(partition_by) or None,
                name=name,
                description=description,
                configuration=config,
            )
        return True

    def _evolve(
        self, label: str, path: Path, declared: pa.Schema, partition_by: tuple[str, ...]
    ) -> None:
        table = open_latest(path, label)
        current = pa.schema(table.schema().to_arrow())
        wanted = delta_compatible_schema(declared, table=label)
        if tuple(table.metadata().partition_columns) != partition_by:
            raise SchemaMismatchError(
                f"{label}: table is partitioned by {table.metadata().partition_columns}, "
                f"not {list(partition_by)}"
            )
        added = _added_fields(current, wanted, label)
        if added:
            with delta_errors(label):
                table.alter.add_columns([Field.from_arrow(f) for f in added])

    # -- writing ----------------------------------------------------------------------------

    def append(
        self,
        zone: Zone,
        name: str,
        data: pa.Table,
        *,
        commit_info: Mapping[str, str] | None = None,
    ) -> CommitResult:
        """Append rows in one commit; ``commit_info`` (no personal data!) lands in the log.

        An empty ``data`` commits nothing and returns ``version=None``.
        """
        label, table = f"{zone}.{name}", self._open(zone, name)
        rows = conform_to_schema(self._sealed(name, data), _arrow_schema(table), table=label)
        if rows.num_rows == 0:
            return CommitResult(version=None)
        with delta_errors(label):
            write_deltalake(
                table, rows, mode="append", commit_properties=_commit_properties(commit_info)
            )
        return CommitResult(version=table.version(), inserted=rows.num_rows)

    def append_new(
        self,
        zone: Zone,
        name: str,
        data: pa.Table,
        key_column: str,
        *,
        commit_info: Mapping[str, str] | None = None,
    ) -> CommitResult:
        """Append only rows whose ``key_column`` the table does not hold yet (insert if absent).

        For immutable rows such as events. ``data`` must not repeat a key. One commit, or none
        when every key is already stored. Concurrent writers of the same keys must be serialized
        by the caller (the loader is the table's single writer).
        """
        label = f"{zone}.{name}"
        _check_keys(data, [key_column], label)
        fresh = new_rows_only(self.snapshot(zone, name), data, key_column)
        if fresh.num_rows == 0:
            return CommitResult(version=None)
        return self.append(zone, name, fresh, commit_info=commit_info)

    def replace_where(
        self,
        zone: Zone,
        name: str,
        data: pa.Table,
        column: str,
        value: str,
        *,
        commit_info: Mapping[str, str] | None = None,
    ) -> CommitResult:
        """Replace the rows whose ``column`` equals ``value`` by ``data`` in one commit (Delta's
        replace-where): readers see the old rows or the new ones, never neither. Every row of
        ``data`` must carry ``value``; an empty ``data`` only deletes. The predicate, with
        ``value``, lands in the log: use it for names, never for personal data."""
        label, table = f"{zone}.{name}", self._open(zone, name)
        rows = conform_to_schema(self._sealed(name, data), _arrow_schema(table), table=label)
        matches = pc.equal(rows.column(column), value).fill_null(False)
        if rows.num_rows and not pc.all(matches).as_py():
            raise ValidationError(
                column, "replace_where", f"{label}: every row must carry the {column} it replaces"
            )
        quoted = value.replace("'", "''")
        with delta_errors(label):
            write_deltalake(
                table,
                rows,
                mode="overwrite",
                predicate=f"\"{column}\" = '{quoted}'",
                commit_properties=_commit_properties(commit_info),
            )
        return CommitResult(version=table.version(), inserted=rows.num_rows)

    def overwrite(
        self,
        zone: Zone,
        name: str,
        data: pa.Table,
        *,
        commit_info: Mapping[str, str] | None = None,
    ) -> CommitResult:
        """Replace the whole content in one commit (older versions stay readable until vacuum)."""
        label, table = f"{zone}.{name}", self._open(zone, name)
        rows = conform_to_schema(self._sealed(name, data), _arrow_schema(table), table=label)
        with delta_errors(label):
            write_deltalake(
                table, rows, mode="overwrite", commit_properties=_commit_properties(commit_info)
            )
        return CommitResult(version=table.version(), inserted=rows.num_rows)

    def merge(
        self,
        zone: Zone,
        name: str,
        data: pa.Table,
        key_columns: Sequence[str],
        *,
        commit_info: Mapping[str, str] | None = None,
    ) -> CommitResult:
        """Upsert by key: new keys are inserted, matched rows get the columns ``data`` has.

        With every column present this is "when matched update all"; a column absent from
        ``data`` keeps its stored value (and is null in inserted rows), so a partial change
        cannot wipe other columns. Keys must be non-null and unique within ``data``.
        Idempotent: merging the same data twice leaves the same rows.
        """
        label, table = f"{zone}.{name}", self._open(zone, name)
        rows = conform_to_schema(self._sealed(name, data), _arrow_schema(table), table=label)
        _check_keys(rows, key_columns, label)
        if rows.num_rows == 0:
            return CommitResult(version=None)
        with delta_errors(label):
            metrics = (
                table.merge(
                    rows,
                    predicate=_key_predicate(key_columns),
                    source_alias="s",
                    target_alias="t",
                    commit_properties=_commit_properties(commit_info),
                )
                .when_matched_update(_update_columns(data.column_names))
                .when_not_matched_insert_all()
                .execute()
            )
        return CommitResult(
            version=table.version(),
            inserted=int(metrics.get("num_target_rows_inserted", 0)),
            updated=int(metrics.get("num_target_rows_updated", 0)),
        )

    def delete_by_keys(
        self,
        zone: Zone,
        name: str,
        key_column: str,
        keys: Sequence[str],
        *,
        commit_info: Mapping[str, str] | None = None,
    ) -> CommitResult:
        """Delete the rows whose surrogate key is in ``keys``.

        The keys travel as merge source data, so the commit's predicate is only
        ``t.key = s.key``: no key value is written to the log. Files rewritten by the delete
        stay on disk until :meth:`vacuum`; older commits stay until :meth:`clean_log`.
        """
        label, table = f"{zone}.{name}", self._open(zone, name)
        source = _key_source(_arrow_schema(table), key_column, keys, label)
        if source.num_rows == 0:
            return CommitResult(version=None)
        with delta_errors(label):
            metrics = (
                table.merge(
                    source,
                    predicate=_key_predicate((key_column,)),
                    source_alias="s",
                    target_alias="t",
                    commit_properties=_commit_properties(commit_info),
                )
                .when_matched_delete()
                .execute()
            )
        deleted = int(metrics.get("num_target_rows_deleted", 0))
        return CommitResult(version=table.version() if deleted else None, deleted=deleted)

    # -- maintenance ------------------------------------------------------------------------

    def vacuum(
        self, zone: Zone, name: str, retention_hours: int = 168, enforce: bool = False
    ) -> int:
        """Delete data files no longer referenced by versions younger than the retention.

        ``enforce=True`` refuses a retention shorter than the table's
        ``delta.deletedFileRetentionDuration``. Returns the number of files removed. Versions
        whose files are gone can no longer be read by time travel.
        """
        label, table = f"{zone}.{name}", self._open(zone, name)
        with delta_errors(label):
            removed = table.vacuum(
                retention_hours=retention_hours,
                dry_run=False,
                enforce_retention_duration=enforce,
            )
        return len(removed)

    def clean_log(self, zone: Zone, name: str, log_retention_hours: int | None = None) -> int:
        """Write a checkpoint and delete commit files older than the log retention.

        With ``log_retention_hours`` the retention is lowered for this cleanup (then restored)
        so that commits holding erased values disappear now, e.g. ``0`` after an erasure.
        Returns the number of log files removed; time travel to removed versions ends.
        """
        label, table = f"{zone}.{name}", self._open(zone, name)
        log_dir = self.path(zone, name) / "_delta_log"
        before = _log_entries(log_dir)
        with delta_errors(label):
            previous = table.metadata().configuration.get("delta.logRetentionDuration")
            if log_retention_hours is not None:
                retention = f"interval {int(log_retention_hours)} hours"
                table.alter.set_table_properties({"delta.logRetentionDuration": retention})
            table.create_checkpoint()
            table.cleanup_metadata()
            if log_retention_hours is not None:
                restored = previous or _DEFAULT_LOG_RETENTION
                table.alter.set_table_properties({"delta.logRetentionDuration": restored})
        return len(before - _log_entries(log_dir))

    # -- reading ----------------------------------------------------------------------------

    def snapshot(
        self,
        zone: Zone,
        name: str,
        version: int | None = None,
        timestamp: datetime | None = None,
    ) -> TableSnapshot:
        """The table at a version, at a point in time (naive = UTC), or latest."""
        path = self.path(zone, name)
        if not self.exists(zone, name):
            self._raise_not_found(zone, name)
        return open_snapshot(path, label=f"{zone}.{name}", version=version, timestamp=timestamp)

    def history(self, zone: Zone, name: str, limit: int | None = None) -> list[CommitRecord]:
        """Commits, newest first (only those whose log files still exist)."""
        table = self._open(zone, name)
        with delta_errors(f"{zone}.{name}"):
            return [commit_record(c) for c in table.history(limit)]

    def version(self, zone: Zone, name: str) -> int:
        """The latest committed version."""
        return int(self._open(zone, name).version())

    def row_count(self, zone: Zone, name: str) -> int:
        """Row count from the log's per-file ``numRecords`` (no data scan when available)."""
        table = self._open(zone, name)
        actions = pa.table(table.get_add_actions(flatten=True))
        if actions.num_rows == 0:
            return 0
        counts = actions.column("num_records")
        if counts.null_count:
            return int(table.to_pyarrow_dataset().count_rows())
        return int(pc.sum(counts).as_py())

    def schema(self, zone: Zone, name: str) -> pa.Schema:
        """The table's current Arrow schema."""
        return _arrow_schema(self._open(zone, name))

    # -- internals --------------------------------------------------------------------------

    def _open(self, zone: Zone, name: str) -> DeltaTable:
        if not self.exists(zone, name):
            self._raise_not_found(zone, name)
        with delta_errors(f"{zone}.{name}"):
            return DeltaTable(str(self.path(zone, name)))

    def _raise_not_found(self, zone: Zone, name: str) -> None:
        known = [n for z, n, _ in self.list_tables() if z == zone]
        raise TableNotFoundError(
            f"table '{zone}.{name}' does not exist; tables in {zone}: "
            f"{', '.join(known) if known else '(none)'}"
        )


def _is_delta_dir(path: Path) -> bool:
    return path.is_dir() and (path / "_delta_log").is_dir()


def _arrow_schema(table: DeltaTable) -> pa.Schema:
    return pa.schema(table.schema().to_arrow())


def _stats_configuration(stats_columns: Sequence[str] | None) -> dict[str, str | None]:
    if not stats_columns:
        return {"delta.dataSkippingNumIndexedCols": "0"}
    return {"delta.dataSkippingStatsColumns": ",".join(stats_columns)}


def _check_columns_exist(schema: pa.Schema, columns: Sequence[str], label: str) -> None:
    for column in columns:
        if schema.get_field_index(column) < 0:
            raise SchemaMismatchError(f"{label}: column '{column}' is not in the schema")


def _added_fields(current: pa.Schema, wanted: pa.Schema, label: str) -> list[pa.Field]:
    for existing in current:
        if wanted.get_field_index(existing.name) < 0:
            raise SchemaMismatchError(
                f"{label}: column '{existing.name}' exists in the table but not in the schema"
            )
        if not wanted.field(existing.name).type.equals(existing.type):
            raise SchemaMismatchError(
                f"{label}: column '{existing.name}' is {existing.type} in the table, "
                f"{wanted.field(existing.name).type} in the schema"
            )
    added = [f for f in wanted if current.get_field_index(f.name) < 0]
    for new in added:
        if not new.nullable:
            raise SchemaMismatchError(
                f"{label}: new column '{new.name}' must be nullable to be added to existing rows"
            )
    return added


def _check_keys(rows: pa.Table, key_columns: Sequence[str], label: str) -> None:
    if not key_columns:
        raise ValidationError("key_columns", "required", f"{label}: merge needs key columns")
    _check_columns_exist(rows.schema, key_columns, label)
    for key in key_columns:
        if rows.column(key).null_count:
            raise SchemaMismatchError(f"{label}: key column '{key}' has null values")
    if rows.num_rows and rows.group_by(list(key_columns)).aggregate([]).num_rows < rows.num_rows:
        raise SchemaMismatchError(
            f"{label}: the data has several rows for the same key ({', '.join(key_columns)})"
        )


def _key_source(schema: pa.Schema, key_column: str, keys: Sequence[str], label: str) -> pa.Table:
    _check_columns_exist(schema, [key_column], label)
    unique = pa.array(sorted(set(keys)), pa.string())
    key_type = schema.field(key_column).type
    try:
        column = pc.cast(unique, key_type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise ValidationError(
            "keys", "type", f"{label}: keys cannot be cast to {key_type} of '{key_column}'"
        ) from None
    return pa.table({key_column: column})


def _update_columns(columns: Sequence[str]) -> dict[str, str]:
    return {f'"{c}"': f's."{c}"' for c in columns}


def _key_predicate(key_columns: Sequence[str]) -> str:
    return " AND ".join(f't."{k}" = s."{k}"' for k in key_columns)


def _commit_properties(info: Mapping[str, str] | None) -> CommitProperties | None:
    if not info:
        return None
    return CommitProperties(custom_metadata={str(k): str(v) for k, v in info.items()})


def _log_entries(log_dir: Path) -> set[str]:
    return {p.name for p in log_dir.iterdir()} if log_dir.is_dir() else set()

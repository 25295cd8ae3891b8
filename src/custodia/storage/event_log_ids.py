"""Which ``messageId`` values ``events`` holds: an index the event loader asks instead of the table.

A retried message must be stored once however much later it comes back, so the loader needs, for
every chunk, the ids ``events`` already holds. Reading the whole ``message_id`` column of the
table for that grows with the table (3 s a chunk at 3 million rows, see docs/benchmarks.md);
this index answers from a B-tree in a SQLite file (``HOME/eventlog.ids.db``) in time that
depends on the chunk, not on the table.

The index is a cache of the Delta table, never the other way round, and says which table version
it reflects (``covered``). Before a chunk the loader calls :meth:`MessageIdIndex.sync`, which
catches up with every commit made since, whoever made it (the loader itself, a quarantine
replay, an event batch file load): it reads the ``message_id`` column of only the files added
since ``covered`` (one small file per commit in the steady state) and records the new version,
in one SQLite transaction. A crash between a Delta commit and the index update is therefore
harmless: the next sync reads that commit. After its own commit the loader adds its ids
directly (:meth:`~MessageIdIndex.add`), so the steady state reads no file at all.

The index is rebuilt from the whole table when it has nothing yet, when the table it covered
was replaced (another Delta table id) or when the version it covered can no longer be read (log
cleanup). Ids of rows deleted later (erasure) stay in the index: an erased message that a client
retries is not stored again.

It is a separate file from the event log on purpose: the collector's group commits and the
index writes would otherwise queue for the same SQLite write lock.

Example::

    index = MessageIdIndex(home / "eventlog.ids.db")
    index.sync(lake, "raw", "events")
    fresh = [i for i in ids if i not in index.stored(ids)]
    version = lake.append("raw", "events", rows).version
    index.add(fresh, version=version)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow.parquet as pq

from custodia.core.errors import StorageError, TimeTravelError
from custodia.storage.lake import Lakehouse, Zone
from custodia.storage.lake_history import open_latest

__all__ = ["IndexSync", "MessageIdIndex"]

KEY_COLUMN: Final = "message_id"
_BATCH: Final = 50_000
_CACHE_KIB: Final = 64 * 1024
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS message_ids (message_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_state (
    name TEXT PRIMARY KEY, table_id TEXT NOT NULL, covered INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class IndexSync:
    """What a :meth:`MessageIdIndex.sync` did: the version now covered, the ids it read and
    whether it had to rebuild from the whole table."""

    covered: int
    ids_read: int
    files_read: int
    rebuilt: bool


class MessageIdIndex:
    """The ``message_id`` values of one Delta table, in a SQLite file (one writer: the loader)."""

    def __init__(self, path: Path, *, name: str = "raw.events") -> None:
        self.path = path
        self._name = name
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # a cache: rebuilt if ever behind
            self._conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"message id index {path.name}: {exc}") from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> MessageIdIndex:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------------

    def stored(self, ids: Sequence[str]) -> set[str]:
        """The ``ids`` the table holds (as of the last sync and add)."""
        found: set[str] = set()
        ordered = sorted(ids)  # probes in key order stay on cached pages
        for start in range(0, len(ordered), _BATCH):
            rows = self._conn.execute(
                "SELECT value FROM json_each(?) "
                "WHERE value IN (SELECT message_id FROM message_ids)",
                (json.dumps(ordered[start : start + _BATCH]),),
            )
            found.update(row[0] for row in rows)
        return found

    def covered(self) -> int | None:
        """The table version the index reflects (``None``: never synced)."""
        row = self._state()
        return None if row is None else row[1]

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM message_ids").fetchone()[0])

    # -- writing --------------------------------------------------------------------------------

    def sync(self, lake: Lakehouse, zone: Zone, name: str) -> IndexSync:
        """Catch up with every commit of the table since the covered version."""
        path = lake.path(zone, name)
        label = f"{zone}.{name}"
        latest = open_latest(path, label)
        table_id, version = str(latest.metadata().id), int(latest.version())
        state = self._state()
        if state is not None and state[0] == table_id and state[1] == version:
            return IndexSync(version, 0, 0, rebuilt=False)
        files = None
        if state is not None and state[0] == table_id and state[1] < version:
            files = _added_files(lake, zone, name, since=state[1], until=version)
        rebuilt = files is None
        if files is None:
            files = [f.path for f in lake.snapshot(zone, name, version=version).data_files()]
        ids = _ids_of(files)
        with self._transaction():
            if rebuilt:
                self._conn.execute("DELETE FROM message_ids")
            self._insert(ids)
            self._set_state(table_id, version)
        return IndexSync(version, len(ids), len(files), rebuilt)

    def add(self, ids: Sequence[str], *, version: int | None) -> None:
        """Record ids the caller just committed at ``version``; the covered version moves on only
        when that commit directly follows it (else the next sync reads what came between)."""
        with self._transaction():
            self._insert(ids)
            state = self._state()
            if state is not None and version is not None and version == state[1] + 1:
                self._set_state(state[0], version)

    def _insert(self, ids: Sequence[str]) -> None:
        """Sorted first: B-tree inserts in key order touch each page once."""
        ordered = sorted(ids)
        for start in range(0, len(ordered), _BATCH):
            self._conn.execute(
                "INSERT OR IGNORE INTO message_ids SELECT value FROM json_each(?)",
                (json.dumps(ordered[start : start + _BATCH]),),
            )

    def _state(self) -> tuple[str, int] | None:
        row = self._conn.execute(
            "SELECT table_id, covered FROM index_state WHERE name = ?", (self._name,)
        ).fetchone()
        return None if row is None else (str(row[0]), int(row[1]))

    def _set_state(self, table_id: str, version: int) -> None:
        self._conn.execute(
            "INSERT INTO index_state (name, table_id, covered) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET table_id = excluded.table_id, "
            "covered = excluded.covered",
            (self._name, table_id, version),
        )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


def _added_files(
    lake: Lakehouse, zone: Zone, name: str, *, since: int, until: int
) -> list[str] | None:
    """Data files of version ``until`` that version ``since`` did not have; ``None`` when
    ``since`` can no longer be read."""
    try:
        before = {f.path for f in lake.snapshot(zone, name, version=since).data_files()}
    except TimeTravelError:
        return None
    now = lake.snapshot(zone, name, version=until).data_files()
    return [f.path for f in now if f.path not in before]


def _ids_of(files: Iterable[str]) -> list[str]:
    ids: list[str] = []
    for file in files:
        column = pq.read_table(file, columns=[KEY_COLUMN]).column(KEY_COLUMN)
        ids += (value for value in column.to_pylist() if value is not None)
    return ids

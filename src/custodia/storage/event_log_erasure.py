"""Erasing one person from the embedded event log files (``HOME/eventlog*.db``).

The collector keeps every accepted request body as it arrived, so a person's messages sit in
the log next to other people's until the log is pruned. An erasure deletes every entry whose
body holds one of the person's identifiers (as a JSON string, e.g. ``"U3"``) once the lake
loader has consumed it: the other people's events of that body are already in the lake. Entries
not consumed yet are kept and counted as ``pending`` (erase again after the loader caught up).
Deletion runs with ``secure_delete`` and ends with ``VACUUM`` and a WAL truncation, so no freed
page keeps the bytes.

Example::

    erased, pending = erase_log_entries(home / "eventlog.db", [b'"U3"'])
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

__all__ = ["erase_log_entries", "event_log_files"]


def event_log_files(home: Path) -> list[Path]:
    """The event log files of a workspace (one per server worker), without the id index."""
    return sorted(p for p in home.glob("eventlog*.db") if not p.name.startswith("eventlog.ids"))


def erase_log_entries(path: Path, needles: Sequence[bytes]) -> tuple[int, int]:
    """Delete consumed entries holding any of ``needles``; returns (deleted, pending)."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        matching = _matching(conn, needles)
        lowest = conn.execute("SELECT min(committed) FROM consumer_offsets").fetchone()[0]
        consumed = [seq for seq in matching if lowest is not None and seq <= int(lowest)]
        with conn:
            conn.executemany("DELETE FROM log_entries WHERE seq = ?", [(s,) for s in consumed])
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(consumed), len(matching) - len(consumed)
    finally:
        conn.close()


def _matching(conn: sqlite3.Connection, needles: Sequence[bytes]) -> list[int]:
    if not needles:
        return []
    where = " OR ".join("instr(payload, ?) > 0" for _ in needles)
    query = f"SELECT seq FROM log_entries WHERE {where} ORDER BY seq"
    return [int(row[0]) for row in conn.execute(query, list(needles))]

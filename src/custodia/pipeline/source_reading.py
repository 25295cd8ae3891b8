"""Open one mapped source for reading: files under a folder, or a database table.

Database sources with an ``incremental`` cursor column read from their last watermark on; the
new watermark is stored only by :meth:`SourceRead.commit`, after the load has landed and staged
everything, so a failed load is simply read again next time.

Example::

    read = open_source(ws, source, root=ws.sources_dir)
    for item in read.items: ...
    read.commit()
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from custodia.collect.incremental import IncrementalTracker, WatermarkState
from custodia.collect.mapping_spec import SourceFormat, SourceMapping
from custodia.collect.readers import ReadProblem, RecordChunk, read_file_chunks
from custodia.core.errors import ValidationError
from custodia.storage.sql_source import read_sql_chunks
from custodia.storage.store import Watermarks
from custodia.workspace import Workspace

__all__ = ["SourceRead", "open_source"]


@dataclass
class SourceRead:
    """The items of one source read, and the watermark to keep once they are loaded."""

    items: Iterator[RecordChunk | ReadProblem]
    marks: Watermarks | None = None
    source: str = ""
    table: str = ""
    tracker: IncrementalTracker | None = None

    def commit(self) -> str | None:
        """Store the new watermark (incremental reads); returns its cursor value."""
        if self.tracker is None or self.marks is None:
            return None
        state = self.tracker.state()
        if state is None:
            return None
        self.marks.set(self.source, self.table, state.to_text())
        return state.value

    @property
    def rows_skipped(self) -> int:
        return self.tracker.rows_skipped if self.tracker else 0


def open_source(
    ws: Workspace, source: SourceMapping, *, root: Path, database_url: str | None = None
) -> SourceRead:
    """Start reading ``source`` (files relative to ``root``, or its database)."""
    if source.format.is_database:
        return _open_table(ws, source, root, database_url)
    if not source.path:
        raise ValidationError("path", "required", f"source {source.name}: no file path given")
    items = read_file_chunks(
        root,
        source.path,
        source.format,
        encoding=source.encoding,
        delimiter=source.delimiter,
        sheet=source.sheet,
    )
    return SourceRead(items)


def _open_table(
    ws: Workspace, source: SourceMapping, root: Path, database_url: str | None
) -> SourceRead:
    if not source.table:
        raise ValidationError("table", "required", f"source {source.name}: `table` is required")
    url, located = _database(source, root, database_url)
    if source.incremental is None:
        chunks = read_sql_chunks(url, source.table)
        return SourceRead(_numbered(chunks, located, located))
    marks = Watermarks(ws.store, ws.clock)
    previous = WatermarkState.from_text(
        marks.get(source.name, source.table), column=source.incremental
    )
    since = previous.value if previous else None
    tracker = IncrementalTracker(source.incremental, previous)
    chunks = read_sql_chunks(url, source.table, cursor=source.incremental, since=since)
    scope = f"{located}@{since or 'start'}"
    items = _numbered((tracker.apply(chunk) for chunk in chunks), located, scope)
    return SourceRead(items, marks, source.name, source.table, tracker)


def _database(source: SourceMapping, root: Path, database_url: str | None) -> tuple[str, str]:
    """The SQLAlchemy URL and the name records are located by (``path#table`` or ``table``)."""
    assert source.table is not None
    if database_url:
        return database_url, source.table
    if source.format is SourceFormat.SQL:
        raise ValidationError(
            "url",
            "required",
            f"source {source.name}: load database sources with `custodia ingest db URL ...`",
        )
    if not source.path:
        raise ValidationError("path", "required", f"source {source.name}: no database path")
    path = root / source.path
    if not path.is_file():
        raise ValidationError("path", "exists", f"source {source.name}: {source.path} not found")
    return f"sqlite:///{path}", f"{source.path}#{source.table}"


def _numbered(chunks: Iterator[pa.Table], located: str, scope: str) -> Iterator[RecordChunk]:
    """Number rows 1, 2, ... across the chunks of one read."""
    position = 1
    for chunk in chunks:
        if chunk.num_rows:
            yield RecordChunk.of(chunk, located, first_position=position, key_scope=scope)
            position += chunk.num_rows

"""Ingest one file (or glob) or one database table through a source of a mapping file.

What ``custodia ingest file`` and ``custodia ingest db`` run: the named source of the mapping file
says what the records are and which canonical tables they fill; the command line says where
they are. Each ingest is one recorded run (kind ``ingest``) of :func:`load_sources`, so it lands
raw, quarantines what it cannot read or map, stages by key, and for an incremental database
source keeps the watermark.

Example::

    mappings = load_mapping_file(Path("examples/mappings/store_members.yaml"))
    report = ingest_file(ws, mappings, "store_members", Path("exports/会员.csv"), encoding="gbk")
    report = ingest_db(ws, mappings, "erp_customers", "postgresql://erp@db/erp",
                       table="customers", incremental="updated_at")
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from custodia.collect.mapping_spec import MappingFile, SourceFormat, SourceMapping
from custodia.core.errors import ValidationError
from custodia.pipeline.load_report import LoadReport
from custodia.pipeline.source_load import load_sources
from custodia.workspace import Workspace

__all__ = ["ingest_db", "ingest_file"]

Progress = Callable[[str, int, int], None]
_GLOB = set("*?[")


def ingest_file(
    ws: Workspace,
    mappings: MappingFile,
    source_name: str,
    path: Path,
    *,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load the file (or files of a glob in one folder) at ``path`` as source ``source_name``."""
    source = mappings.source(source_name)
    if source.format.is_database:
        raise ValidationError(
            "source", "file_source", f"source {source_name} reads a database: use `ingest db`"
        )
    root, pattern = _root_and_pattern(path)
    update = {"path": pattern, "encoding": encoding or source.encoding}
    return _ingest(ws, mappings, source.model_copy(update=update), root, progress, None)


def ingest_db(
    ws: Workspace,
    mappings: MappingFile,
    source_name: str,
    url: str,
    *,
    table: str,
    incremental: str | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load table ``table`` of the database at ``url`` (SQLAlchemy URL) as ``source_name``,
    all of it or, with an ``incremental`` cursor column, what changed since the last load."""
    source = mappings.source(source_name)
    if not source.format.is_database:
        raise ValidationError(
            "source", "db_source", f"source {source_name} reads files: use `ingest file`"
        )
    update = {
        "format": SourceFormat.SQL,
        "table": table,
        "incremental": incremental or source.incremental,
    }
    copy = source.model_copy(update=update)
    return _ingest(ws, mappings, copy, ws.sources_dir, progress, url)


def _ingest(
    ws: Workspace,
    mappings: MappingFile,
    source: SourceMapping,
    root: Path,
    progress: Progress | None,
    url: str | None,
) -> LoadReport:
    single = MappingFile(lookups=mappings.lookups, sources=[source])
    urls = {source.name: url} if url else None
    return load_sources(ws, single, root=root, progress=progress, kind="ingest", database_urls=urls)


def _root_and_pattern(path: Path) -> tuple[Path, str]:
    """A file is read from its folder; a glob may use wildcards in its last part only."""
    if _GLOB & set(str(path.parent)):
        raise ValidationError("path", "glob", "wildcards are allowed in the file name only")
    if _GLOB & set(path.name):
        return path.parent, path.name
    if path.is_dir():
        raise ValidationError("path", "file", f"{path} is a folder; name a file or a glob")
    if not path.is_file():
        raise ValidationError("path", "exists", f"no file {path}")
    return path.parent, path.name

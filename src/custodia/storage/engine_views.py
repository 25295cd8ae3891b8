"""Expose a Delta snapshot to DuckDB as a view over its parquet files.

DuckDB's own parquet reader does the scanning: it is parallel, pushes projections and filters
into the files, answers ``count(*)`` from footers, and reads whatever physical string layout a
writer chose (delta-rs merges write ``string_view``, which pyarrow 26 cannot filter against a
``string`` dataset schema). What Delta adds on top is handled here:

* partition columns are not inside the files: when the directory names encode them the usual
  ``col=value`` way (delta-rs and Spark do), DuckDB's hive partitioning reads them and prunes
  files by them; otherwise each partition's files form one branch of a ``UNION ALL`` with the
  partition values as typed constants;
* columns added after older files were written are NULL for those files;
* every column is cast to the type the Delta schema declares (DuckDB drops no-op casts);
* ``columns`` limits the view to what the catalog exposes.

The returned file list feeds DuckDB's ``allowed_paths`` so the connection can then be locked.

Example::

    files = register_snapshot(con, '"events"', snapshot)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import groupby
from pathlib import Path
from urllib.parse import unquote

import duckdb

from custodia.core.errors import StorageError
from custodia.storage.lake_history import DataFile, TableSnapshot
from custodia.storage.sealing import OPEN_FUNCTION, SealedColumns
from custodia.storage.sql_guard import quote_identifier

__all__ = [
    "UNSUPPORTED_FEATURES",
    "hive_layout",
    "lock_down",
    "partition_key",
    "register_snapshot",
]

# Reader features that change how files must be read; the parquet files alone would be wrong.
UNSUPPORTED_FEATURES = frozenset({"deletionVectors", "columnMapping"})
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def register_snapshot(
    con: duckdb.DuckDBPyConnection,
    target: str,
    snapshot: TableSnapshot,
    columns: Sequence[str] = (),
    sealed: SealedColumns | None = None,
) -> list[str]:
    """Create view ``target`` (already quoted) over ``snapshot``; returns the files it reads.

    With ``sealed``, those columns are read through the open function (storage.sealing).
    """
    unsupported = UNSUPPORTED_FEATURES.intersection(snapshot.reader_features())
    if unsupported:
        raise StorageError(
            f"{snapshot.label}: Delta feature(s) {', '.join(sorted(unsupported))} "
            f"are not supported by the embedded engine"
        )
    types = _duckdb_types(con, snapshot)
    wanted = [c for c in columns if c in types] if columns else list(types)
    files = snapshot.data_files()
    if not files:
        empty = ", ".join(f"CAST(NULL AS {types[c]}) AS {quote_identifier(c)}" for c in wanted)
        con.execute(f"CREATE VIEW {target} AS SELECT {empty} LIMIT 0")
        return []
    partitions = snapshot.partition_columns()
    if hive_layout(files, snapshot, partitions):
        hive_types = {c: types[c] for c in partitions}
        branches = [_branch(con, files, wanted, types, partitions, hive_types)]
    else:
        branches = [
            _branch(con, list(group), wanted, types, partitions, None)
            for _, group in groupby(sorted(files, key=partition_key), key=partition_key)
        ]
    body = "\nUNION ALL\n".join(branches)
    con.execute(f"CREATE VIEW {target} AS {_opening(body, wanted, sealed)}")
    return [f.path for f in files]


def _opening(body: str, wanted: Sequence[str], sealed: SealedColumns | None) -> str:
    """``body``, with the sealed columns it returns replaced by their opened values."""
    if sealed is None or sealed.row_key not in wanted:
        return body
    opened = [c for c in sealed.columns if c in wanted]
    if not opened:
        return body
    key = quote_identifier(sealed.row_key)
    table = _string_literal(sealed.table)
    calls = ", ".join(
        f"{OPEN_FUNCTION}({table}, {_string_literal(c)}, CAST({key} AS VARCHAR), "
        f"{quote_identifier(c)}) AS {quote_identifier(c)}"
        for c in opened
    )
    return f"SELECT * REPLACE ({calls}) FROM (\n{body}\n) AS __custodia_sealed"


def lock_down(con: duckdb.DuckDBPyConnection, readable_files: Sequence[str]) -> None:
    """Forbid file access except ``readable_files``, then freeze every setting."""
    allowed = ", ".join(_string_literal(path) for path in readable_files)
    con.execute(f"SET allowed_paths = [{allowed}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def _duckdb_types(con: duckdb.DuckDBPyConnection, snapshot: TableSnapshot) -> dict[str, str]:
    """DuckDB's own name for each column's type, via an empty Arrow table of the schema."""
    probe = "__custodia_schema_probe__"
    con.register(probe, snapshot.schema().empty_table())
    try:
        rows = con.execute(f"DESCRIBE {quote_identifier(probe)}").fetchall()
    finally:
        con.unregister(probe)
    return {str(row[0]): str(row[1]) for row in rows}


def hive_layout(files: list[DataFile], snapshot: TableSnapshot, partitions: Sequence[str]) -> bool:
    """True when every file sits under ``col=value`` directories that DuckDB decodes to exactly
    the partition values in the log; then one scan with hive partitioning reads the table and
    DuckDB prunes files by partition filters."""
    if not partitions:
        return False
    root = snapshot.path.absolute()
    return all(_hive_encoded(f, root, partitions) for f in files)


def _hive_encoded(file: DataFile, root: Path, partitions: Sequence[str]) -> bool:
    try:
        directories = Path(file.path).relative_to(root).parts[:-1]
    except ValueError:
        return False
    if len(directories) != len(partitions):
        return False
    for directory, column in zip(directories, partitions, strict=True):
        key, _, encoded = directory.partition("=")
        value = file.partition_values.get(column)
        if key != column:
            return False
        if value is None:
            if encoded != _HIVE_NULL:
                return False
        elif _hive_text(value) != unquote(encoded):
            return False
    return True


def _hive_text(value: object) -> str | None:
    """How a partition value reads back from a directory name; None when not comparable."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return None


def _branch(
    con: duckdb.DuckDBPyConnection,
    files: list[DataFile],
    wanted: list[str],
    types: Mapping[str, str],
    partitions: Sequence[str],
    hive_types: Mapping[str, str] | None,
) -> str:
    paths = "[" + ", ".join(_string_literal(f.path) for f in files) + "]"
    options = "union_by_name = true"
    if hive_types:
        typed = ", ".join(
            f"{_string_literal(k)}: {_string_literal(v)}" for k, v in hive_types.items()
        )
        options += f", hive_partitioning = true, hive_types = {{{typed}}}"
    source = f"read_parquet({paths}, {options})"
    present = set(con.sql(f"SELECT * FROM {source} LIMIT 0").columns)
    values = None if hive_types else files[0].partition_values
    select = [_column(c, types[c], present, partitions, values) for c in wanted]
    return f"SELECT {', '.join(select)} FROM {source}"


def _column(
    name: str,
    type_name: str,
    present: set[str],
    partitions: Sequence[str],
    values: Mapping[str, object] | None,
) -> str:
    if name in partitions and values is not None:
        expression = _value_literal(values.get(name))
    elif name in present:
        expression = quote_identifier(name)
    else:
        expression = "NULL"  # the column was added after these files were written
    return f"CAST({expression} AS {type_name}) AS {quote_identifier(name)}"


def partition_key(file: DataFile) -> tuple[str, ...]:
    """Sort and group key of a file by its partition values (one branch per partition)."""
    return tuple(repr(file.partition_values[k]) for k in sorted(file.partition_values))


def _value_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime | date):
        return _string_literal(value.isoformat())
    return _string_literal(str(value))


def _string_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

"""Run pipeline SQL on Apache Spark over the lake's Delta snapshots: the scale-out engine.

The embedded engine is DuckDB (:mod:`custodia.storage.engine`); the same compiled SQL,
transpiled to Spark's dialect by sqlglot, runs here. delta-spark's jars come from Maven, which
is unreachable on this machine, so each table is read the way DuckDB reads it: the Delta
snapshot's own list of parquet files (``TableSnapshot.data_files``), read with the Delta schema
(converted from Arrow), registered as a temporary view under the table's name:

* partition columns are not inside the files: when the directories encode them the usual
  ``col=value`` way (delta-rs and Spark do; the test is shared with the DuckDB views), Spark's
  partition discovery under ``basePath`` reads them, typed by the schema; otherwise each
  partition's files are read apart and the values added as typed constants;
* columns added after older files were written are NULL for those files (a read schema fills
  them), and ``columns`` limits the view to what the catalog exposes;
* the session runs in UTC, so ``CAST(ts AS DATE)`` gives the same day as DuckDB;
* DuckDB functions Spark lacks (``nfc_normalize``) are registered as Python UDFs.

Sessions come from :func:`spark_session` (local mode by default) or from the caller (a cluster);
the engine registers views and drops them again, it never stops a session it did not create.
On a real cluster the native Delta reader (delta-spark) is the better path; this one needs the
table files reachable from every executor (a shared or object-store path).

Example::

    spark = spark_session()
    engine = SparkQueryEngine(ws.table_locations(), spark)
    with engine.session(["orders"]) as session:
        session.run("SELECT source, count(*) AS n FROM orders GROUP BY 1")  # a pyarrow Table
    spark.stop()
"""

from __future__ import annotations

import os

# pickle only hashes the engine's own sealing factory here; nothing is ever unpickled
import pickle  # nosec B403
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import groupby
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from sqlglot.errors import SqlglotError

from custodia.core.errors import ConfigurationError, QueryError, StorageError, TableNotFoundError
from custodia.storage.engine_views import UNSUPPORTED_FEATURES, hive_layout, partition_key
from custodia.storage.lake import TableLocation, TableSnapshot, open_snapshot
from custodia.storage.lake_history import DataFile
from custodia.storage.sealing import CIPHERTEXT_MARK, ColumnSealing, SealedColumns
from custodia.storage.sql_guard import table_references

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = [
    "SPARK_DIALECT",
    "SparkQueryEngine",
    "SparkQuerySession",
    "snapshot_frame",
    "spark_session",
]

SPARK_DIALECT = "spark"
_QUOTED_VALUE = re.compile(r"'(?:[^']|'')*'")
_LOCAL_CONFIG = {
    "spark.ui.enabled": "false",
    # Python UDFs run in this interpreter's environment, not whatever python3 is on PATH.
    "spark.pyspark.python": sys.executable,
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    # SELECT ... FROM parquet.`/any/path` would read files outside the catalog.
    "spark.sql.runSQLOnFiles": "false",
}


def spark_session(
    master: str = "local[2]", config: Mapping[str, str] | None = None
) -> SparkSession:
    """A Spark session for the engine: UTC, no web UI, few shuffle partitions, no SQL on files.

    ``master`` is ``local[N]`` for one machine or a cluster URL; ``config`` adds or overrides
    settings. Raises :class:`ConfigurationError` when pyspark (or Java) is missing.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise ConfigurationError(
            "engine 'spark': pyspark is not installed (pip install 'custodia[spark]')"
        ) from err
    # The Python workers must be this interpreter (with custodia importable, for the sealing
    # hook): pyspark takes the worker's interpreter from PYSPARK_PYTHON, not only the config.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName("custodia")
    for key, value in {**_LOCAL_CONFIG, **(config or {})}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as err:  # py4j raises bare Exceptions when the JVM cannot start
        raise ConfigurationError(f"engine 'spark': the session did not start ({err})") from None
    # Spark logs each failed statement as an ERROR; the engine raises it as QueryError anyway.
    spark.sparkContext.setLogLevel("FATAL")
    return spark


class SparkQueryEngine:
    """Runs SQL (Spark dialect) over Delta tables named in ``catalog``, on ``spark``.

    Example::

        engine = SparkQueryEngine({"orders": TableLocation("staged", path)}, spark)
        with engine.session(["orders"]) as session:
            session.run("SELECT count(*) AS n FROM orders")
    """

    dialect = SPARK_DIALECT

    def __init__(
        self,
        catalog: Mapping[str, TableLocation],
        spark: SparkSession,
        *,
        sealing: Callable[[], ColumnSealing] | None = None,
    ) -> None:
        """``sealing`` builds the hook that opens sealed columns (storage.sealing); it is
        pickled to the Python workers, which call it once each, so it must be picklable
        (e.g. ``functools.partial`` of a module function and the workspace settings)."""
        self._catalog = dict(catalog)
        self._spark = spark
        self._sealing = sealing

    @contextmanager
    def session(self, tables: Iterable[str]) -> Iterator[SparkQuerySession]:
        """Temporary views of ``tables`` (latest versions), dropped when the block ends.

        Tables a later query names that were not listed are registered when first used.
        """
        session = SparkQuerySession(self._spark, self._catalog, self._sealing)
        _register_duckdb_functions(self._spark)
        try:
            for key in tables:
                session.register(key)
            yield session
        finally:
            session.close()


class SparkQuerySession:
    """Queries on one Spark session over registered snapshots (:meth:`SparkQueryEngine.session`)."""

    dialect = SPARK_DIALECT

    def __init__(
        self,
        spark: SparkSession,
        catalog: Mapping[str, TableLocation],
        sealing: Callable[[], ColumnSealing] | None = None,
    ) -> None:
        self._spark = spark
        self._catalog = catalog
        self._sealing = sealing
        self._views: list[str] = []

    def register(self, key: str) -> None:
        """Expose table ``key``'s latest snapshot as a temporary view of the same name."""
        if key in self._views:
            return
        if key not in self._catalog or "." in key:
            known = ", ".join(sorted(self._catalog)) or "(none)"
            raise TableNotFoundError(f"unknown table '{key}'; known tables: {known}")
        location = self._catalog[key]
        snapshot = open_snapshot(location.path, label=key)
        frame = snapshot_frame(self._spark, snapshot, location.columns)
        if location.sealed is not None and self._sealing is not None:
            frame = _opened(frame, location.sealed, self._sealing)
        frame.createOrReplaceTempView(key)
        self._views.append(key)

    def add_relation(self, name: str, rows: pa.Table) -> None:
        """Make ``rows`` readable as the temporary view ``name`` (dropped on close)."""
        self._spark.createDataFrame(rows).createOrReplaceTempView(name)
        if name not in self._views:
            self._views.append(name)

    def run(self, sql: str) -> pa.Table:
        """Run trusted SQL (Spark dialect); catalog tables it names are registered first."""
        return self._collect(sql, strict=False)

    def query(self, sql: str) -> pa.Table:
        """Run a user's SQL (Spark dialect): every table it names must be a catalog table.

        Check the statement is read-only first (``sql_guard.parse_read_only`` on its DuckDB
        text); here Spark's SQL on files is off, so only registered views can be read.
        """
        return self._collect(sql, strict=True)

    def close(self) -> None:
        for name in self._views:
            self._spark.catalog.dropTempView(name)
        self._views.clear()

    def _collect(self, sql: str, *, strict: bool) -> pa.Table:
        for name in self._tables_named(sql, strict=strict):
            self.register(name)
        try:
            result: pa.Table = self._spark.sql(sql).toArrow()
        except Exception as err:  # pyspark's exception tree and py4j's both land here
            raise _query_error(err) from None
        return result

    def _tables_named(self, sql: str, *, strict: bool) -> list[str]:
        try:
            tree = sqlglot.parse_one(sql, read=SPARK_DIALECT)
        except SqlglotError as err:
            raise QueryError(f"Spark SQL does not parse: {str(err).splitlines()[0]}") from None
        names = [ref.key for ref in table_references(tree, strict=strict)]
        return [n for n in names if strict or n in self._catalog]


def snapshot_frame(
    spark: SparkSession, snapshot: TableSnapshot, columns: Iterable[str] = ()
) -> DataFrame:
    """A DataFrame of ``snapshot``'s rows, typed by its Delta schema, limited to ``columns``."""
    from pyspark.sql.functions import col

    unsupported = UNSUPPORTED_FEATURES.intersection(snapshot.reader_features())
    if unsupported:
        raise StorageError(
            f"{snapshot.label}: Delta feature(s) {', '.join(sorted(unsupported))} "
            f"are not supported by the Spark snapshot reader"
        )
    schema = _spark_schema(snapshot.schema())
    wanted = [c for c in columns if c in schema.names] or schema.names
    files = snapshot.data_files()
    partitions = snapshot.partition_columns()
    if not files:
        frame = spark.createDataFrame([], schema)
    elif not partitions or hive_layout(files, snapshot, partitions):
        reader = spark.read.schema(schema)
        if partitions:  # partition discovery under basePath, values typed by the schema
            reader = reader.option("basePath", str(snapshot.path.absolute()))
        frame = reader.parquet(*[f.path for f in files])
    else:
        frame = _partition_branches(spark, snapshot, files, partitions)
    return frame.select(*[col(f"`{c}`") for c in wanted])


def _opened(
    frame: DataFrame, sealed: SealedColumns, sealing: Callable[[], ColumnSealing]
) -> DataFrame:
    """``frame`` with its sealed columns read through the sealing hook, in the workers."""
    from pyspark.sql.functions import col, lit, udf
    from pyspark.sql.types import StringType

    if sealed.row_key not in frame.columns:
        return frame

    def open_value(table: str, column: str, key: str | None, value: str | None) -> str | None:
        if value is None or not value.startswith(CIPHERTEXT_MARK):
            return value
        hook = _worker_sealing(sealing)
        opened = hook.open(table, column, pa.array([key], pa.string()), pa.array([value]))
        return opened[0].as_py()  # type: ignore[no-any-return]

    open_udf = udf(open_value, StringType())
    for name in (c for c in sealed.columns if c in frame.columns):
        key = col(f"`{sealed.row_key}`").cast("string")
        frame = frame.withColumn(
            name, open_udf(lit(sealed.table), lit(name), key, col(f"`{name}`"))
        )
    return frame


_WORKER_SEALING: dict[int, ColumnSealing] = {}


def _worker_sealing(build: Callable[[], ColumnSealing]) -> ColumnSealing:
    """One sealing hook per worker process and workspace (the factory's pickled identity)."""
    slot = hash(pickle.dumps(build))
    if slot not in _WORKER_SEALING:
        _WORKER_SEALING[slot] = build()
    return _WORKER_SEALING[slot]


def _partition_branches(
    spark: SparkSession,
    snapshot: TableSnapshot,
    files: list[DataFile],
    partitions: Sequence[str],
) -> DataFrame:
    """Files not laid out ``col=value``: one read per partition, its values added as constants."""
    from pyspark.sql.functions import lit

    schema = _spark_schema(snapshot.schema())
    data_schema = _spark_schema(
        pa.schema([f for f in snapshot.schema() if f.name not in partitions])
    )
    frame: DataFrame | None = None
    for _, group in groupby(sorted(files, key=partition_key), key=partition_key):
        chunk = list(group)
        branch = spark.read.schema(data_schema).parquet(*[f.path for f in chunk])
        for column in partitions:
            value = lit(chunk[0].partition_values.get(column)).cast(schema[column].dataType)
            branch = branch.withColumn(column, value)
        frame = branch if frame is None else frame.unionByName(branch)
    assert frame is not None  # callers pass at least one file
    return frame


def _spark_schema(schema: pa.Schema) -> StructType:
    """Spark's schema for an Arrow one; view and large string/binary types as the plain ones
    Spark's converter knows (the parquet reader does not care which layout a writer chose)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    plain = {pa.string_view(): pa.string(), pa.large_string(): pa.string(),
             pa.binary_view(): pa.binary(), pa.large_binary(): pa.binary()}  # fmt: skip
    converted: StructType = from_arrow_schema(
        pa.schema([f.with_type(plain.get(f.type, f.type)) for f in schema])
    )
    return converted


def _register_duckdb_functions(spark: SparkSession) -> None:
    """DuckDB functions the shared SQL uses that Spark lacks, under the same name:
    ``nfc_normalize`` (Unicode NFC, used by ``match`` rules that normalize ``nfc``) as a Python
    UDF; ``person_key`` (a 64-bit hash of a text, ``engine.SHARED_MACROS``) in SQL."""
    from pyspark.sql.types import StringType

    spark.sql(
        "CREATE OR REPLACE TEMPORARY FUNCTION person_key(p STRING) RETURNS BIGINT "
        "RETURN xxhash64(p)"
    )

    # a lambda is shipped to the Python workers by value: they need not have custodia installed
    spark.udf.register(
        "nfc_normalize",
        lambda text: None if text is None else unicodedata.normalize("NFC", text),
        StringType(),
    )


def _query_error(err: Any) -> QueryError:
    """One line from Spark's error, data values redacted."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = _QUOTED_VALUE.sub("'…'", lines[0] if lines else type(err).__name__)
    return QueryError(" ".join(text.split())[:400])

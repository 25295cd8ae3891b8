"""The database behind probabilistic record linkage (Splink): DuckDB here, Spark at scale.

Splink renders its SQL late, for whichever database API object it is given. Only storage may
create engines, so identity code asks this module for one by engine name and never imports
duckdb or pyspark itself. A small factory keyed by name keeps the door open: ``"duckdb"`` (the
embedded default, an in-memory connection owned and closed here) and ``"spark"`` (needs a
``SparkSession`` passed in as ``spark``; Splink's Spark backend also wants its similarity jar on
the session, see Splink's docs).

Example::

    with linkage_backend("duckdb", threads=2) as db_api:
        frame = db_api.register(records)      # a pyarrow table
        linker = Linker(frame, settings)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from custodia.core.errors import ConfigurationError

__all__ = ["LINKAGE_ENGINES", "linkage_backend"]


@contextmanager
def _duckdb(threads: int | None = None, memory_limit: str | None = None) -> Iterator[Any]:
    import duckdb
    from splink.backends.duckdb import DuckDBAPI

    con = duckdb.connect(":memory:")
    try:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            con.execute("SET memory_limit = ?", [memory_limit])
        yield DuckDBAPI(connection=con)
    finally:
        con.close()


@contextmanager
def _spark(spark: Any = None, num_partitions_on_repartition: int | None = None) -> Iterator[Any]:
    if spark is None:
        raise ConfigurationError(
            "linkage engine 'spark': option 'spark' (a SparkSession) is required"
        )
    try:
        from splink.backends.spark import SparkAPI
    except ImportError as err:
        raise ConfigurationError("linkage engine 'spark': pyspark is not installed") from err
    options: dict[str, Any] = {"spark_session": spark}
    if num_partitions_on_repartition is not None:
        options["num_partitions_on_repartition"] = num_partitions_on_repartition
    yield SparkAPI(**options)  # type: ignore[no-untyped-call]


_ENGINES: dict[str, Callable[..., AbstractContextManager[Any]]] = {
    "duckdb": _duckdb,
    "spark": _spark,
}
LINKAGE_ENGINES: tuple[str, ...] = tuple(_ENGINES)
"""Engine names :func:`linkage_backend` knows."""


def linkage_backend(engine: str = "duckdb", **options: Any) -> AbstractContextManager[Any]:
    """A Splink database API for ``engine``, released when the ``with`` block ends.

    Options: ``duckdb`` takes ``threads`` and ``memory_limit`` (e.g. ``"2GB"``); ``spark`` takes
    ``spark`` (the session) and ``num_partitions_on_repartition``.
    """
    factory = _ENGINES.get(engine)
    if factory is None:
        raise ConfigurationError(
            f"linkage engine {engine!r} is unknown; known: {', '.join(LINKAGE_ENGINES)}"
        )
    try:
        return factory(**options)
    except TypeError:
        raise ConfigurationError(
            f"linkage engine {engine!r}: unknown option among {', '.join(sorted(options))}"
        ) from None

"""Identifiers: surrogate keys for records, runs and events.

Surrogate keys never contain personal data, so they are safe in Delta statistics, commit metadata,
logs and delete predicates. A record's key is derived from its source and source key with a keyed
an opaque scheme that SQL engines can compute too (``md5`` exists in DuckDB, Spark and
PostgreSQL), so batch transforms written in SQL derive the same keys.
``record_key("crm", "M0001")`` is stable across runs.
"""

from __future__ import annotations

import hashlib
import uuid


def new_id(prefix: str) -> str:
    """A random, sortable-enough identifier such as ``run_4f1c...``."""
    return f"{prefix}_{uuid.uuid4().hex}"


def record_key(source: str, source_key: str) -> str:
    """A stable surrogate key for one source record; opaque, so it leaks no personal data.

    >>> record_key("crm", "M0000001") == record_key("crm", "M0000001")
    True
    """
    digest = hashlib.md5(f"{source}|{source_key}".encode(), usedforsecurity=False).hexdigest()
    return f"{source}:{digest[:24]}"


def record_key_sql(source_sql: str, key_sql: str) -> str:
    """The SQL expression that computes :func:`record_key` from two SQL string expressions."""
    return f"({source_sql} || ':' || substr(md5({source_sql} || '|' || {key_sql}), 1, 24))"

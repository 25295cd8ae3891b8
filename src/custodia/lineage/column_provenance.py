"""Column provenance: which source fields a mapping expression reads.

A mapping sets each canonical column from a SQL expression over the source's records; lineage
records the expression as written and the fields it reads, found on sqlglot's syntax tree
(lambda parameters are not fields; ``shipping.city`` is the nested field ``city`` of
``shipping``). Fields are reported in the order they appear. An expression sqlglot cannot parse
keeps its text and reports no fields rather than failing a load.

Example::

    referenced_fields("coalesce(member_id, user_id)")    # ('member_id', 'user_id')
    referenced_fields("item.qty * item.unit_price")       # ('item.qty', 'item.unit_price')
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

__all__ = ["referenced_fields"]


@lru_cache(maxsize=4096)
def referenced_fields(expression: str, dialect: str = "duckdb") -> tuple[str, ...]:
    """The record fields ``expression`` reads, deduplicated, in order of appearance."""
    try:
        tree = sqlglot.parse_one(expression, read=dialect)
    except SqlglotError:
        return ()
    found: dict[str, None] = {}
    for column in tree.find_all(exp.Column, bfs=False):
        found[".".join(part.name for part in column.parts)] = None
    return tuple(found)

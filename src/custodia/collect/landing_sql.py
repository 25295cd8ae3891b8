"""The SQL that lands records raw: one row of ``source_records_raw`` per record, built set-wise.

Each record's payload is its fields as one JSON object (field order kept, Chinese kept as is,
nulls written as ``null``) and its key is derived from the source, the file (or read scope) and
the position, exactly like :func:`custodia.core.ids.record_key`. Building both in SQL over the
Arrow chunk instead of ``json.dumps`` per row is what makes CSV landing fast.

The relation ``records`` must hold the source's fields plus ``_source_file``, ``_position`` and
``_key_scope``; the macro ``custodia_key`` must exist (see
:func:`custodia.collect.mapping_sql.mapping_macros_sql`).

Example::

    sql = raw_landing_sql(source="pos", entity="receipts", fields=["id", "金额"],
                          run_id="run_1", loaded_at=now)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from custodia.core.sql_text import quote_ident, quote_literal

__all__ = ["LOCATION_COLUMNS", "payload_sql", "raw_landing_sql"]

LOCATION_COLUMNS = ("_source_file", "_position", "_key_scope")


def payload_sql(fields: Sequence[str]) -> str:
    """A JSON object of ``fields`` (in order) for each row."""
    if not fields:
        return "'{}'"
    pairs = ", ".join(f"{quote_ident(name)} := {quote_ident(name)}" for name in fields)
    return f"CAST(to_json(struct_pack({pairs})) AS VARCHAR)"


def raw_landing_sql(
    *, source: str, entity: str, fields: Sequence[str], run_id: str, loaded_at: datetime
) -> str:
    """A SELECT giving ``source_records_raw`` rows in its column order."""
    return (
        "SELECT\n"
        "  custodia_key(_key_scope || '#' || CAST(_position AS VARCHAR)) AS raw_id,\n"
        f"  {quote_literal(entity)} AS entity,\n"
        "  _source_file AS source_file,\n"
        "  _position AS position,\n"
        f"  {payload_sql(fields)} AS payload,\n"
        f"  {quote_literal(source)} AS source,\n"
        f"  {quote_literal(run_id)} AS run_id,\n"
        f"  TIMESTAMPTZ {quote_literal(loaded_at.isoformat())} AS loaded_at\n"
        "FROM records"
    )

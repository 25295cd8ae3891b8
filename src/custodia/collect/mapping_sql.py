"""Compile a :class:`TargetMapping` into one SQL SELECT that yields rows of its canonical table.

The SELECT reads a relation named ``records`` (the source's records of one load) and returns every
column of the target table in declared order, each wrapped in ``TRY_CAST`` to the declared type: a
malformed value becomes NULL (and shows up in quality checks) instead of failing the whole batch.
Lineage columns (``source``, ``run_id``, ``loaded_at``) are filled from the load.

Two macros must exist on the connection (see :func:`mapping_macros_sql`):
``custodia_key(k)`` (the surrogate key of source key ``k``) and ``local_ts(x)`` (a naive
timestamp in the source's time zone, as an aware UTC timestamp).
"""

from __future__ import annotations

from datetime import datetime

from custodia.collect.mapping_spec import SourceMapping, TargetMapping
from custodia.core.errors import ValidationError
from custodia.core.ids import record_key_sql
from custodia.core.sql_text import quote_ident, quote_literal, sql_type
from custodia.core.tables import table_spec

LINEAGE_COLUMNS = ("source", "run_id", "loaded_at")


def mapping_macros_sql(source: SourceMapping) -> list[str]:
    """Statements that define the per-source macros used by mapping expressions."""
    name = quote_literal(source.name)
    zone = quote_literal(source.timezone)
    return [
        f"CREATE OR REPLACE MACRO custodia_key(k) AS {record_key_sql(name, 'CAST(k AS VARCHAR)')}",
        "CREATE OR REPLACE MACRO local_ts(x) AS "
        f"timezone({zone}, TRY_CAST(CAST(x AS VARCHAR) AS TIMESTAMP))",
    ]


def compile_target_sql(
    source: SourceMapping, target: TargetMapping, *, run_id: str, loaded_at: datetime
) -> str:
    """The SELECT producing ``target.table`` rows from ``records``."""
    spec = table_spec(target.table)
    unknown = sorted(set(target.columns) - set(spec.column_names))
    if unknown:
        raise ValidationError(
            f"{source.name}.{target.table}.columns",
            "known_column",
            f"mapping {source.name} -> {target.table}: unknown target column(s) {unknown}",
        )
    lineage = {
        "source": quote_literal(source.name),
        "run_id": quote_literal(run_id),
        "loaded_at": f"TIMESTAMPTZ {quote_literal(loaded_at.isoformat())}",
    }
    key_column = spec.key[0]
    selects = []
    for col in spec.columns:
        if col.name == key_column:
            expr = f"custodia_key({target.key})"
        elif col.name in target.columns:
            expr = target.columns[col.name]
        elif col.name in lineage:
            expr = lineage[col.name]
        elif col.name == "source_key":
            expr = target.key
        else:
            expr = "NULL"
        selects.append(f"TRY_CAST({expr} AS {sql_type(col.type)}) AS {quote_ident(col.name)}")
    sql = "SELECT\n  " + ",\n  ".join(selects) + f"\nFROM {target.from_}"
    if target.where:
        sql += f"\nWHERE {target.where}"
    if target.group_by:
        sql += f"\nGROUP BY {target.group_by}"
    return sql

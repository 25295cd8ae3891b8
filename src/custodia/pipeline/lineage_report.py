"""``lineage show``: the lineage of a table or column, from run events and the stored rows.

Run events say how each source's mapping sets a column and which runs wrote the table; the rows
themselves carry ``source`` and ``run_id``, so counting them says which source and run set the
values stored now (for a column: how many of them are not null).

Example::

    view = lineage_report(ws, "orders.total_amount")
    view.columns["total_amount"], view.values[:3], view.runs[0].status
"""

from __future__ import annotations

from custodia.core.sql_text import quote_ident
from custodia.core.tables import table_spec
from custodia.lineage.lineage_view import TableLineage, ValueProvenance, parse_target, table_lineage
from custodia.storage.store_lineage import LineageLog
from custodia.workspace import Workspace

__all__ = ["lineage_report"]

EVENT_LOOKBACK = 300
VALUE_GROUPS = 50


def lineage_report(ws: Workspace, target: str, *, max_runs: int = 20) -> TableLineage:
    """The lineage of ``TABLE`` or ``TABLE.COLUMN`` (see the module docstring)."""
    table, column = parse_target(target)
    records = LineageLog(ws.store).recent(limit=EVENT_LOOKBACK)
    view = table_lineage(table, column, records, max_runs=max_runs)
    view.values = value_provenance(ws, table, column)
    return view


def value_provenance(ws: Workspace, table: str, column: str | None) -> list[ValueProvenance]:
    """Stored rows (and non-null values of ``column``) per source and run, largest first."""
    spec = table_spec(table)
    if "source" not in spec.column_names or "run_id" not in spec.column_names:
        return []
    non_null = f", count({quote_ident(column)}) AS non_null" if column else ""
    sql = (
        f"SELECT source, run_id, count(*) AS rows{non_null} FROM {quote_ident(spec.name)} "
        f"GROUP BY source, run_id ORDER BY rows DESC, source, run_id LIMIT {VALUE_GROUPS}"
    )
    return [ValueProvenance(**row) for row in ws.query(sql).to_pylist()]

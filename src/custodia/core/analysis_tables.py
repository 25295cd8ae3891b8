"""Curated tables the analyses write (issue 8): one or more per analysis.

Every row carries ``analysis_name`` (the name a run was given; ``rfm`` unless the user names it,
so several funnels can live side by side), ``analysis_id`` (the run that produced it; its
parameters are stored with the run, see ``custodia runs``) and ``computed_at``. A new run of a
name replaces that name's rows; Delta time travel keeps the earlier results. Declared here, next
to the customer data model of :mod:`custodia.core.tables`, so storage, the catalog and
``docs/data-model.md`` know them. Add a table with :func:`analysis_table` and list it in
:data:`ANALYSIS_TABLES`.
"""

from __future__ import annotations

from custodia.core.table_model import L1, TS, ColumnSpec, S, TableSpec, _c
from custodia.core.types import Domain, Zone

__all__ = ["ANALYSIS_COLUMNS", "ANALYSIS_TABLES", "analysis_table"]

ANALYSIS_COLUMNS = ("analysis_name", "analysis_id", "computed_at")
"""Columns the runner adds to every result row (see pipeline.analysis_runs)."""


def analysis_table(
    name: str, description: str, columns: tuple[ColumnSpec, ...], key: tuple[str, ...]
) -> TableSpec:
    """A curated analysis result table: the run columns, then ``columns``; ``key`` is unique
    within one analysis name."""
    return TableSpec(
        name=name,
        zone=Zone.CURATED,
        domain=Domain.ANALYTICS,
        description=description,
        columns=(
            _c(
                "analysis_name",
                S,
                L1,
                "Name of the analysis run (several may coexist)",
                nullable=False,
            ),
            _c(
                "analysis_id",
                S,
                L1,
                "Run that computed the row (parameters: custodia runs)",
                nullable=False,
            ),
            *columns,
            _c("computed_at", TS, L1, "When the run computed it"),
        ),
        key=("analysis_name", *key),
        owner="analytics",
        time_column="computed_at",
    )


ANALYSIS_TABLES: tuple[TableSpec, ...] = ()

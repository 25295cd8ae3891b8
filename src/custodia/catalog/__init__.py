"""The catalog: every canonical table and column, what it holds, who owns it, how sensitive, how
fresh, how good and where it comes from.

- :mod:`~custodia.catalog.tables`: the declared facts (``custodia tables``, ``GET /v1/tables``).
- :mod:`~custodia.catalog.build`: the full catalog (``custodia catalog``, ``GET /v1/catalog``).
- :mod:`~custodia.catalog.overrides`: ``HOME/catalog.yaml`` (owners, descriptions, tags).

Example::

    catalog = catalog_overview(ws)
    orders = catalog_table(ws, "orders")
"""

from custodia.catalog.build import catalog_overview, catalog_table, read_overrides
from custodia.catalog.models import Catalog, CatalogColumn, CatalogTable
from custodia.catalog.tables import ColumnInfo, TableInfo, describe_tables

__all__ = [
    "Catalog",
    "CatalogColumn",
    "CatalogTable",
    "ColumnInfo",
    "TableInfo",
    "catalog_overview",
    "catalog_table",
    "describe_tables",
    "read_overrides",
]

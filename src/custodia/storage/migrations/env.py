"""Alembic environment for the operational store.

Alembic runs this file on every ``upgrade``/``revision`` command. It never builds its own engine
from an ini file: :meth:`custodia.storage.store.OperationalStore.migrate` hands over an open
connection (already in a transaction, with SQLite pragmas or the PostgreSQL ``search_path``
applied) through ``config.attributes``. Offline mode (``upgrade --sql``) renders DDL for a
database administrator from the ``sqlalchemy.url`` main option instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from custodia.storage.store_schema import METADATA


def _run_offline() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("offline migrations need the 'sqlalchemy.url' main option")
    context.configure(
        url=url,
        target_metadata=METADATA,
        literal_binds=True,
        version_table_schema=context.config.attributes.get("version_table_schema"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        version_table_schema=context.config.attributes.get("version_table_schema"),
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables when needed.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        _run_offline()
        return
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "run migrations through OperationalStore.migrate(); "
            "config.attributes['connection'] must hold an open SQLAlchemy Connection"
        )
    _run_online(connection)


_main()

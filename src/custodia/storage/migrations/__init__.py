"""Alembic migrations of the operational store, shipped inside the package.

Run them through :meth:`custodia.storage.store.OperationalStore.migrate`; no ``alembic.ini`` is
needed. To write a new revision, build the same config in code::

    from alembic import command
    from custodia.storage.store import alembic_config

    command.revision(alembic_config(), message="add consents", rev_id="0002")

Then hand-write ``upgrade()`` (keep it self-contained: never import today's metadata into an old
revision) and extend ``custodia.storage.store_schema`` to match; a test compares the two.
"""

"""Fixtures shared by the whole test suite.

Services
--------
Tests that need a server take its URL from the environment and skip when it is unreachable, unless
``CUSTODIA_REQUIRE_SERVICES=1`` (set in CI), in which case they fail with a clear message.

- ``postgres_url``: ``CUSTODIA_TEST_POSTGRES_URL``, default
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test``.
- ``postgres_schema``: a fresh, randomly named schema in that database, dropped afterwards.

Operational store
-----------------
- ``blank_operational_store``: an :class:`OperationalStore` before any migration, once on SQLite
  (in ``tmp_path``) and once on PostgreSQL (in a fresh schema, marked ``postgres``).
- ``operational_store``: the same, migrated to head. Use it to run one test body on both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from custodia.storage.store import OperationalStore

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def service_unavailable(service: str, env_var: str, reason: str) -> None:
    """Skip the test, or fail it when the environment says services are required."""
    message = f"{service} unreachable ({reason}); set {env_var} to a reachable server"
    if os.environ.get("CUSTODIA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message}. CUSTODIA_REQUIRE_SERVICES=1 makes this a failure.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[Engine]:
    """An engine on the test PostgreSQL database, for creating and dropping schemas."""
    url = os.environ.get("CUSTODIA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        engine.dispose()
        shown = make_url(url).render_as_string(hide_password=True)
        service_unavailable(
            f"PostgreSQL at {shown}",
            "CUSTODIA_TEST_POSTGRES_URL",
            type(exc.orig).__name__,
        )
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_engine: Engine) -> str:
    """The URL of the reachable test PostgreSQL database (password included)."""
    return postgres_admin_engine.url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_schema(postgres_admin_engine: Engine) -> Iterator[str]:
    """A new empty schema with a random name; dropped with everything in it afterwards."""
    name = f"custodia_test_{uuid.uuid4().hex[:16]}"
    with postgres_admin_engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    yield name
    with postgres_admin_engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_operational_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[OperationalStore]:
    """An unmigrated operational store, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        store = OperationalStore.sqlite(tmp_path / "store.db")
    else:
        url = request.getfixturevalue("postgres_url")
        store = OperationalStore(url, schema=request.getfixturevalue("postgres_schema"))
    yield store
    store.dispose()


@pytest.fixture
def operational_store(blank_operational_store: OperationalStore) -> OperationalStore:
    """A migrated operational store, on SQLite and on PostgreSQL."""
    blank_operational_store.migrate()
    return blank_operational_store

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
    failure = None
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        engine.dispose()
        failure = type(exc.orig).__name__
    if failure is not None:
        shown = make_url(url).render_as_string(hide_password=True)
        service_unavailable(f"PostgreSQL at {shown}", "CUSTODIA_TEST_POSTGRES_URL", failure)
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


# -- CLI ---------------------------------------------------------------------------------------


class CliResult:
    """What one ``custodia`` invocation printed and its exit status."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    def json(self) -> object:
        import json

        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stdout={self.stdout[-400:]!r}, stderr={self.stderr!r})"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Run the ``custodia`` console entry point in-process: ``cli("--home", h, "tables")``."""
    import sys

    from custodia.cli.app import main

    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CUSTODIA_HOME", raising=False)

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["custodia", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    yield run


@pytest.fixture
def workspace_home(tmp_path: Path, cli: object) -> Path:
    """An initialised, empty workspace."""
    home = tmp_path / "ws"
    result = cli("--home", home, "init", "--json")  # type: ignore[operator]
    assert result.code == 0, result
    return home

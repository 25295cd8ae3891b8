"""Shared by the analysis integration tests: the demo workspace, CLI JSON and role clients."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.pipeline.demo_run import run_demo
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import load_settings
from custodia.workspace import Workspace


def needs_spark() -> None:
    """Skip the calling test when pyspark or the Java it runs on is missing."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java")


DEMO_CUSTOMERS = 300
DEMO_SEED = 7


def ok(result: Any) -> Any:
    """The JSON a successful CLI call printed (the failure shows stderr)."""
    assert result.code == 0, result
    return result.json()


def sql(cli: Any, home: Path, query: str) -> list[dict[str, Any]]:
    """Rows of ``custodia sql QUERY --format json``."""
    rows: list[dict[str, Any]] = ok(cli("--home", home, "sql", query, "--format", "json"))
    return rows


def build_demo(home: Path, customers: int = DEMO_CUSTOMERS) -> Path:
    """A workspace at ``home`` holding the demo brand (seed 7), every pipeline stage run."""
    ws, _token = Workspace.create(load_settings(home=home))
    with ws:
        run_demo(ws, customers=customers, seed=DEMO_SEED)
    return home


@contextmanager
def role_api(home: Path, *roles: Role) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """An API client on ``home`` and bearer headers per role value."""
    with Workspace.open(load_settings(home=home)) as ws:
        headers = {
            role.value: {
                "Authorization": "Bearer "
                + issue_token(ws.store, role.value, role, created_by="test").token
            }
            for role in roles
        }
    with TestClient(create_app(load_settings(home=home))) as client:
        yield client, headers

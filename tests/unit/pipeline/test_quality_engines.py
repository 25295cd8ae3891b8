"""Choosing the engine a quality run measures on (no Spark needed here; the Spark side is in
tests/integration/test_quality_spark.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custodia.core.errors import ConfigurationError, ReadOnlyViolationError
from custodia.pipeline.quality_engines import rule_session
from custodia.settings import load_settings
from custodia.workspace import Workspace


def test_an_unknown_engine_is_refused_by_name(workspace_home: Path) -> None:
    ws = Workspace.open(load_settings(home=workspace_home))
    refused = pytest.raises(ConfigurationError, match="'sparky' is unknown; known: duckdb, spark")
    with refused, rule_session(ws, [], engine="sparky"):
        pass


def test_custom_sql_on_duckdb_goes_through_the_read_only_guard(workspace_home: Path) -> None:
    ws = Workspace.open(load_settings(home=workspace_home))
    with rule_session(ws, []) as session:
        assert session.run("SELECT 1 AS n").to_pylist() == [{"n": 1}]
        with pytest.raises(ReadOnlyViolationError):
            session.run_custom("DELETE FROM orders")


def test_the_cli_names_the_engines(cli: Any, workspace_home: Path) -> None:
    result = cli("--home", workspace_home, "quality", "run", "--engine", "sparky")
    assert result.code != 0
    assert "quality engine 'sparky' is unknown; known: duckdb, spark" in result.stderr

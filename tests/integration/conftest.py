"""Fixtures shared by integration tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

IDENTITY_DATA = Path(__file__).resolve().parents[1] / "data" / "identity"
IDENTITY_SOURCES = (("crm", "crm.csv"), ("shop", "shop.csv"), ("web", "clicks.json"))


@pytest.fixture
def ingest_identity_sources(cli: Any) -> Callable[..., None]:
    """``ingest_identity_sources(home)``: ingest the small identity sources
    (``tests/data/identity``, see PROVENANCE.md) through the CLI, each with the shared mapping;
    pass ``sources=(("crm", "crm.csv"),)`` for fewer."""

    def ingest(home: Path, sources: tuple[tuple[str, str], ...] = IDENTITY_SOURCES) -> None:
        for source, name in sources:
            result = cli(
                "--home", home, "ingest", "file", IDENTITY_DATA / name,
                "--source", source, "--mapping", IDENTITY_DATA / "mapping.yaml", "--json",
            )  # fmt: skip
            assert result.code == 0, result

    return ingest

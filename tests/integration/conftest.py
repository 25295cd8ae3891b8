"""Fixtures shared by integration tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from custodia.settings import Settings, load_settings

IDENTITY_DATA = Path(__file__).resolve().parents[1] / "data" / "identity"
IDENTITY_SOURCES = (("crm", "crm.csv"), ("shop", "shop.csv"), ("web", "clicks.json"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a workspace at ``tmp_path/ws`` (not created) whose loader does not poll."""
    return load_settings(home=tmp_path / "ws", loader_interval_seconds=0)


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


CONSENT_DATA = Path(__file__).resolve().parents[1] / "data" / "consent"


@pytest.fixture
def resolve_consent_people(cli: Any) -> Callable[[Path], None]:
    """``resolve_consent_people(home)``: ingest ``tests/data/consent/people.csv`` (an adult and
    two minors, members C1-C3) and resolve identities, through the CLI."""

    def resolve(home: Path) -> None:
        result = cli(
            "--home", home, "ingest", "file", CONSENT_DATA / "people.csv",
            "--source", "crm", "--mapping", CONSENT_DATA / "mapping.yaml", "--json",
        )  # fmt: skip
        assert result.code == 0, result
        assert cli("--home", home, "identity", "resolve", "--json").code == 0

    return resolve


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo brand (300 customers, seed 7) built once per test process; copy, never write."""
    from analysis_support import build_demo

    return build_demo(tmp_path_factory.mktemp("demo_template") / "ws")


@pytest.fixture
def demo_copy(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo workspace for one test."""
    copy = tmp_path / "demo_ws"
    shutil.copytree(demo_template, copy)
    return copy

"""The example mappings shipped in examples/mappings: every one validates and compiles, the demo
mapping there is the one the demo uses, and the demo's sources load through it with
``custodia ingest`` (files by glob, the CRM through its SQLite database)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from custodia.collect.mapping_spec import load_mapping_file
from custodia.collect.mapping_sql import compile_target
from custodia.demo import generate_demo
from custodia.pipeline.demo_run import demo_mapping_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_validates_and_compiles(path: Path) -> None:
    mappings = load_mapping_file(path)
    at = datetime(2026, 3, 5, tzinfo=UTC)
    for source in mappings.sources:
        for target in source.targets:
            compiled = compile_target(
                source, target, lookups=mappings.lookups, run_id="r", loaded_at=at
            )
            assert compiled.select_sql.startswith("SELECT")


def test_the_demo_example_is_the_mapping_the_demo_ships() -> None:
    assert (EXAMPLES / "demo_sources.yaml").read_text(encoding="utf-8") == demo_mapping_text()


@pytest.fixture(scope="module")
def demo_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-sources")
    generate_demo(folder, customers=60, seed=5)
    return folder


@pytest.mark.parametrize(
    ("source", "glob"),
    [
        ("pos_receipts", "pos/store_*.csv"),
        ("ecommerce_orders", "ecommerce/orders*.jsonl"),
        ("service_reviews", "service/reviews*.csv"),
        ("logistics_deliveries", "logistics/deliveries*.csv"),
    ],
)
def test_demo_file_sources_load_through_ingest(
    cli: Any, workspace_home: Path, demo_sources: Path, source: str, glob: str
) -> None:
    result = cli(
        "--home", workspace_home, "ingest", "file", demo_sources / glob, "--source", source,
        "--mapping", EXAMPLES / "demo_sources.yaml", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    src = result.json()["sources"][0]
    assert src["rows_landed"] > 0
    assert src["rows_landed"] + src["rows_rejected"] == src["rows_in"]
    assert all(t["rows_inserted"] > 0 for t in src["targets"]), src


def test_demo_crm_loads_through_ingest_db(
    cli: Any, workspace_home: Path, demo_sources: Path
) -> None:
    url = f"sqlite:///{demo_sources / 'crm' / 'members.db'}"
    result = cli(
        "--home", workspace_home, "ingest", "db", url, "--table", "members",
        "--source", "crm_members", "--mapping", EXAMPLES / "demo_sources.yaml", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    src = result.json()["sources"][0]
    assert src["rows_in"] == src["rows_landed"] > 0
    assert src["targets"][0]["rows_inserted"] == src["rows_in"]

"""Shared demo data sets for the demo generator tests (generated once per session, 300 people)."""

from __future__ import annotations

import csv
import json
import sqlite3
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from custodia.demo import DemoManifest, GroundTruth, generate_demo

CUSTOMERS = 300
SEED = 11


class DemoReader:
    """Reads a generated demo back through plain sqlite3 / json / csv, as a user would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @cached_property
    def manifest(self) -> DemoManifest:
        return DemoManifest.model_validate_json((self.folder / "manifest.json").read_text("utf-8"))

    @cached_property
    def truth(self) -> GroundTruth:
        text = (self.folder / "ground_truth.json").read_text("utf-8")
        return GroundTruth.model_validate_json(text)

    @cached_property
    def members(self) -> list[dict[str, Any]]:
        return self.sql("SELECT * FROM members ORDER BY member_id")

    def sql(self, query: str) -> list[dict[str, Any]]:
        with sqlite3.connect(self.folder / "crm" / "members.db") as db:
            db.row_factory = sqlite3.Row
            rows = [dict(r) for r in db.execute(query)]
        db.close()
        return rows

    @cached_property
    def orders(self) -> list[dict[str, Any]]:
        return self.jsonl("ecommerce/orders.jsonl")

    @cached_property
    def tickets(self) -> list[dict[str, Any]]:
        return self.jsonl("service/tickets.jsonl")

    def jsonl(self, relative: str) -> list[dict[str, Any]]:
        with (self.folder / relative).open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]

    def csv(self, relative: str, encoding: str = "utf-8") -> list[dict[str, str]]:
        with (self.folder / relative).open(encoding=encoding, newline="") as handle:
            return list(csv.DictReader(handle))

    @cached_property
    def pos(self) -> list[tuple[str, dict[str, str]]]:
        rows = []
        for path in sorted((self.folder / "pos").glob("store_*.csv")):
            relative = f"pos/{path.name}"
            rows += [(path.name, row) for row in self.csv(relative, encoding="utf-8-sig")]
        return rows

    @cached_property
    def events(self) -> list[tuple[int, dict[str, Any]]]:
        out = []
        for path in sorted((self.folder / "clickstream").glob("batch-*.json")):
            number = int(path.stem.split("-")[1])
            payload = json.loads(path.read_text("utf-8"))
            out += [(number, event) for event in payload["batch"]]
        return out

    def parquet(self, relative: str) -> list[dict[str, Any]]:
        return pq.read_table(self.folder / relative).to_pylist()

    def problem_keys(self, name: str) -> set[str]:
        return {r.key for r in self.truth.problem(name).records}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoReader:
    out = tmp_path_factory.mktemp("demo") / "data"
    generate_demo(out, customers=CUSTOMERS, seed=SEED)
    return DemoReader(out)


@pytest.fixture(scope="session")
def quiet_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoReader:
    out = tmp_path_factory.mktemp("demo_no_outage") / "data"
    generate_demo(out, customers=CUSTOMERS, seed=SEED + 1, inject_outage=False)
    return DemoReader(out)

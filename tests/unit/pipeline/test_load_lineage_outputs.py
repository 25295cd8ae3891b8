"""table_outputs: a table's version comes from the load's own result when it has one; the table
is opened only for outputs the load did not version (the quarantine, for one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custodia.pipeline.load_lineage import table_outputs
from custodia.pipeline.load_report import SourceResult, TargetResult
from custodia.settings import load_settings
from custodia.storage.lake import Lakehouse
from custodia.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    settings = load_settings(home=tmp_path / "ws", loader_interval_seconds=0)
    Workspace.create(settings)[0].close()
    with Workspace.open(settings) as ws:
        yield ws


def test_known_versions_do_not_open_the_table(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    real = Lakehouse.version

    def counting(self: Lakehouse, zone: str, name: str) -> int:
        opened.append(name)
        return real(self, zone, name)

    monkeypatch.setattr(Lakehouse, "version", counting)
    target = TargetResult(table="events", rows_mapped=3, rows_inserted=3, rows_updated=0,
                          table_version=7)  # fmt: skip
    result = SourceResult(source="web", entity="events", format="segment_http", rows_in=4,
                          rows_landed=3, rows_rejected=1, rejected_by_rule={"required": 1},
                          targets=[target])  # fmt: skip
    outputs = {o.table: o.version for o in table_outputs(ws, [result])}
    assert outputs["events"] == 7
    assert "quarantine" in outputs
    assert opened == ["quarantine"]

"""Cleansing through the CLI on a real workspace: duplicates removed by a declared rule, values
standardized in the staged tables (raw untouched), gaps filled from profiles into the curated
table with their origin, counts in the run record, quality scores better afterwards, a second
run changing nothing, and a broken cleansing file keeping the last valid one in force.

Fixtures: tests/data/cleansing (6 CRM members, 3 shop accounts, 3 tickets; see PROVENANCE.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custodia.settings import load_settings
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "cleansing"


@pytest.fixture
def home(cli: Any, workspace_home: Path) -> Path:
    for source, name in (("crm", "crm.csv"), ("shop", "shop.csv"), ("service", "tickets.csv")):
        loaded = cli(
            "--home", workspace_home, "ingest", "file", DATA / name, "--source", source,
            "--mapping", DATA / "mapping.yaml", "--json",
        )  # fmt: skip
        assert loaded.code == 0, loaded
    assert cli("--home", workspace_home, "identity", "resolve", "--json").code == 0
    assert cli("--home", workspace_home, "quality", "rules", "--set", DATA / "rules.yaml").code == 0
    installed = cli("--home", workspace_home, "cleanse", "--set", DATA / "cleansing.yaml")
    assert installed.code == 0, installed
    return workspace_home


@pytest.fixture
def ws(home: Path) -> Iterator[Workspace]:
    with Workspace.open(load_settings(home=home)) as opened:
        yield opened


def run_json(cli: Any, home: Path, *args: str) -> dict[str, Any]:
    result = cli("--home", home, *args, "--json")
    assert result.code == 0, result
    report: dict[str, Any] = result.json()
    return report


def rows(ws: Workspace, sql: str) -> list[dict[str, Any]]:
    return ws.query(sql).to_pylist()


def test_cleansing_counts_before_and_after_and_improves_quality(
    cli: Any, home: Path, ws: Workspace
) -> None:
    before = run_json(cli, home, "quality", "run")
    report = run_json(cli, home, "cleanse")

    tickets, signups = report["deduplicate"]
    assert (tickets["groups"], tickets["deleted"], tickets["rows_after"]) == (1, 1, 2)
    assert (signups["action"], signups["duplicates"], signups["deleted"]) == ("count", 1, 0)
    (second,) = signups["sample_keys"]  # C5 signed up after C3: C3 survives
    assert rows(ws, f"select source_key from customer_records where record_id = '{second}'") == [
        {"source_key": "C5"}
    ]
    kept = rows(ws, "select source_key from interactions order by 1")
    assert [r["source_key"] for r in kept] == ["T2", "T3"]  # keep: [source_key desc]

    counts = {c["column"]: c for c in report["standardize"][0]["columns"]}
    assert (counts["phone"]["nonstandard_before"], counts["phone"]["nonstandard_after"]) == (4, 1)
    assert {c: counts[c]["changed"] for c in ("email", "name", "gender", "city")} == {
        "email": 2, "name": 2, "gender": 3, "city": 1
    }  # fmt: skip
    staged = {r["source_key"]: r for r in rows(ws, "select * from customer_records")}
    assert (staged["C2"]["phone"], staged["C2"]["name"], staged["C2"]["email"]) == (
        "13812340002", "李娜", "lina@example.com"
    )  # fmt: skip
    assert (staged["C2"]["gender"], staged["C2"]["city"], staged["C3"]["gender"]) == (
        "F", "上海市", "F"
    )  # fmt: skip
    assert staged["C4"]["phone"] == "1381234000"  # cannot be read: left for a steward
    raw = " ".join(r["payload"] for r in rows(ws, "select payload from source_records_raw"))
    assert "１３８１２３４０００２" in raw and "LiNa@Example.COM" in raw  # raw zone untouched

    after = run_json(cli, home, "quality", "run")
    failed = {
        r["rule"]: (r["failed"], a["failed"])
        for r, a in zip(before["rules"], after["rules"], strict=True)
    }
    assert failed == {"phone_format": (2, 1), "gender_values": (3, 0),
                      "ticket_text_unique": (2, 0)}  # fmt: skip
    overall = [(s["score"], a["score"]) for s, a in zip(before["scores"], after["scores"],
                                                          strict=True) if s["table"] == "*"
               and s["dimension"] == "overall"]  # fmt: skip
    assert overall and overall[0][1] > overall[0][0]


def test_gaps_are_filled_from_the_profile_with_their_origin(
    cli: Any, home: Path, ws: Workspace
) -> None:
    report = run_json(cli, home, "cleanse")
    filled = {c["column"]: c for c in report["fill"]["columns"]}
    assert (filled["email"]["missing_before"], filled["email"]["filled"]) == (2, 2)
    out = {r["source_key"]: r for r in rows(ws, "select * from customer_records_filled")}
    assert len(out) == 9
    assert out["C3"]["email"] == "wangfang@example.com"  # from shop S3, same person
    assert json.loads(out["C3"]["filled_columns"]) == {"email": "profiles"}
    assert out["C1"]["filled_columns"] is None
    assert (out["S2"]["name"], out["S2"]["city"]) == ("李娜", "上海市")  # standardized form
    assert out["C3"]["profile_id"] == out["S3"]["profile_id"] == out["C5"]["profile_id"]
    delivered = rows(ws, "select email from customer_records where source_key = 'C3'")
    assert delivered == [{"email": None}]  # the staged record keeps what the source delivered


def test_run_record_and_a_second_run_changes_nothing(cli: Any, home: Path, ws: Workspace) -> None:
    first = run_json(cli, home, "cleanse")
    steps = RunLog(ws.store).list_steps(first["run_id"])
    assert [s.step for s in steps] == [
        "cleanse.deduplicate", "cleanse.deduplicate", "cleanse.standardize", "cleanse.fill"
    ]  # fmt: skip
    std = steps[2]
    assert (std.source, std.rows_in, std.rows_stored) == (
        "customer_records",
        9,
        4,
    )  # C1, C2, C3, C6
    detail = std.detail
    assert isinstance(detail, dict) and detail["columns"][0]["nonstandard_before"] == 4
    run = RunLog(ws.store).get_run(first["run_id"])
    assert run is not None and run.kind == "cleanse"

    second = run_json(cli, home, "cleanse")
    assert [d["deleted"] for d in second["deduplicate"]] == [0, 0]
    assert [s["rows_changed"] for s in second["standardize"]] == [0]
    assert second["fill"]["records_filled"] == first["fill"]["records_filled"]


def test_a_broken_file_is_named_with_its_line_and_the_last_valid_stays(
    cli: Any, home: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "cleansing.yaml"
    text = (DATA / "cleansing.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("columns: {phone: cn_mobile", "columns: {phnoe: cn_mobile"))
    checked = cli("--home", home, "cleanse", "--check", broken)
    assert checked.code != 0
    assert "cleansing.yaml line 15, standardize #1" in checked.stderr
    assert "'phnoe' is not a column of customer_records" in checked.stderr

    missing = cli("--home", home, "cleanse", "--check", tmp_path / "nope.yaml")
    assert (missing.code, missing.stderr.strip()) == (1, "error: nope.yaml: no such file")

    (home / "quality" / "cleansing.yaml").write_text(broken.read_text(encoding="utf-8"))
    report = run_json(cli, home, "cleanse")
    assert report["origin"] == "cleansing.active.yaml"
    assert "phnoe" in report["error"]
    assert report["standardize"][0]["columns"][0]["column"] == "phone"

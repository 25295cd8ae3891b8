"""The CLI contract on a workspace: init, tables, sql, runs, and bad input that changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from custodia.core.tables import TABLES

Cli = Callable[..., object]


def _tree_digest(home: Path) -> str:
    """A digest of every file's path and content in the workspace."""
    h = hashlib.sha256()
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(home)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_init_prints_a_token_once_and_stores_only_its_hash(tmp_path: Path, cli: Cli) -> None:
    home = tmp_path / "ws"
    result = cli("--home", home, "init", "--json")
    assert result.code == 0, result
    token = result.json()["token"]
    assert token.startswith("cus_")
    assert token.encode() not in (home / "store.db").read_bytes()
    again = cli("--home", home, "init")
    assert again.code == 1
    assert "already a Custodia workspace" in again.stderr


def test_tables_lists_every_canonical_table_with_tiers(workspace_home: Path, cli: Cli) -> None:
    result = cli("--home", workspace_home, "tables", "--json")
    assert result.code == 0, result
    infos = {t["name"]: t for t in result.json()}
    assert set(infos) == {spec.name for spec in TABLES}
    assert infos["events"]["zone"] == "raw"
    assert infos["events"]["rows"] == 0
    tiers = {c["name"]: c["tier"] for c in infos["customer_records"]["columns"]}
    assert tiers["resident_id"] == "L3"
    assert tiers["phone"] == "L2"
    assert tiers["province"] == "L1"


def test_tables_with_a_name_shows_columns(workspace_home: Path, cli: Cli) -> None:
    result = cli("--home", workspace_home, "tables", "orders")
    assert result.code == 0, result
    assert "ship_to_address" in result.stdout
    assert "L2" in result.stdout


def test_sql_formats(workspace_home: Path, cli: Cli) -> None:
    query = "select 1 as n, '霓裳' as brand"
    as_json = cli("--home", workspace_home, "sql", query, "--format", "json")
    assert as_json.code == 0, as_json
    assert as_json.json() == [{"n": 1, "brand": "霓裳"}]
    as_csv = cli("--home", workspace_home, "sql", query, "--format", "csv")
    assert as_csv.stdout.splitlines() == ["n,brand", "1,霓裳"]
    as_table = cli("--home", workspace_home, "sql", query)
    assert "霓裳" in as_table.stdout


def test_sql_reads_canonical_tables(workspace_home: Path, cli: Cli) -> None:
    result = cli("--home", workspace_home, "sql", "select count(*) as n from events", "-f", "json")
    assert result.json() == [{"n": 0}]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("insert into events (message_id) values ('x')", "read-only"),
        ("delete from orders", "read-only"),
        ("COPY orders TO '/tmp/out.csv'", "read-only"),
        ("ATTACH '/tmp/x.db' AS x", "read-only"),
        ("select * from read_csv('/etc/passwd')", "read_csv"),
        ("select 1; select 2", "one statement"),
        ("select * from no_such_table", "no_such_table"),
        ("select no_such_column from events", "no_such_column"),
        ("select count(*) from events version as of 99", "version"),
        ("select count(*) from events version as of -1", "version"),
        ("select * from events timestamp as of '1999-01-01'", "events"),
        ("selec 1", "error"),
    ],
)
def test_bad_sql_is_one_line_and_changes_nothing(
    workspace_home: Path, cli: Cli, query: str, expected: str
) -> None:
    before = _tree_digest(workspace_home)
    result = cli("--home", workspace_home, "sql", query)
    assert result.code == 1, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected.lower() in lines[0].lower(), lines[0]
    assert _tree_digest(workspace_home) == before


def test_missing_home_is_a_clear_error(tmp_path: Path, cli: Cli) -> None:
    for command in (["tables"], ["sql", "select 1"], ["runs"]):
        result = cli("--home", tmp_path / "absent", *command)
        assert result.code == 1
        assert "does not exist" in result.stderr
    assert not (tmp_path / "absent").exists()


def test_a_directory_that_is_not_a_workspace(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "other").mkdir()
    result = cli("--home", tmp_path / "other", "tables")
    assert result.code == 1
    assert "not a Custodia workspace" in result.stderr


def test_corrupt_workspace_marker(workspace_home: Path, cli: Cli) -> None:
    (workspace_home / "workspace.json").write_text("{not json", encoding="utf-8")
    before = _tree_digest(workspace_home)
    result = cli("--home", workspace_home, "sql", "select 1")
    assert result.code == 1
    assert "corrupt" in result.stderr
    assert _tree_digest(workspace_home) == before


def test_corrupt_workspace_without_lake(workspace_home: Path, cli: Cli) -> None:
    import shutil

    shutil.rmtree(workspace_home / "lake")
    result = cli("--home", workspace_home, "tables")
    assert result.code == 1
    assert "lake/" in result.stderr


def test_unwritable_home(tmp_path: Path, cli: Cli) -> None:
    if os.geteuid() == 0:  # root writes anywhere on disk, but not into /proc
        target = Path("/proc/custodia-test-ws")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        target = locked / "ws"
    result = cli("--home", target, "init")
    assert result.code == 1
    assert "cannot create workspace" in result.stderr


def test_home_that_is_a_file(tmp_path: Path, cli: Cli) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = cli("--home", target, "init")
    assert result.code == 1
    assert "workspace" in result.stderr


def test_home_from_environment(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "from-env"
    assert cli("--home", home, "init").code == 0
    monkeypatch.setenv("CUSTODIA_HOME", str(home))
    result = cli("tables", "--json")
    assert result.code == 0, result
    assert len(result.json()) == len(TABLES)


def test_runs_on_a_fresh_workspace(workspace_home: Path, cli: Cli) -> None:
    result = cli("--home", workspace_home, "runs", "--json")
    assert result.code == 0, result
    assert json.loads(result.stdout) == []
    missing = cli("--home", workspace_home, "runs", "run_nope")
    assert missing.code == 1
    assert "no run" in missing.stderr


def test_corrupt_operational_store_is_one_line(workspace_home: Path, cli: Cli) -> None:
    (workspace_home / "store.db").write_bytes(b"this is not a database")
    result = cli("--home", workspace_home, "runs")
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "error: operational store (sqlite) is unusable: file is not a database"
    ]

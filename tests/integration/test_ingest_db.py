"""``custodia ingest db`` on SQLite and on the local PostgreSQL: full loads, incremental loads by
a watermark column (late rows at the boundary are not missed, loaded ones not repeated), and a
failed load that leaves the watermark where it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from custodia.settings import load_settings
from custodia.storage.sql_source import redact_url
from custodia.storage.store import Watermarks
from custodia.workspace import Workspace

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"
ROWS = [
    ("E001", "伟", "张", "1", " ZW@Example.com ", "13912345678", "华北/北京", True,
     "2025-01-02 10:00:00", "2026-03-01 09:00:00"),
    ("E002", "Emily", "Chen", "2", "emily@example.com", None, "华东/上海", False,
     "2025-02-03 11:00:00", "2026-03-02 09:00:00"),
    ("E003", "芳", "王", "male", None, "13700002222", "华东/杭州", True,
     "2025-03-04 12:00:00", "2026-03-02 09:00:00"),
]  # fmt: skip
COLUMNS = (
    "customer_no", "first_name", "last_name", "gender_code", "email", "phone", "region",
    "is_vip", "created_at", "updated_at",
)  # fmt: skip


@dataclass
class Database:
    """A source database with a `customers` table, and how the CLI names it."""

    url: str
    table: str
    engine: sa.Engine

    def insert(self, *rows: tuple[Any, ...]) -> None:
        names = ", ".join(COLUMNS)
        marks = ", ".join(f":{c}" for c in COLUMNS)
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(f"INSERT INTO {self.table} ({names}) VALUES ({marks})"),
                [dict(zip(COLUMNS, row, strict=True)) for row in rows],
            )

    def touch(self, customer_no: str, email: str, updated_at: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"UPDATE {self.table} SET email = :email, updated_at = :at "
                    "WHERE customer_no = :no"
                ),
                {"email": email, "at": updated_at, "no": customer_no},
            )


def _create(engine: sa.Engine, table: str, timestamp: str, boolean: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {table} (customer_no TEXT PRIMARY KEY, first_name TEXT, "
                "last_name TEXT, gender_code TEXT, email TEXT, phone TEXT, region TEXT, "
                f"is_vip {boolean}, created_at {timestamp}, updated_at {timestamp})"
            )
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'erp.db'}"
        engine = sa.create_engine(url)
        _create(engine, "customers", "TEXT", "INTEGER")
        db = Database(url, "customers", engine)
    else:
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        engine = sa.create_engine(url)
        _create(engine, f'"{schema}".customers', "TIMESTAMP", "BOOLEAN")
        db = Database(url.replace("postgresql+psycopg://", "postgresql://"),
                      f"{schema}.customers", engine)  # fmt: skip
    db.insert(*ROWS)
    yield db
    engine.dispose()


def _ingest(cli: Any, home: Path, db: Database, *extra: str, mapping: str = "") -> Any:
    return cli(
        "--home", home, "ingest", "db", db.url, "--table", db.table,
        "--source", "erp_customers", "--mapping", mapping or EXAMPLES / "erp_customers.yaml",
        *extra, "--json",
    )  # fmt: skip


def _members(cli: Any, home: Path) -> dict[str, dict[str, Any]]:
    query = (
        "select member_id, name, gender, email, city, province, member_level, updated_at "
        "from customer_records"
    )
    result = cli("--home", home, "sql", query, "--format", "json")
    assert result.code == 0, result
    return {row["member_id"]: row for row in result.json()}


def test_full_load_maps_every_row(cli: Any, workspace_home: Path, database: Database) -> None:
    result = _ingest(cli, workspace_home, database, "--incremental", "updated_at")
    assert result.code == 0, result
    src = result.json()["sources"][0]
    assert (src["rows_in"], src["rows_landed"], src["rows_rejected"]) == (3, 3, 0)
    assert src["watermark"].startswith("2026-03-02")
    members = _members(cli, workspace_home)
    assert members["E001"]["name"] == "张伟"
    assert members["E001"]["email"] == "zw@example.com"
    assert (members["E001"]["province"], members["E001"]["city"]) == ("华北", "北京")
    assert members["E001"]["member_level"] == "vip"
    assert members["E002"]["member_level"] == "regular"
    assert members["E002"]["gender"] == "F"
    assert members["E001"]["updated_at"] == "2026-03-01T01:00:00+00:00"  # 09:00 in Shanghai


def test_incremental_loads_only_what_changed(
    cli: Any, workspace_home: Path, database: Database
) -> None:
    assert _ingest(cli, workspace_home, database, "--incremental", "updated_at").code == 0
    unchanged = _ingest(cli, workspace_home, database, "--incremental", "updated_at")
    src = unchanged.json()["sources"][0]
    assert (src["rows_in"], src["rows_skipped"]) == (0, 2)  # both rows at the mark, seen before
    database.insert(
        ("E004", "Late", "Row", "2", "late@example.com", None, "华南/广州", False,
         "2025-04-01 08:00:00", "2026-03-02 09:00:00"),
    )  # fmt: skip
    database.touch("E001", "new@example.com", "2026-03-03 12:00:00")
    changed = _ingest(cli, workspace_home, database, "--incremental", "updated_at")
    src = changed.json()["sources"][0]
    assert src["rows_in"] == 2  # the late row at the old mark, and the updated one
    assert src["targets"][0]["rows_inserted"] == 1
    assert src["targets"][0]["rows_updated"] == 1
    members = _members(cli, workspace_home)
    assert members["E001"]["email"] == "new@example.com"
    assert "E004" in members
    with Workspace.open(load_settings(home=workspace_home)) as ws:
        stored = Watermarks(ws.store).get("erp_customers", database.table)
    assert stored is not None and "2026-03-03" in stored


def test_without_incremental_every_run_reads_the_whole_table(
    cli: Any, workspace_home: Path, database: Database, tmp_path: Path
) -> None:
    full = tmp_path / "full.yaml"
    text = (EXAMPLES / "erp_customers.yaml").read_text(encoding="utf-8")
    full.write_text(text.replace("    incremental: updated_at\n", ""), encoding="utf-8")
    for _ in range(2):
        result = _ingest(cli, workspace_home, database, mapping=str(full))
        assert result.code == 0, result
        assert result.json()["sources"][0]["rows_in"] == 3
        assert result.json()["sources"][0]["watermark"] is None


def test_a_failed_load_leaves_the_watermark_alone(
    cli: Any, workspace_home: Path, database: Database, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    text = (EXAMPLES / "erp_customers.yaml").read_text(encoding="utf-8")
    broken.write_text(text.replace("member_id: customer_no", "member_id: no_such_column"), "utf-8")
    failed = _ingest(cli, workspace_home, database, mapping=str(broken))
    assert failed.code == 1
    assert "erp_customers -> customer_records" in failed.stderr
    with Workspace.open(load_settings(home=workspace_home)) as ws:
        assert Watermarks(ws.store).get("erp_customers", database.table) is None
    fixed = _ingest(cli, workspace_home, database)
    assert fixed.json()["sources"][0]["targets"][0]["rows_inserted"] == 3


def test_bad_table_column_and_url_fail_clearly(
    cli: Any, workspace_home: Path, database: Database
) -> None:
    no_table = cli(
        "--home", workspace_home, "ingest", "db", database.url, "--table", "nope",
        "--source", "erp_customers", "--mapping", EXAMPLES / "erp_customers.yaml",
    )  # fmt: skip
    assert no_table.code == 1 and "no table 'nope'" in no_table.stderr
    no_column = _ingest(cli, workspace_home, database, "--incremental", "version")
    assert no_column.code == 1 and "has no column 'version'" in no_column.stderr
    bad_url = cli(
        "--home", workspace_home, "ingest", "db", "not a url", "--table", "customers",
        "--source", "erp_customers", "--mapping", EXAMPLES / "erp_customers.yaml",
    )  # fmt: skip
    assert bad_url.code == 1 and "not a SQLAlchemy database URL" in bad_url.stderr


def test_credentials_in_the_url_are_never_echoed(cli: Any, workspace_home: Path) -> None:
    url = "postgresql://loader:s3cret-pw@127.0.0.1:1/erp"
    result = cli(
        "--home", workspace_home, "ingest", "db", url, "--table", "customers",
        "--source", "erp_customers", "--mapping", EXAMPLES / "erp_customers.yaml",
    )  # fmt: skip
    assert result.code == 1
    assert "cannot read source table 'customers'" in result.stderr
    runs = cli("--home", workspace_home, "runs", "--json")
    assert "s3cret-pw" not in result.stderr + result.stdout + runs.stdout
    assert redact_url(url) == "postgresql://loader:***@127.0.0.1:1/erp"

"""Erasure: after delete by key, vacuum and log cleanup, no file under the table holds the value.

Vacuum and log cleanup run in a child process: delta-rs can abort at interpreter exit after heavy
maintenance (delta-rs #2184), which must not take the test runner down with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custodia.core.errors import TimeTravelError
from custodia.storage.lake import Lakehouse

SCHEMA = pa.schema(
    [
        pa.field("profile_id", pa.string(), nullable=False),
        pa.field("email", pa.string()),
        pa.field("name", pa.string()),
    ]
)
ERASED_EMAIL = "wang.erased@example.cn"
ERASED_NAME = "王小明"

_MAINTENANCE = """
import json, sys
from pathlib import Path
from custodia.storage.lake import Lakehouse
lake = Lakehouse(Path(sys.argv[1]))
removed = lake.vacuum("curated", "profiles", retention_hours=0)
cleaned = lake.clean_log("curated", "profiles", log_retention_hours=0)
print(json.dumps({"vacuumed": removed, "log_files_removed": cleaned}))
"""


def _run_maintenance(root: Path) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _MAINTENANCE, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _files(table_dir: Path) -> list[Path]:
    return [p for p in table_dir.rglob("*") if p.is_file()]


def _holds(path: Path, value: str) -> bool:
    """Raw bytes, and for parquet (compressed pages) every decoded string value too."""
    if value.encode() in path.read_bytes():
        return True
    if path.suffix != ".parquet":
        return False
    return value in json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)


def _files_holding(table_dir: Path, value: str) -> list[str]:
    return [str(p.relative_to(table_dir)) for p in _files(table_dir) if _holds(p, value)]


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    lakehouse = Lakehouse(tmp_path / "lake")
    lakehouse.ensure_table("curated", "profiles", SCHEMA, stats_columns=("profile_id",))
    people = pa.table(
        {
            "profile_id": ["p-000", "p-001", "p-003"],
            "email": [ERASED_EMAIL, "ann@example.com", "carl@example.com"],
            "name": [ERASED_NAME, "Ann", "Carl"],
        }
    )
    lakehouse.append("curated", "profiles", people)
    # A second version that also holds the value, so erasure must reach older files too.
    change = pa.table({"profile_id": ["p-000"], "name": [ERASED_NAME]})
    lakehouse.merge("curated", "profiles", change, ["profile_id"])
    return lakehouse


def test_personal_columns_never_enter_the_log(lake: Lakehouse, tmp_path: Path) -> None:
    log_dir = tmp_path / "lake/curated/profiles/_delta_log"
    assert _files_holding(log_dir, ERASED_EMAIL) == []
    assert _files_holding(log_dir, ERASED_NAME) == []


def test_erased_values_are_gone_after_delete_vacuum_and_log_cleanup(
    lake: Lakehouse, tmp_path: Path
) -> None:
    table_dir = tmp_path / "lake/curated/profiles"
    lake.delete_by_keys("curated", "profiles", "profile_id", ["p-000"])
    # The check can see the values: before maintenance, old data files still hold them, and
    # the old commits still hold the erased key as the min statistic of profile_id.
    assert _files_holding(table_dir, ERASED_EMAIL)
    assert _files_holding(table_dir, ERASED_NAME)
    assert _files_holding(table_dir / "_delta_log", "p-000")

    outcome = _run_maintenance(tmp_path / "lake")

    assert outcome["vacuumed"] >= 1
    assert outcome["log_files_removed"] >= 1
    for value in (ERASED_EMAIL, ERASED_NAME, "p-000"):
        assert _files_holding(table_dir, value) == [], value
    remaining = lake.snapshot("curated", "profiles").dataset().to_table()
    assert sorted(remaining.column("profile_id").to_pylist()) == ["p-001", "p-003"]
    assert lake.row_count("curated", "profiles") == 2


def test_cleaned_versions_can_no_longer_be_time_travelled(lake: Lakehouse, tmp_path: Path) -> None:
    lake.delete_by_keys("curated", "profiles", "profile_id", ["p-000"])
    _run_maintenance(tmp_path / "lake")
    with pytest.raises(TimeTravelError, match="available versions are"):
        lake.snapshot("curated", "profiles", version=1)
    # The log retention was lowered only for the cleanup.
    assert lake.history("curated", "profiles")[0].operation == "SET TBLPROPERTIES"
    lake.append("curated", "profiles", pa.table({"profile_id": ["p-004"]}))
    assert lake.row_count("curated", "profiles") == 3

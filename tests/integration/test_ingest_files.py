"""``custodia ingest file`` through the shipped example mappings: CSV in GBK with Chinese dates,
JSON Lines in English, Excel and Parquet; broken rows quarantined, the rest loaded, twice = once."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from custodia.core.ids import record_key

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"
MEMBERS_CSV = EXAMPLES / "data" / "store_members_gbk.csv"


def _sql(cli: Any, home: Path, query: str) -> list[dict[str, Any]]:
    result = cli("--home", home, "sql", query, "--format", "json")
    assert result.code == 0, result
    rows: list[dict[str, Any]] = result.json()
    return rows


def _ingest(cli: Any, home: Path, path: Path, source: str, mapping: str, *extra: str) -> Any:
    return cli(
        "--home", home, "ingest", "file", path, "--source", source,
        "--mapping", EXAMPLES / mapping, *extra, "--json",
    )  # fmt: skip


def test_gbk_csv_with_chinese_dates_loads_and_bad_rows_are_quarantined(
    cli: Any, workspace_home: Path
) -> None:
    result = _ingest(cli, workspace_home, MEMBERS_CSV, "store_members", "store_members.yaml")
    assert result.code == 0, result
    src = result.json()["sources"][0]
    assert (src["rows_in"], src["rows_landed"], src["rows_rejected"]) == (8, 7, 1)
    assert src["rejected_by_rule"] == {"csv_missing_fields": 1}
    target = src["targets"][0]
    assert (target["rows_inserted"], target["rows_unmapped"]) == (5, 2)
    assert target["unmapped_by_rule"] == {
        "customer_records.record_id:required": 1,
        "customer_records.registered_at:date_format": 1,
    }
    members = {
        row["member_id"]: row
        for row in _sql(
            cli,
            workspace_home,
            "select member_id, gender, birthday, phone, address, member_level, registered_at "
            "from customer_records",
        )
    }
    assert members["SM0001"]["birthday"] == "1990-03-07"
    assert members["SM0001"]["registered_at"] == "2024-11-02T02:00:00+00:00"  # 10:00 Shanghai
    assert members["SM0003"]["gender"] == "F"  # 女士 through the lookup
    assert members["SM0003"]["birthday"] == "1992-03-05"  # "Mar 5, 1992"
    assert members["SM0004"]["phone"] == "13600003333"  # full-width digits normalised
    assert members["SM0004"]["member_level"] == "钻石卡"  # not in the lookup: kept
    assert members["SM0004"]["registered_at"] == "2025-03-01T06:05:00+00:00"  # 14时05分
    assert members["SM0005"]["birthday"] is None  # 不详: not required, so the row loads
    assert members["SM0001"]["address"] == "北京市北京市朝阳区建国路1号"
    quarantined = _sql(
        cli,
        workspace_home,
        "select kind, rule, field, position, payload from quarantine order by position",
    )
    assert [(q["kind"], q["rule"], q["position"]) for q in quarantined] == [
        ("line", "csv_missing_fields", 6),
        ("record", "required", 7),
        ("record", "date_format", 8),
    ]
    assert json.loads(quarantined[2]["payload"])["注册时间"] == "2025-13-45 10:00"
    raw = _sql(cli, workspace_home, "select raw_id, position, payload from source_records_raw")
    first = next(r for r in raw if r["position"] == 1)
    assert first["raw_id"] == record_key("store_members", "store_members_gbk.csv#1")
    assert json.loads(first["payload"])["生日"] == "1990年3月7日"  # raw keeps what arrived


def test_ingesting_the_same_file_twice_stores_nothing_new(cli: Any, workspace_home: Path) -> None:
    _ingest(cli, workspace_home, MEMBERS_CSV, "store_members", "store_members.yaml")
    again = _ingest(cli, workspace_home, MEMBERS_CSV, "store_members", "store_members.yaml")
    assert again.code == 0, again
    assert again.json()["sources"][0]["targets"][0]["rows_inserted"] == 0
    counts = _sql(
        cli,
        workspace_home,
        "select (select count(*) from customer_records) as members, "
        "(select count(*) from quarantine) as quarantined",
    )
    assert counts == [{"members": 5, "quarantined": 3}]


def test_a_declared_encoding_is_used_and_a_wrong_one_fails_clearly(
    cli: Any, workspace_home: Path
) -> None:
    ok = _ingest(
        cli, workspace_home, MEMBERS_CSV, "store_members", "store_members.yaml",
        "--encoding", "gbk",
    )  # fmt: skip
    assert ok.code == 0, ok
    assert ok.json()["sources"][0]["rows_landed"] == 7
    wrong = _ingest(
        cli, workspace_home, MEMBERS_CSV, "store_members", "store_members.yaml",
        "--encoding", "utf-8",
    )  # fmt: skip
    assert wrong.code == 1
    assert "the header is not utf-8 text" in wrong.stderr


def test_json_lines_in_english_formats(cli: Any, workspace_home: Path) -> None:
    path = EXAMPLES / "data" / "web_orders.jsonl"
    result = _ingest(cli, workspace_home, path, "web_orders", "web_orders.yaml")
    assert result.code == 0, result
    src = result.json()["sources"][0]
    assert src["rejected_by_rule"] == {"invalid_json": 1}
    assert src["targets"][0]["unmapped_by_rule"] == {"orders.ordered_at:date_format": 1}
    orders = {
        row["source_key"]: row
        for row in _sql(
            cli,
            workspace_home,
            "select source_key, customer_ref, ordered_at, status, total_amount, ship_to_name "
            "from orders",
        )
    }
    assert sorted(orders) == ["W-1001", "W-1002", "W-1003", "W-1004"]
    assert orders["W-1001"]["ordered_at"] == "2026-03-05T06:03:00+00:00"  # 2:03 PM Shanghai
    assert orders["W-1001"]["total_amount"] == "1299.00"
    assert orders["W-1001"]["customer_ref"] == "emily.chen@example.com"
    assert orders["W-1001"]["ship_to_name"] == "Emily Chen"
    assert orders["W-1003"]["ordered_at"] == "2026-03-05T14:03:00+00:00"  # epoch milliseconds
    assert orders["W-1003"]["status"] == "completed"
    lines = _sql(cli, workspace_home, "select sum(line_amount) as total from order_lines")
    assert lines == [{"total": "3956.50"}]  # W-1005 lines load: only its order failed


def _loyalty_rows() -> list[dict[str, Any]]:
    return [
        {"card": "C001", "name": "张伟", "mobile": 13912345678, "birthday": datetime(1990, 3, 7),
         "joined": datetime(2025, 3, 1, 10, 30)},
        {"card": "C002", "name": "Emily Chen", "mobile": "138 0000 1111", "birthday": "Mar 5, 1992",
         "joined": "2025年3月2日"},
        {"card": "C003", "name": "王芳", "mobile": 13700002222, "birthday": None, "joined": None},
    ]  # fmt: skip


def test_excel_workbook_sheet(cli: Any, workspace_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "会员.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "会员名单"
    sheet.append(["卡号", "姓名", "手机", "生日", "入会日期"])
    for row in _loyalty_rows():
        sheet.append([row["card"], row["name"], row["mobile"], row["birthday"], row["joined"]])
    book.save(path)
    result = _ingest(cli, workspace_home, path, "loyalty_excel", "loyalty_workbook.yaml")
    assert result.code == 0, result
    target = result.json()["sources"][0]["targets"][0]
    assert (target["rows_inserted"], target["rows_unmapped"]) == (2, 1)
    members = _sql(
        cli,
        workspace_home,
        "select member_id, phone, birthday, registered_at from customer_records order by 1",
    )
    assert members == [
        {"member_id": "C001", "phone": "13912345678", "birthday": "1990-03-07",
         "registered_at": "2025-03-01T02:30:00+00:00"},
        {"member_id": "C002", "phone": "138 0000 1111", "birthday": "1992-03-05",
         "registered_at": "2025-03-01T16:00:00+00:00"},
    ]  # fmt: skip
    located = _sql(cli, workspace_home, "select source_file, position from quarantine")
    assert located == [{"source_file": "会员.xlsx#会员名单", "position": 4}]


def test_parquet_file(cli: Any, workspace_home: Path, tmp_path: Path) -> None:
    rows = _loyalty_rows()
    table = pa.table(
        {
            "card_no": [r["card"] for r in rows],
            "name": [r["name"] for r in rows],
            "mobile": [str(r["mobile"]) for r in rows],
            "birthday": pa.array([datetime(1990, 3, 7), None, None], pa.timestamp("us")),
            "joined_at": pa.array(
                [datetime(2025, 3, 1, 10, 30), datetime(2025, 3, 2), None], pa.timestamp("us")
            ),
        }
    )
    path = tmp_path / "members.parquet"
    pq.write_table(table, path)
    result = _ingest(cli, workspace_home, path, "loyalty_parquet", "loyalty_workbook.yaml")
    assert result.code == 0, result
    assert result.json()["sources"][0]["targets"][0]["rows_unmapped"] == 1
    members = _sql(cli, workspace_home, "select member_id, registered_at from customer_records")
    assert sorted((m["member_id"], m["registered_at"]) for m in members) == [
        ("C001", "2025-03-01T02:30:00+00:00"),
        ("C002", "2025-03-01T16:00:00+00:00"),
    ]


def test_a_glob_loads_every_matching_file(cli: Any, workspace_home: Path, tmp_path: Path) -> None:
    for name in ("shop_a.csv", "shop_b.csv"):
        shutil.copy(MEMBERS_CSV, tmp_path / name)
    result = _ingest(
        cli, workspace_home, tmp_path / "shop_*.csv", "store_members", "store_members.yaml"
    )
    assert result.code == 0, result
    assert result.json()["sources"][0]["rows_landed"] == 14
    files = _sql(cli, workspace_home, "select distinct source_file from source_records_raw")
    assert sorted(f["source_file"] for f in files) == ["shop_a.csv", "shop_b.csv"]


@pytest.mark.parametrize(
    ("path", "source", "mapping", "message"),
    [
        ("missing.csv", "store_members", "store_members.yaml", "no file"),
        (str(MEMBERS_CSV), "nobody", "store_members.yaml", "not in the mapping file"),
        (str(MEMBERS_CSV), "erp_customers", "erp_customers.yaml", "use `ingest db`"),
        (str(EXAMPLES / "data"), "store_members", "store_members.yaml", "is a folder"),
    ],
)
def test_unusable_input_fails_with_one_clear_line(
    cli: Any, workspace_home: Path, path: str, source: str, mapping: str, message: str
) -> None:
    result = _ingest(cli, workspace_home, Path(path), source, mapping)
    assert result.code == 1
    assert message in result.stderr


def test_progress_and_summary_for_people(cli: Any, workspace_home: Path) -> None:
    result = cli(
        "--home", workspace_home, "ingest", "file", MEMBERS_CSV, "--source", "store_members",
        "--mapping", EXAMPLES / "store_members.yaml",
    )  # fmt: skip
    assert result.code == 0, result
    assert "customer_records" in result.stdout
    assert "Quarantined rows" in result.stdout
    assert "ingest" in result.stderr  # the progress bar


MISSING_COLUMN_MAPPING = """\
sources:
  - name: crm
    format: csv
    entity: customers
    targets:
      - table: customer_records
        key: member_id
        columns:
          member_id: member_id
          name: name
          phone: phone
{extra}"""


def test_a_file_without_a_mapped_column_is_quarantined_not_failed(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "members.csv"
    data.write_text("member_id,name,phone\nM1,张伟,13812340001\nM2,李娜,13812340002\n", "utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(MISSING_COLUMN_MAPPING.format(extra="          email: email\n"), "utf-8")
    result = cli("--home", workspace_home, "ingest", "file", data, "--source", "crm",
                 "--mapping", mapping, "--json")  # fmt: skip
    assert result.code == 0, result
    [target] = result.json()["sources"][0]["targets"]
    assert target["rows_unmapped"] == 2
    assert target["unmapped_by_rule"] == {"customer_records.email:mapping:missing_field": 2}
    entries = cli("--home", workspace_home, "quarantine", "list", "--json").json()
    assert {(e["rule"], e["position"]) for e in entries} == {
        ("mapping:missing_field", 1), ("mapping:missing_field", 2),
    }  # fmt: skip
    assert "email: the source's records have no such field" in entries[0]["reason"]
    mapping.write_text(MISSING_COLUMN_MAPPING.format(extra=""), "utf-8")  # the mapping is fixed
    replay = cli("--home", workspace_home, "quarantine", "replay", "--mapping", mapping, "--json")
    assert replay.code == 0 and replay.json()["replayed"] == 2, replay
    stored = _sql(cli, workspace_home, "select member_id from customer_records order by 1")
    assert [r["member_id"] for r in stored] == ["M1", "M2"]

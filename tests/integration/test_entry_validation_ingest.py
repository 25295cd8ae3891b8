"""Entry validation in connectors through ``custodia ingest file``: the ``at_entry`` rules of a
staged table judge every mapped row; a bad row is flagged (stored) or kept out (quarantined,
open) without sinking the file, and ``quarantine replay`` validates it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custodia.pipeline.quality_rules_file import install_rules, shipped_rules_text
from custodia.settings import load_settings
from custodia.workspace import Workspace

MAPPING = """
sources:
  - name: crm_members
    format: csv
    entity: customers
    targets:
      - table: customer_records
        key: member_no
        columns:
          member_id: member_no
          name: name
          phone: {field: phone, normalize: NFKC}
          email: email
"""

CSV = (
    "member_no,name,phone,email\n"
    "M1,张伟,13800138000,zhang.wei@example.cn\n"
    "M2,李娜,1380013800,li.na@example.cn\n"  # 10 digits
    "M3,Emily Chen,+86 139-1234-5678,emily@example\n"  # email without a dot in the domain
    "M4,王芳,,wang.fang@example.cn\n"  # no phone: format rules judge present values only
)
PHONE_FLAG = "    format: cn_mobile\n    at_entry: {action: flag}\n"


def _json(cli: Any, home: Path, *args: Any) -> Any:
    result = cli("--home", home, *args, "--json")
    assert result.code == 0, result
    return result.json()


def _members(cli: Any, home: Path) -> list[str]:
    query = "select member_id from customer_records order by 1"
    result = cli("--home", home, "sql", query, "--format", "json")
    assert result.code == 0, result
    return [row["member_id"] for row in result.json()]


def _counts(cli: Any, home: Path) -> dict[tuple[str, str], int]:
    rows = _json(cli, home, "quarantine", "list", "--summary")
    return {(r["rule"], r["status"]): r["entries"] for r in rows}


def _rules(home: Path, text: str) -> None:
    ws = Workspace.open(load_settings(home=home))
    try:
        install_rules(ws, text)
    finally:
        ws.close()


def _ingest(cli: Any, home: Path, folder: Path, name: str) -> Any:
    report = _json(cli, home, "ingest", "file", folder / name, "--source", "crm_members",
                   "--mapping", folder / "mapping.yaml")  # fmt: skip
    return report["sources"][0]


def _files(tmp_path: Path) -> Path:
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    (folder / "members.csv").write_text(CSV, encoding="utf-8")
    return folder


def test_shipped_flag_rules_store_bad_rows_and_list_them_by_rule(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    folder = _files(tmp_path)
    source = _ingest(cli, workspace_home, folder, "members.csv")
    assert source["rows_unmapped"] == 0
    assert _members(cli, workspace_home) == ["M1", "M2", "M3", "M4"]
    assert _counts(cli, workspace_home) == {
        ("customer_phone_format", "flagged"): 1,
        ("customer_email_format", "flagged"): 1,
    }
    flagged = _json(cli, workspace_home, "quarantine", "list", "--rule", "customer_phone_format")
    assert flagged[0]["field"] == "customer_records.phone"
    assert flagged[0]["reason"] == (
        "phone: violates rule customer_phone_format (not in format cn_mobile)"
    )
    assert (flagged[0]["kind"], flagged[0]["position"]) == ("record", 2)
    # loading the same file again flags nothing twice
    _ingest(cli, workspace_home, folder, "members.csv")
    assert sum(_counts(cli, workspace_home).values()) == 2


def test_a_reject_rule_keeps_the_row_out_without_sinking_the_file_and_replay_revalidates(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    home = workspace_home
    shipped = shipped_rules_text()
    assert shipped.count(PHONE_FLAG) == 1
    _rules(home, shipped.replace(PHONE_FLAG, PHONE_FLAG.replace("flag", "reject")))
    folder = _files(tmp_path)
    source = _ingest(cli, home, folder, "members.csv")
    target = source["targets"][0]
    assert (target["rows_inserted"], target["rows_unmapped"]) == (3, 1)
    assert target["unmapped_by_rule"] == {"customer_records.phone:customer_phone_format": 1}
    assert _members(cli, home) == ["M1", "M3", "M4"]
    assert _counts(cli, home) == {
        ("customer_phone_format", "open"): 1,
        ("customer_email_format", "flagged"): 1,
    }

    still = _json(cli, home, "quarantine", "replay")
    assert (still["replayed"], still["still_open"]) == (0, 1)
    _rules(home, shipped)  # back to flagging bad phones
    report = _json(cli, home, "quarantine", "replay")
    assert (report["replayed"], report["still_open"]) == (1, 0)
    assert _members(cli, home) == ["M1", "M2", "M3", "M4"]
    # the entry itself says what happened to the row (its rule now flags: one entry, replayed)
    assert _counts(cli, home) == {
        ("customer_phone_format", "replayed"): 1,
        ("customer_email_format", "flagged"): 1,
    }


def test_unreadable_rule_files_do_not_stop_a_load(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    quality = workspace_home / "quality"
    quality.mkdir(exist_ok=True)
    for name in ("rules.yaml", "rules.active.yaml"):  # e.g. written for an older version
        (quality / name).write_text("rules:\n  - name: x\n    check: nope\n", encoding="utf-8")
    folder = _files(tmp_path)
    assert _ingest(cli, workspace_home, folder, "members.csv")["rows_unmapped"] == 0
    assert _members(cli, workspace_home) == ["M1", "M2", "M3", "M4"]
    assert ("customer_phone_format", "flagged") in _counts(cli, workspace_home)  # shipped rules

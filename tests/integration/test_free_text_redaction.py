"""Free text is scanned and redacted per the workspace's classification policy before it is staged.

Tickets carrying phones, resident IDs, emails and bank cards are ingested through the demo's
``service_tickets`` mapping; the staged ``interactions.text`` holds masks, the run step counts
the findings per entity type (no values), and no staged Delta file holds a raw value anywhere
in its string columns. The raw zone keeps the records as they arrived (documented: L3, for
replay, covered by encryption and erasure).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PHONE, RESIDENT_ID, EMAIL, CARD = (
    "13812345678", "11010519491231002X", "zhang.san@example.com", "4111111111111111",
)  # fmt: skip
TICKETS = [
    (f"您好，我的手机号是{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}，快递一直没到", "zh"),
    (f"身份证{RESIDENT_ID}，请帮我改一下收货地址，邮箱{EMAIL}", "zh"),
    (f"Please refund to my card {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}", "en"),
    ("The dress is too small, I want to exchange it", "en"),
]
RAW_VALUES = (PHONE, f"{PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}", RESIDENT_ID, EMAIL, CARD[-8:])
MAPPING = resources.files("custodia.pipeline").joinpath("demo_mappings.yaml")


def ok(result: Any) -> Any:
    assert result.code == 0, result
    return result.json()


def write_tickets(folder: Path) -> Path:
    path = folder / "tickets.jsonl"
    lines = [
        json.dumps(
            {"ticket_id": f"T{i}", "member_id": f"M{i}", "phone": None, "email": None,
             "customer_name": None, "order_id": None, "channel": "app",
             "created_at": "2026-11-01 10:00:00", "language": language, "text": text,
             "status": "open"},
            ensure_ascii=False,
        )
        for i, (text, language) in enumerate(TICKETS)
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ingest(cli: Any, home: Path, tickets: Path) -> dict[str, Any]:
    args = ("ingest", "file", tickets, "--source", "service_tickets", "--mapping", MAPPING)
    report: dict[str, Any] = ok(cli("--home", home, *args, "--json"))
    return report


def stage_detail(cli: Any, home: Path, run_id: str) -> dict[str, Any]:
    steps = ok(cli("--home", home, "runs", run_id, "--json"))
    [step] = [s for s in steps if s["step"] == "stage:interactions"]
    detail: dict[str, Any] = step["detail"]
    return detail


def staged_texts(cli: Any, home: Path) -> dict[str, str]:
    rows = ok(cli("--home", home, "sql", "select source_key, text from interactions", "--format",
                  "json"))  # fmt: skip
    return {r["source_key"]: r["text"] for r in rows}


def string_cells(folder: Path) -> list[str]:
    """Every string value in every Parquet file under ``folder`` (all versions, all columns)."""
    cells: list[str] = []
    for file in folder.rglob("*.parquet"):
        table = pq.read_table(file)
        for column in table.columns:
            if (
                pa.types.is_string(column.type)
                or pa.types.is_large_string(column.type)
                or (pa.types.is_string_view(column.type))
            ):
                cells += [v for v in column.to_pylist() if v is not None]
    return cells


def test_staged_ticket_text_holds_masks_and_the_step_counts_findings(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    report = ingest(cli, workspace_home, write_tickets(tmp_path))
    texts = staged_texts(cli, workspace_home)
    assert texts == {
        "T0": "您好，我的手机号是138****5678，快递一直没到",
        "T1": "身份证110105********002X，请帮我改一下收货地址，邮箱z***@example.com",
        "T2": "Please refund to my card ************1111",
        "T3": TICKETS[3][0],
    }
    pii = stage_detail(cli, workspace_home, report["run_id"])["pii"]
    assert pii == {
        "interactions.text": {
            "action": "redact", "rows_scanned": 4, "rows_with_findings": 3,
            "findings": {"BANK_CARD": 1, "CN_MOBILE": 1, "CN_RESIDENT_ID": 1, "EMAIL_ADDRESS": 1},
        },
    }  # fmt: skip
    assert RESIDENT_ID not in json.dumps(pii)


def test_no_staged_delta_file_holds_a_raw_value(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    ingest(cli, workspace_home, write_tickets(tmp_path))
    staged = string_cells(workspace_home / "lake" / "staged")
    assert staged, "the staged interactions were written"
    for value in RAW_VALUES:
        assert not [cell for cell in staged if value in cell], value
    logs = "".join(p.read_text() for p in (workspace_home / "lake" / "staged").rglob("*.json"))
    assert not [value for value in RAW_VALUES if value in logs]
    # the raw zone keeps each record as it arrived (L3: encrypted and erased, not redacted)
    raw = string_cells(workspace_home / "lake" / "raw")
    assert any(RESIDENT_ID in cell for cell in raw)


def test_a_flag_only_policy_counts_findings_and_keeps_the_text(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "classification.yaml"
    policy.write_text("free_text:\n  interactions.text: {action: flag}\n", encoding="utf-8")
    ok(cli("--home", workspace_home, "privacy", "classification", "--set", policy, "--json"))
    report = ingest(cli, workspace_home, write_tickets(tmp_path))
    assert staged_texts(cli, workspace_home)["T1"] == TICKETS[1][0]
    pii = stage_detail(cli, workspace_home, report["run_id"])["pii"]["interactions.text"]
    assert (pii["action"], pii["rows_with_findings"]) == ("flag", 3)


def test_a_column_switched_off_is_not_scanned(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    policy = workspace_home / "privacy" / "classification.yaml"
    policy.write_text("free_text:\n  interactions.text: {scan: false}\n", encoding="utf-8")
    report = ingest(cli, workspace_home, write_tickets(tmp_path))
    assert staged_texts(cli, workspace_home)["T0"] == TICKETS[0][0]
    assert "pii" not in stage_detail(cli, workspace_home, report["run_id"])


def test_the_policy_in_force_is_shown(cli: Any, workspace_home: Path) -> None:
    assert (workspace_home / "privacy" / "classification.yaml").is_file()
    rows = ok(cli("--home", workspace_home, "privacy", "classification", "--json"))
    by_column = {r["column"]: r for r in rows}
    assert by_column["interactions.text"] | {"entities": None} == {
        "column": "interactions.text", "tier_core": "L3", "tier": "L3", "scan": True,
        "action": "redact", "replace": "mask", "entities": None,
    }  # fmt: skip
    assert by_column["interactions.subject"]["tier_core"] == "L2"


def test_a_raised_tier_is_shown_and_a_lowered_one_refused_with_its_line(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    raised = tmp_path / "raised.yaml"
    raised.write_text("tiers:\n  orders.channel: L2\n", encoding="utf-8")
    rows = ok(cli("--home", workspace_home, "privacy", "classification", "--set", raised,
                  "--json"))  # fmt: skip
    assert {r["column"]: r["tier"] for r in rows}["orders.channel"] == "L2"

    lowered = tmp_path / "lowered.yaml"
    lowered.write_text("tiers:\n  orders.channel: L2\n  interactions.text: L1\n", "utf-8")
    result = cli("--home", workspace_home, "privacy", "classification", "--set", lowered)
    assert result.code == 1
    assert f"{lowered} line 3: tiers.interactions.text: cannot lower" in result.stderr
    installed = (workspace_home / "privacy" / "classification.yaml").read_text("utf-8")
    assert installed == raised.read_text("utf-8"), "a refused file is not installed"


def test_policy_file_errors_name_the_file_line_and_rule(cli: Any, tmp_path: Path) -> None:
    cases = {
        "free_text:\n  quarantine.payload: {scan: true}\n": "line 2: free_text.quarantine."
        "payload: the raw zone",
        "free_text:\n  events.properties: {}\n": "line 2: free_text.events.properties: events "
        "are stored by the Segment path",
        "free_text:\n  consents.notice_version: {}\n": "only lake tables that mappings stage",
        "free_text:\n  interactions.text: {action: redact, replace: blur}\n": "line 2: "
        "free_text.interactions.text: replace: Input should be 'mask' or 'tag'",
        "free_text:\n  interactions.text:\n    entities: {CN_PHONE: tag}\n": "line 2: "
        "free_text.interactions.text: entities: Value error, unknown personal-data entities "
        "['CN_PHONE']",
        "tiers:\n  interactions.body: L3\n": "line 2: tiers.interactions.body: table "
        "interactions has no column body",
        "tiers: [1]\n": "'tiers' must be a mapping",
        "tier:\n  orders.channel: L2\n": "unknown sections ['tier']",
        "tiers:\n  orders.channel: L2\n bad: [\n": "line 3",
    }
    for text, expected in cases.items():
        path = tmp_path / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        result = cli("privacy", "classification", "--check", path)
        assert result.code == 1, text
        assert expected in result.stderr, (text, result.stderr)
        assert str(path) in result.stderr


def test_each_new_policy_version_writes_one_audit_entry(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    def changes() -> list[dict[str, Any]]:
        log = ok(cli("--home", workspace_home, "audit", "log", "--action", "policy.change",
                     "--json"))  # fmt: skip
        return [e for e in log if e["resource"] == "privacy/classification.yaml"]

    assert len(changes()) == 1, "init records the shipped version"
    policy = tmp_path / "classification.yaml"
    policy.write_text("free_text:\n  interactions.text: {action: flag}\n", encoding="utf-8")
    for _ in range(2):  # the same version twice: recorded once
        ok(cli("--home", workspace_home, "privacy", "classification", "--set", policy, "--json"))
    ingest(cli, workspace_home, write_tickets(tmp_path))
    [newest, first] = changes()
    assert newest["details"]["previous_sha256"] == first["details"]["sha256"]
    assert "interactions.text" not in json.dumps(newest)

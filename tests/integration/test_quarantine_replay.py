"""Tracking plans and quarantine replay through the CLI: events a plan blocks wait in the
quarantine with their reason, flagged ones are stored and kept for review, and after the plan or
the mapping is fixed ``quarantine replay`` loads what passes and leaves the rest open."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ORDER_PLAN: dict[str, Any] = {
    "events": {
        "Order Completed": {
            "type": "object",
            "properties": {"revenue": {"type": "number"}, "currency": {"type": "string"}},
            "required": ["revenue"],
        }
    },
    "unplanned_events": "block",
    "unplanned_properties": "flag",
}

BATCH = {
    "sentAt": "2026-03-01T04:00:05Z",
    "context": {"library": {"name": "analytics.js", "version": "2.1"}},
    "batch": [
        {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1",
         "properties": {"revenue": 12.5, "currency": "CNY", "coupon": "新客"}},
        {"type": "track", "event": "Order Completed", "userId": "u2", "messageId": "m2",
         "properties": {"revenue": "十二元"}},
        {"type": "track", "event": "Wishlist Added", "anonymousId": "a3", "messageId": "m3",
         "properties": {"sku": "DR-01"}},
        {"type": "page", "name": "首页", "anonymousId": "a4", "messageId": "m4"},
        {"type": "track", "userId": "u5", "messageId": "m5"},
    ],
}  # fmt: skip


def _sql(cli: Any, home: Path, query: str) -> list[dict[str, Any]]:
    result = cli("--home", home, "sql", query, "--format", "json")
    assert result.code == 0, result
    rows: list[dict[str, Any]] = result.json()
    return rows


def _json(cli: Any, *args: Any) -> Any:
    result = cli(*args, "--json")
    assert result.code == 0, result
    return result.json()


def _events_source(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "plan.json").write_text(json.dumps(ORDER_PLAN), encoding="utf-8")
    mapping = folder / "mapping.yaml"
    mapping.write_text(
        "sources:\n  - name: web\n    format: segment_batch\n    entity: events\n"
        "    tracking_plan: plan.json\n",
        encoding="utf-8",
    )
    data = tmp_path / "exports" / "batch_1.json"
    data.parent.mkdir()
    data.write_text(json.dumps(BATCH, ensure_ascii=False), encoding="utf-8")
    return mapping, data, folder / "plan.json"


def _counts(cli: Any, home: Path) -> dict[tuple[str, str], int]:
    rows = _json(cli, "--home", home, "quarantine", "list", "--summary")
    return {(r["rule"], r["status"]): r["entries"] for r in rows}


def test_plan_blocks_and_flags_then_replay_loads_what_the_fixed_plan_allows(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    home = workspace_home
    mapping, data, plan = _events_source(tmp_path)
    load = _json(cli, "--home", home, "ingest", "file", data, "--source", "web",
                 "--mapping", mapping)  # fmt: skip
    assert load["sources"][0]["rows_rejected"] == 3
    stored = _sql(cli, home, "select message_id from events order by 1")
    assert [r["message_id"] for r in stored] == ["m1", "m4"]
    assert _counts(cli, home) == {
        ("plan_schema", "open"): 1,
        ("plan_unplanned_event", "open"): 1,
        ("plan_unplanned_property", "flagged"): 1,
        ("required", "open"): 1,
    }
    listed = _json(cli, "--home", home, "quarantine", "list", "--rule", "plan_schema")
    assert listed[0]["field"] == "properties.revenue"
    assert "十二元" not in json.dumps(listed, ensure_ascii=False)  # reasons never hold values
    assert "payload" not in listed[0]

    fixed = dict(ORDER_PLAN)
    fixed["events"] = {
        "Order Completed": {"properties": {"revenue": {"type": ["number", "string"]}}},
        "Wishlist Added": {"properties": {"sku": {"type": "string"}}},
    }
    plan.write_text(json.dumps(fixed), encoding="utf-8")
    report = _json(cli, "--home", home, "quarantine", "replay", "--source", "web")
    assert (report["examined"], report["replayed"], report["still_open"]) == (3, 2, 1)
    assert report["events_stored"] == 2
    stored = _sql(cli, home, "select message_id, run_id, context from events order by 1")
    assert [r["message_id"] for r in stored] == ["m1", "m2", "m3", "m4"]
    replayed = {r["message_id"]: r for r in stored}
    assert replayed["m2"]["run_id"] == report["run_id"]
    assert "analytics.js" in replayed["m3"]["context"]  # batch context kept for the replay
    resolved = _json(cli, "--home", home, "quarantine", "list", "--status", "replayed")
    assert {r["resolved_run_id"] for r in resolved} == {report["run_id"]}
    assert _counts(cli, home)[("required", "open")] == 1

    again = _json(cli, "--home", home, "quarantine", "replay")
    assert (again["examined"], again["replayed"], again["still_open"]) == (1, 0, 1)
    assert len(_sql(cli, home, "select * from events")) == 4


def test_replay_with_nothing_open_records_no_run(cli: Any, workspace_home: Path) -> None:
    report = _json(cli, "--home", workspace_home, "quarantine", "replay", "--rule", "none")
    assert report["run_id"] is None and report["examined"] == 0
    assert _json(cli, "--home", workspace_home, "runs") == []


MEMBERS_MAPPING = """\
lookups:
  level: {金卡: gold, 普通: regular}
sources:
  - name: store_members
    format: csv
    path: members.csv
    entity: customers
    targets:
      - table: customer_records
        key: member_id
        columns:
          name: 姓名
          member_level: {field: 等级, lookup: level, required: true}
"""


def test_rows_a_mapping_could_not_map_are_replayed_through_the_fixed_mapping(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    home = workspace_home
    folder = tmp_path / "crm"
    folder.mkdir()
    (folder / "members.csv").write_text(
        "member_id,姓名,等级\nM1,张伟,金卡\nM2,Emily Chen,白金卡\nM3,李娜,钻石卡\n",
        encoding="utf-8",
    )
    (folder / "mapping.yaml").write_text(MEMBERS_MAPPING, encoding="utf-8")
    load = _json(cli, "--home", home, "ingest", "file", folder / "members.csv",
                 "--source", "store_members", "--mapping", folder / "mapping.yaml")  # fmt: skip
    assert load["sources"][0]["rows_unmapped"] == 2
    assert _counts(cli, home) == {("lookup", "open"): 2}

    (folder / "mapping.yaml").write_text(
        MEMBERS_MAPPING.replace("普通: regular", "普通: regular, 白金卡: platinum"),
        encoding="utf-8",
    )
    report = _json(cli, "--home", home, "quarantine", "replay",
                   "--mapping", folder / "mapping.yaml")  # fmt: skip
    assert (report["replayed"], report["still_open"]) == (1, 1)
    rows = _sql(cli, home, "select name, member_level from customer_records order by 1")
    assert rows == [
        {"name": "Emily Chen", "member_level": "platinum"},
        {"name": "张伟", "member_level": "gold"},
    ]
    assert _counts(cli, home) == {("lookup", "open"): 1, ("lookup", "replayed"): 1}


def test_unreadable_lines_are_read_again_and_stay_open_while_still_broken(
    cli: Any, workspace_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "orders.jsonl").write_text(
        '{"order_id": "O1", "amount": 10}\n{broken\n', encoding="utf-8"
    )
    (folder / "mapping.yaml").write_text(
        "sources:\n  - name: shop\n    format: jsonl\n    entity: orders\n    targets:\n"
        "      - table: orders\n        key: order_id\n        columns:\n"
        "          total_amount: amount\n          channel: \"'online'\"\n",
        encoding="utf-8",
    )
    _json(cli, "--home", workspace_home, "ingest", "file", folder / "orders.jsonl",
          "--source", "shop", "--mapping", folder / "mapping.yaml")  # fmt: skip
    # Lineage recorded the mapping and folder of the load, so the replay needs no --mapping.
    report = _json(cli, "--home", workspace_home, "quarantine", "replay", "--source", "shop")
    assert (report["examined"], report["replayed"], report["still_open"]) == (1, 0, 1)
    assert [c["rule"] for c in report["counts"]] == ["invalid_json"]

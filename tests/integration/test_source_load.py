"""Batch load through the shipped demo mappings, on tiny hand-written sources.

Checks what a data engineer relies on: every record lands raw with its file and position, bad lines
are counted by rule (never silently dropped), a re-uploaded POS file adds no orders, loading the
same files twice stores nothing new, and a Segment message is stored once however often it comes.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from custodia.collect.mapping_spec import MappingFile, load_mapping_file
from custodia.core.ids import record_key
from custodia.pipeline.demo_run import MAPPING_FILE, demo_mapping_text
from custodia.pipeline.source_load import load_sources
from custodia.settings import load_settings
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace


def _write_sources(root: Path) -> None:
    (root / "crm").mkdir(parents=True)
    con = sqlite3.connect(root / "crm" / "members.db")
    con.execute(
        "CREATE TABLE members (member_id TEXT PRIMARY KEY, name TEXT, gender TEXT, birthday TEXT,"
        " mobile TEXT, email TEXT, id_card TEXT, member_level TEXT, level_code TEXT,"
        " province TEXT, city TEXT, address TEXT, occupation TEXT, register_channel TEXT,"
        " registered_at TEXT, updated_at TEXT)"
    )
    con.executemany(
        "INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            ("M0000001", "张伟", "M", "1990-03-07", "13912345678", "zw@example.com",
             "11010519900307001X", "金卡", "GOLD", "北京市", "北京市", "朝阳区建国路1号", None,
             "store", "2024-11-02 10:00:00", "2025-01-01 09:30:00"),
            ("M0000002", "Emily Chen", "F", "not a date", "1381234567", None, None, "普通",
             "REGULAR", "上海市", "上海市", "静安区南京西路2号", "设计师", "online",
             "2025-02-03 20:15:00", "2025-02-03 20:15:00"),
        ],
    )  # fmt: skip
    con.commit()
    con.close()
    (root / "ecommerce").mkdir()
    order = {
        "order_id": "O1001", "platform": "web", "user_id": "U1", "member_id": "M0000001",
        "guest": False, "buyer_phone": None, "buyer_email": None,
        "created_at": "2025-03-01 12:00:00", "paid_at": "2025-03-01 12:01:00",
        "status": "completed", "payment_method": "alipay", "coupon": None, "currency": "CNY",
        "items": [
            {"sku": "DR-01", "name": "真丝连衣裙", "category": "连衣裙", "size": "M", "qty": 1,
             "unit_price": 899.0},
            {"sku": "BL-02", "name": "Silk Blouse", "category": "衬衫", "size": "S", "qty": 2,
             "unit_price": 399.5},
        ],
        "goods_amount": 1698.0, "discount_amount": 0.0, "shipping_fee": 0.0,
        "pay_amount": 1698.0,
        "shipping": {"receiver_name": "张伟", "receiver_phone": "13912345678",
                     "province": "北京市", "city": "北京市", "address": "朝阳区建国路1号"},
    }  # fmt: skip
    lines = [json.dumps(order, ensure_ascii=False), "{broken json", ""]
    (root / "ecommerce" / "orders.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "pos").mkdir()
    header = "receipt_no,store_id,till,loyalty_card_no,phone,sold_at,sku,item_name,size,qty,price,amount,payment_method\n"  # noqa: E501
    rows = (
        "R1,SH001,1,M0000002,,2025-04-01 15:00:00,DR-01,真丝连衣裙,M,1,899.00,899.00,wechat\n"
        "R1,SH001,1,M0000002,,2025-04-01 15:00:00,SC-03,Scarf,F,1,199.00,199.00,wechat\n"
        "R2,SH001,2,,13800001111,2025-04-02 11:00:00,BL-02,Silk Blouse,S,1,399.50,399.50,cash\n"
    )
    (root / "pos" / "store_SH001_2025-04.csv").write_text("\ufeff" + header + rows, "utf-8")
    (root / "pos" / "store_SH001_2025-04_reupload.csv").write_text(header + rows, "utf-8")
    (root / "clickstream").mkdir()
    batch = {
        "sentAt": "2025-03-01T04:00:05Z",
        "context": {"library": {"name": "analytics.js", "version": "1"}},
        "batch": [
            {"type": "page", "anonymousId": "a-1", "messageId": "m-1", "name": "Home",
             "timestamp": "2025-03-01T04:00:00Z"},
            {"type": "identify", "anonymousId": "a-1", "userId": "U1", "messageId": "m-2",
             "traits": {"name": "张伟"}, "timestamp": "2025-03-01T04:00:01Z"},
            {"type": "track", "userId": "U1", "messageId": "m-3",
             "timestamp": "2025-03-01T04:00:02Z"},
            {"type": "track", "userId": "U1", "event": "Order Completed", "messageId": "m-1",
             "timestamp": "2025-03-01T04:00:03Z"},
        ],
    }  # fmt: skip
    (root / "clickstream" / "batch-000001.json").write_text(json.dumps(batch), "utf-8")
    (root / MAPPING_FILE).write_text(demo_mapping_text(), encoding="utf-8")


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Workspace, Path, MappingFile]:
    root = tmp_path / "sources"
    _write_sources(root)
    ws, _token = Workspace.create(load_settings(home=tmp_path / "ws"))
    mappings = load_mapping_file(root / MAPPING_FILE)
    return ws, root, mappings


SOURCES = ["crm_members", "ecommerce_orders", "pos_receipts", "clickstream"]


def _count(ws: Workspace, sql: str) -> object:
    return ws.query(sql).to_pylist()[0]["n"]


def test_load_lands_raw_and_stages_canonical_rows(
    loaded: tuple[Workspace, Path, MappingFile],
) -> None:
    ws, root, mappings = loaded
    report = load_sources(ws, mappings, root=root, only=SOURCES)
    by_source = {s.source: s for s in report.sources}
    assert by_source["crm_members"].rows_in == 2
    assert by_source["ecommerce_orders"].rows_rejected == 1
    assert by_source["ecommerce_orders"].rejected_by_rule == {"invalid_json": 1}
    bad_line = ws.query(
        "select rule, payload, position from quarantine where source = 'ecommerce_orders'"
    ).to_pylist()
    assert bad_line == [{"rule": "invalid_json", "payload": "{broken json\n", "position": 2}]
    assert by_source["pos_receipts"].rows_landed == 6  # both files land raw, as delivered
    assert _count(ws, "select count(*) as n from source_records_raw") == 2 + 1 + 6

    customer = ws.query(
        "select name, phone, resident_id, birthday, registered_at from customer_records "
        f"where record_id = '{record_key('crm_members', 'M0000001')}'"
    ).to_pylist()[0]
    assert customer["name"] == "张伟"
    assert customer["resident_id"] == "11010519900307001X"
    assert str(customer["registered_at"]) == "2024-11-02 02:00:00+00:00"  # 10:00 in Shanghai
    bad_birthday = ws.query(
        "select birthday from customer_records "
        "where member_id = 'M0000002' and source = 'crm_members'"
    ).to_pylist()
    assert bad_birthday == [{"birthday": None}]  # malformed value: NULL, the row still loads


def test_orders_and_lines_from_online_and_pos(
    loaded: tuple[Workspace, Path, MappingFile],
) -> None:
    ws, root, mappings = loaded
    load_sources(ws, mappings, root=root, only=SOURCES)
    orders = ws.query(
        "select source_key, channel, total_amount, item_count, customer_ref from orders "
        "order by source_key"
    ).to_pylist()
    assert [(o["source_key"], o["channel"]) for o in orders] == [
        ("O1001", "online"), ("R1", "pos"), ("R2", "pos"),
    ]  # fmt: skip
    totals = {o["source_key"]: float(o["total_amount"]) for o in orders}
    assert totals == {"O1001": 1698.0, "R1": 1098.0, "R2": 399.5}  # re-upload not doubled
    assert _count(ws, "select count(*) as n from order_lines") == 2 + 3
    line_sum = ws.query(
        "select sum(l.line_amount) as s from order_lines l join orders o using (order_id) "
        "where o.source_key = 'O1001'"
    ).to_pylist()[0]["s"]
    assert float(line_sum) == 1698.0


def test_segment_messages_are_validated_and_stored_once(
    loaded: tuple[Workspace, Path, MappingFile],
) -> None:
    ws, root, mappings = loaded
    report = load_sources(ws, mappings, root=root, only=["clickstream"])
    clicks = report.sources[0]
    assert clicks.rows_in == 4
    assert clicks.rejected_by_rule == {"event:required": 1}
    assert clicks.rows_duplicate == 1  # the retried m-1 is stored once
    assert _count(ws, "select count(*) as n from events") == 2
    quarantined = ws.query(
        "select kind, rule, field, reason, payload, source_file, position from quarantine"
    ).to_pylist()
    assert len(quarantined) == 1
    entry = quarantined[0]
    assert (entry["kind"], entry["rule"], entry["field"]) == ("event", "required", "event")
    assert json.loads(entry["payload"])["messageId"] == "m-3"
    assert (entry["source_file"], entry["position"]) == ("clickstream/batch-000001.json", 3)
    context = ws.query("select context from events where message_id = 'm-2'").to_pylist()[0]
    assert json.loads(context["context"])["library"]["name"] == "analytics.js"


def test_loading_twice_stores_nothing_new(loaded: tuple[Workspace, Path, MappingFile]) -> None:
    ws, root, mappings = loaded
    load_sources(ws, mappings, root=root, only=SOURCES)
    counts = {
        t: _count(ws, f"select count(*) as n from {t}")
        for t in ("customer_records", "orders", "order_lines", "events")
    }
    quarantined = _count(ws, "select count(*) as n from quarantine")
    second = load_sources(ws, mappings, root=root, only=SOURCES)
    assert _count(ws, "select count(*) as n from quarantine") == quarantined
    for src in second.sources:
        assert all(t.rows_inserted == 0 for t in src.targets), src
    assert counts == {
        t: _count(ws, f"select count(*) as n from {t}")
        for t in ("customer_records", "orders", "order_lines", "events")
    }


def test_run_log_records_every_step(loaded: tuple[Workspace, Path, MappingFile]) -> None:
    ws, root, mappings = loaded
    report = load_sources(ws, mappings, root=root, only=SOURCES)
    log = RunLog(ws.store)
    run = log.get_run(report.run_id)
    assert run is not None and run.status == "succeeded"
    steps = {(s.step, s.source) for s in log.list_steps(report.run_id)}
    assert ("land", "pos_receipts") in steps
    assert ("stage:orders", "pos_receipts") in steps
    assert ("stage:order_lines", "ecommerce_orders") in steps


def test_a_missing_source_file_fails_the_run_clearly(
    loaded: tuple[Workspace, Path, MappingFile],
) -> None:
    from custodia.core.errors import ValidationError

    ws, root, mappings = loaded
    with pytest.raises(ValidationError, match="no source file matches"):
        load_sources(ws, mappings, root=root, only=["marketing_touchpoints"])
    failed = RunLog(ws.store).list_runs(limit=1)[0]
    assert failed.status == "failed"
    assert "no source file" in (failed.error or "")


def test_segment_files_of_any_size_and_their_problems(
    loaded: tuple[Workspace, Path, MappingFile],
) -> None:
    ws, root, mappings = loaded
    clicks = root / "clickstream"
    big = {
        "sentAt": "2025-03-02T00:00:00Z",
        "batch": [
            {"type": "track", "userId": f"U{i % 7}", "event": "商品浏览",
             "timestamp": f"2025-03-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"}
            for i in range(3_000)
        ],  # more than an HTTP batch may hold, and no messageId: derived from file and place
    }  # fmt: skip
    (clicks / "batch-000002.json").write_text(json.dumps(big, ensure_ascii=False), "utf-8")
    odd = b'{"batch": [{"type": "page", "anonymousId": "a-9", "name": "caf\xe9", "messageId": "m-9"'
    odd += b"}]}"
    (clicks / "batch-000003.json").write_bytes(odd)  # Latin-1 byte: replaced, still loads
    (clicks / "batch-000004.json").write_text('{"batch": {"type": "page"}}', "utf-8")
    (clicks / "batch-000005.json").write_text('{"batch": [', "utf-8")
    report = load_sources(ws, mappings, root=root, only=["clickstream"]).sources[0]
    assert report.rows_in == 4 + 3_000 + 1 + 2
    assert report.rejected_by_rule == {
        "event:required": 1, "batch_must_be_array": 1, "invalid_json": 1,
    }  # fmt: skip
    assert report.rows_rejected == 3 and report.rows_duplicate == 1
    assert _count(ws, "select count(*) as n from events") == 2 + 3_000 + 1
    named = ws.query("select name from events where message_id = 'm-9'").to_pylist()
    assert named == [{"name": "caf\ufffd"}]
    first = ws.query(
        'select event, user_id, "timestamp", received_at from events '
        "where source = 'clickstream' and event = '商品浏览' order by \"timestamp\" limit 1"
    ).to_pylist()[0]
    assert (first["user_id"], str(first["timestamp"])) == ("U0", "2025-03-01 00:00:00+00:00")
    assert str(first["received_at"]) == "2025-03-02 00:00:00+00:00"  # the file's sentAt
    again = load_sources(ws, mappings, root=root, only=["clickstream"]).sources[0]
    assert again.targets[0].rows_inserted == 0  # derived message ids: stored once
    assert _count(ws, "select count(*) as n from events") == 2 + 3_000 + 1

"""``custodia catalog`` and ``/v1/catalog``: every table with owner, classification, size,
freshness, quality and lineage links, over a workspace loaded from tests/data/quality (10 CRM
members and 6 shop orders, see PROVENANCE.md) and scored by its rules.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_quality_run import DATA, ingest  # the same fixture data, loaded the same way

from custodia.api.app import create_app
from custodia.catalog.freshness import lake_newest, measure_tables
from custodia.core.tables import TABLES, table_spec
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import load_settings
from custodia.workspace import Workspace

OVERRIDES = """\
tables:
  customer_records:
    owner: 会员运营组 crm-ops@example.com
    description: 会员、线上账户与门店积分客户的统一记录
    tags: [会员, pii]
    columns:
      phone: 手机号（原样保存）
"""


@pytest.fixture
def scored(cli: Any, workspace_home: Path) -> Path:
    """Customers and orders loaded, the rules installed and run once, catalog.yaml written."""
    ingest(cli, workspace_home, "customers.csv", "crm")
    ingest(cli, workspace_home, "orders.csv", "shop")
    assert cli("--home", workspace_home, "quality", "rules", "--set", DATA / "rules.yaml").code == 0
    assert cli("--home", workspace_home, "quality", "run", "--json").code == 0
    (workspace_home / "catalog.yaml").write_text(OVERRIDES, encoding="utf-8")
    return workspace_home


def catalog_json(cli: Any, home: Path, *table: str) -> dict[str, Any]:
    result = cli("--home", home, "catalog", *table, "--json")
    assert result.code == 0, result
    document: dict[str, Any] = result.json()
    return document


def test_overview_lists_every_table_with_its_facts(cli: Any, scored: Path) -> None:
    catalog = catalog_json(cli, scored)
    tables = {t["name"]: t for t in catalog["tables"]}
    assert list(tables) == [spec.name for spec in TABLES]
    assert catalog["overrides_file"] == "catalog.yaml" and catalog["overrides_error"] is None

    records = tables["customer_records"]
    assert (records["domain"], records["rows"]) == ("customer", 10)
    assert records["owner"] == "会员运营组 crm-ops@example.com"
    assert records["description"] == "会员、线上账户与门店积分客户的统一记录"
    assert (records["tags"], records["described_by"]) == (["会员", "pii"], "catalog.yaml")
    assert records["classification"]["tier"] == "L3"
    assert records["lineage"]["sources"] == ["crm"]
    assert records["lineage"]["path"] == "/v1/lineage/customer_records"
    assert records["lineage"]["last_run"]["status"] == "completed"

    orders = tables["orders"]
    assert (orders["domain"], orders["owner"], orders["rows"]) == (
        "transaction",
        "data-platform",
        6,
    )
    assert orders["version"] >= 1 and orders["lineage"]["sources"] == ["shop"]
    assert tables["events"]["rows"] == 0 and tables["events"]["lineage"]["sources"] == []
    assert tables["consents"]["rows"] == 0  # a store table, empty


def test_freshness_is_the_newest_fact_and_the_newest_load(cli: Any, scored: Path) -> None:
    tables = {t["name"]: t for t in catalog_json(cli, scored)["tables"]}
    records = tables["customer_records"]["freshness"]
    assert records["time_column"] == "updated_at"
    # C10 changed 2026-11-10 10:00 Shanghai time
    assert datetime.fromisoformat(records["newest"]) == datetime(2026, 11, 10, 2, tzinfo=UTC)
    orders = tables["orders"]["freshness"]
    assert datetime.fromisoformat(orders["newest"]) == datetime(2026, 11, 15, 4, tzinfo=UTC)
    assert 0 <= orders["loaded_age_seconds"] < 600  # loaded by this test
    assert orders["age_seconds"] > orders["loaded_age_seconds"]
    assert tables["events"]["freshness"]["newest"] is None


def test_quality_scores_match_the_latest_run(cli: Any, scored: Path) -> None:
    catalog = catalog_json(cli, scored)
    scores = cli("--home", scored, "quality", "scores", "--json").json()["scores"]
    expected = {(s["table_name"], s["dimension"]): s["score"] for s in scores}
    records = next(t for t in catalog["tables"] if t["name"] == "customer_records")
    assert records["quality"]["overall"] == pytest.approx(expected[("customer_records", "overall")])
    assert records["quality"]["dimensions"]["completeness"] == pytest.approx(0.9)
    assert records["quality"]["open_alerts"] == 1  # phone_format breaches its threshold
    assert catalog["quality"]["overall"] == pytest.approx(expected[("*", "overall")])

    detail = catalog_json(cli, scored, "customer_records")
    phone = next(c for c in detail["columns"] if c["name"] == "phone")
    # phone_present 9/10 (completeness) and phone_format 7/9 (validity), equal weights
    assert phone["quality"]["dimensions"] == pytest.approx({"completeness": 0.9, "validity": 7 / 9})
    assert phone["quality"]["overall"] == pytest.approx((0.9 + 7 / 9) / 2)
    assert phone["description"] == "手机号（原样保存）"
    assert next(c for c in detail["columns"] if c["name"] == "city")["quality"] is None


def test_detail_shows_how_each_source_sets_each_column_and_the_runs(cli: Any, scored: Path) -> None:
    detail = catalog_json(cli, scored, "orders")
    columns = {c["name"]: c for c in detail["columns"]}
    assert len(columns) == detail["column_count"]
    total = columns["total_amount"]
    assert [(o["source"], o["expression"]) for o in total["origins"]] == [("shop", "total")]
    assert total["lineage_path"] == "/v1/lineage/orders.total_amount"
    assert total["tier_label"] and total["personal"] is True
    [upstream] = detail["lineage"]["upstream"]
    assert (upstream["source"], upstream["format"], upstream["files"]) == ("shop", "csv", 1)
    assert upstream["last_rows"] == 6
    assert [run["status"] for run in detail["lineage"]["runs"]] == ["completed"]
    assert detail["lineage"]["runs"][0]["rows_written"] == 6


def test_the_tables_render_for_people_with_chinese_text(cli: Any, scored: Path) -> None:
    overview = cli("--home", scored, "catalog")
    assert overview.code == 0, overview
    assert "customer_records" in overview.stdout and "会员运营组" in overview.stdout
    assert "Workspace quality" in overview.stdout
    detail = cli("--home", scored, "catalog", "customer_records")
    assert detail.code == 0, detail
    for text in ("会员、线上账户与门店积分客户的统一记录", "手机号（原样保存）", "高度敏感",
                 "crm: phone", "lineage show customer_records", "completed"):  # fmt: skip
        assert text in detail.stdout, text
    # metadata only: no value of the data reaches the catalog
    assert "13812340001" not in detail.stdout and "张伟" not in detail.stdout


def test_a_broken_catalog_file_is_reported_and_the_model_is_shown(cli: Any, scored: Path) -> None:
    (scored / "catalog.yaml").write_text(OVERRIDES.replace("phone:", "mobile:"), encoding="utf-8")
    catalog = catalog_json(cli, scored)
    assert (
        "catalog.yaml line 2: 'mobile' is not a column of customer_records"
        in (catalog["overrides_error"])
    )
    records = next(t for t in catalog["tables"] if t["name"] == "customer_records")
    assert records["owner"] == "data-platform" and records["described_by"] == "model"
    shown = cli("--home", scored, "catalog")
    assert shown.code == 0 and "catalog.yaml not applied" in shown.stderr


def test_an_unknown_table_fails_naming_the_known_ones(cli: Any, scored: Path) -> None:
    result = cli("--home", scored, "catalog", "orderz")
    assert result.code == 1
    assert "unknown table 'orderz'" in result.stderr and "customer_records" in result.stderr


def test_an_empty_workspace_has_a_catalog_too(cli: Any, workspace_home: Path) -> None:
    catalog = catalog_json(cli, workspace_home)
    assert catalog["quality"] is None and catalog["overrides_file"] is None
    orders = next(t for t in catalog["tables"] if t["name"] == "orders")
    assert (orders["rows"], orders["quality"], orders["lineage"]["last_run"]) == (0, None, None)
    assert cli("--home", workspace_home, "catalog").code == 0
    assert cli("--home", workspace_home, "tables", "--json").code == 0


def test_api_serves_the_catalog_to_readers_only(scored: Path) -> None:
    settings = load_settings(home=scored)
    with Workspace.open(settings) as ws:
        tokens = {
            role: issue_token(ws.store, role.value, role, created_by="test").token
            for role in (Role.ANALYST, Role.AUDITOR, Role.SERVICE_AGENT)
        }
    with TestClient(create_app(settings)) as api:

        def get(path: str, role: Role) -> Any:
            return api.get(path, headers={"Authorization": f"Bearer {tokens[role]}"})

        overview = get("/v1/catalog", Role.ANALYST)
        assert overview.status_code == 200, overview.text
        names = [t["name"] for t in overview.json()["tables"]]
        assert names == [spec.name for spec in TABLES]
        detail = get("/v1/catalog/customer_records", Role.AUDITOR)
        assert detail.status_code == 200
        body = detail.json()
        assert body["owner"] == "会员运营组 crm-ops@example.com"
        assert any(c["origins"] for c in body["columns"])
        assert "13812340001" not in json.dumps(body, ensure_ascii=False)
        assert get("/v1/catalog/orderz", Role.ANALYST).status_code == 404
        assert get("/v1/catalog", Role.SERVICE_AGENT).status_code == 403
        assert api.get("/v1/catalog").status_code == 401


def test_the_delta_log_and_a_scan_of_the_data_agree(scored: Path) -> None:
    """Freshness comes from the log's statistics; reading the data (the fallback for tables whose
    statistics cannot answer) gives the same times, to the millisecond the log keeps."""
    with Workspace.open(load_settings(home=scored)) as ws:
        specs = [table_spec("orders"), table_spec("customer_records")]
        scanned = lake_newest(ws, specs)
        measured = measure_tables(ws, specs)
    for spec in specs:
        newest, loaded = scanned[spec.name]
        fresh = measured.freshness[spec.name]
        assert fresh.newest == newest
        assert fresh.newest_loaded_at is not None and loaded is not None
        assert timedelta(0) <= loaded - fresh.newest_loaded_at < timedelta(milliseconds=1)
    assert measured.sizes["orders"][0] == 6


def test_a_narrow_terminal_leaves_out_domain_owner_and_sources(
    cli: Any, scored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    narrow = cli("--home", scored, "catalog")
    assert narrow.code == 0, narrow
    assert "customer_records" in narrow.stdout and "会员运营组" not in narrow.stdout
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines())

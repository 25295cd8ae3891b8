"""``custodia quality explain``: from a metric that dropped to the store whose POS uploads
stopped, its last file and the load run, checked against the demo generator's ground truth; the
same over HTTP; and the ``rerun_load`` alert action.

The workspace holds the demo brand's CRM members, shop orders and POS receipts (2,000 customers,
seed 7: the generator stops one store's uploads on a day and records which in
``ground_truth.json``), loaded in one run (a few seconds to build, once per module).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.collect.mapping_spec import load_mapping_file
from custodia.core.errors import NotFoundError
from custodia.demo.population import STORES
from custodia.pipeline.demo_run import MAPPING_FILE, generate_demo_sources
from custodia.pipeline.load_rerun import RERUN_KIND, rerun_last_load
from custodia.pipeline.quality_rules_file import install_rules
from custodia.pipeline.quality_run import run_quality
from custodia.pipeline.source_load import load_sources
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.quality.periods import period_start, shift
from custodia.settings import load_settings
from custodia.storage.store_quality import QualityLedger
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace


@pytest.fixture(scope="module")
def pos_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("explain")
    sources = root / "sources"
    generate_demo_sources(sources, customers=2000, seed=7)
    ws, _token = Workspace.create(load_settings(home=root / "ws"))
    with ws:
        mappings = load_mapping_file(sources / MAPPING_FILE)
        only = ["crm_members", "ecommerce_orders", "pos_receipts"]
        load_sources(ws, mappings, root=sources, only=only)
    return root


@pytest.fixture(scope="module")
def outage(pos_home: Path) -> dict[str, Any]:
    truth = json.loads((pos_home / "sources" / "ground_truth.json").read_text("utf-8"))
    found: dict[str, Any] = truth["outage"]
    assert found is not None, "the demo generator injects an outage by default"
    return found


def _home_copy(pos_home: Path, tmp_path: Path) -> Path:
    home = tmp_path / "ws"
    shutil.copytree(pos_home / "ws", home)
    return home


def test_explain_names_the_store_the_day_and_the_missing_files(
    cli: Any, pos_home: Path, outage: dict[str, Any], tmp_path: Path
) -> None:
    home = _home_copy(pos_home, tmp_path)
    result = cli("--home", home, "quality", "explain", "pos_orders_per_store", "--json")
    assert result.code == 0, result
    got = result.json()
    stop = date.fromisoformat(outage["uploads_stop_on"])
    change = got["change"]
    assert change["segment"] == {"store_id": outage["store_id"]}
    assert change["significant"] and change["observed"] == 0 and change["change"] == -1
    # the change starts with the first whole month without rows
    assert change["since"] == shift(period_start(stop, "month"), "month", 1).isoformat()
    trace = got["traces"][0]
    assert (trace["source"], trace["filters"]) == ("pos_receipts", {"store_id": outage["store_id"]})
    last_row = date.fromisoformat(trace["last_row_at"][:10])
    assert last_row <= stop and (stop - last_row).days <= 10  # the last receipt before the stop
    month = stop.strftime("%Y-%m")
    assert trace["files"][0]["file"] == f"pos/store_{outage['store_id']}_{month}.csv"
    assert trace["runs"][0]["kind"] == "load"
    assert trace["last_load"]["run_id"] == trace["runs"][0]["run_id"]
    after = [shift(period_start(stop, "month"), "month", k).strftime("%Y-%m") for k in (1, 2)]
    for later in after:
        assert f"pos/store_{outage['store_id']}_{later}.csv" in trace["missing_files"]
    assert [s["level"] for s in got["chain"]][:3] == ["metric", "segment", "table"]
    assert (home / "quality" / "metrics.yaml").is_file()  # the CLI installs the shipped metrics


def test_a_regions_repurchase_rate_drops_because_a_store_stopped_uploading(
    cli: Any, pos_home: Path, outage: dict[str, Any], tmp_path: Path
) -> None:
    home = _home_copy(pos_home, tmp_path)
    result = cli("--home", home, "quality", "explain", "repurchase_rate_by_region", "--json")
    assert result.code == 0, result
    got = result.json()
    city = next(s.city for s in STORES if s.store_id == outage["store_id"])
    assert got["change"]["segment"] == {"region": city} and got["change"]["significant"]
    assert got["change"]["observed"] < got["change"]["expected"]
    top = got["contributions"][0]
    assert top["group"] == {"source": "pos_receipts", "store_id": outage["store_id"]}
    assert top["stopped"] and top["observed"] == 0
    assert got["traces"][0]["filters"] == {"store_id": outage["store_id"]}


def test_explain_a_volume_rule_in_words(
    cli: Any, pos_home: Path, outage: dict[str, Any], tmp_path: Path
) -> None:
    home = _home_copy(pos_home, tmp_path)
    result = cli("--home", home, "quality", "explain", "pos_store_monthly_volume")
    assert result.code == 0, result
    store = outage["store_id"]
    assert f"store_id={store}: a significant -100% change" in result.stdout
    assert f"store_id {store}'s last row in orders is" in result.stdout
    assert f"no file pos/store_{store}_" in result.stdout
    listed = cli("--home", home, "quality", "explain", "--list", "--json").json()
    assert {"pos_orders_per_store", "repurchase_rate_by_region", "pos_store_monthly_volume"} <= set(
        listed
    )
    unknown = cli("--home", home, "quality", "explain", "no_such_metric")
    assert unknown.code != 0 and "known:" in unknown.stderr
    not_volume = cli("--home", home, "quality", "explain", "order_status_values")
    assert not_volume.code != 0 and "volume rules and metrics" in not_volume.stderr


def test_explain_over_http(pos_home: Path, outage: dict[str, Any], tmp_path: Path) -> None:
    settings = load_settings(home=_home_copy(pos_home, tmp_path))
    with Workspace.open(settings) as ws:
        analyst = issue_token(ws.store, "analyst", Role.ANALYST, created_by="test").token
        agent = issue_token(ws.store, "agent", Role.SERVICE_AGENT, created_by="test").token
    with TestClient(create_app(settings)) as api:
        auth = {"Authorization": f"Bearer {analyst}"}
        got = api.get("/v1/quality/explain/pos_orders_per_store", headers=auth)
        assert got.status_code == 200, got.text
        assert got.json()["change"]["segment"] == {"store_id": outage["store_id"]}
        names = api.get("/v1/quality/explain", headers=auth).json()
        assert "repurchase_rate_by_region" in names
        missing = api.get("/v1/quality/explain/nope", headers=auth)
        assert missing.status_code == 404
        refused = api.get(
            "/v1/quality/explain/pos_orders_per_store",
            headers={"Authorization": f"Bearer {agent}"},
        )
        assert refused.status_code == 403
    assert not (settings.home / "quality" / "metrics.yaml").exists()  # GET writes nothing


RULES = """
version: 1
rules:
  - name: pos_store_monthly_volume
    table: orders
    check: volume
    where: "channel = 'pos'"
    by: [store_id]
    period: month
    lookback: 6
    window: 6
    min_ratio: 0.3
    threshold: {max_failed: 0}
    actions: [{type: rerun_load, source: pos_receipts}]
"""


def test_an_alert_reruns_the_last_load_of_its_source(pos_home: Path, tmp_path: Path) -> None:
    with Workspace.open(load_settings(home=_home_copy(pos_home, tmp_path))) as ws:
        orders = ws.query("SELECT count(*) AS n FROM orders").to_pylist()[0]["n"]
        install_rules(ws, RULES)
        report = run_quality(ws)
        assert [a.rule for a in report.alerts_opened] == ["pos_store_monthly_volume"]
        alert = QualityLedger(ws.store).alert(report.alerts_opened[0].alert_id) or {}
        rerun = [d for d in alert["deliveries"] if d["kind"] == "rerun_load"]
        assert len(rerun) == 1 and rerun[0]["status"] == "done", alert["deliveries"]
        assert rerun[0]["rows_in"] > 0 and rerun[0]["rows_stored"] == 0  # merged by key
        run = RunLog(ws.store).get_run(rerun[0]["load_run_id"])
        assert run is not None and run.kind == RERUN_KIND and run.status.value == "succeeded"
        loads = RunLog(ws.store).list_runs(kind="load")
        assert rerun[0]["rerun_of"] == loads[0].run_id
        assert ws.query("SELECT count(*) AS n FROM orders").to_pylist()[0]["n"] == orders
        with pytest.raises(NotFoundError):
            rerun_last_load(ws, "no_such_source")

"""``custodia analyse retention|repurchase`` and their HTTP routes on the demo brand.

The 300-customer demo checks the surfaces; the planted facts (docs/demo-data.md: the diamond
tier's repurchase gap lengthens in the last six months while its limited-edition share falls)
need more diamond buyers, so that test builds a 2,000-customer demo (slow).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from analysis_support import build_demo, needs_spark, ok, role_api, sql
from fastapi.testclient import TestClient

from custodia.core.analysis_tables import ANALYSIS_REPURCHASE
from custodia.privacy.roles import Role
from custodia.settings import load_settings
from custodia.workspace import Workspace

DIAMOND = "钻石会员"  # src/custodia/demo/population.py TIERS_ZH


@pytest.fixture
def home(demo_copy: Path) -> Path:
    return demo_copy


def test_cli_retention_first_and_recurring(cli: Any, home: Path) -> None:
    run = ok(cli("--home", home, "analyse", "retention", "--period", "month", "--periods", "6",
                 "--json"))  # fmt: skip
    s = run["summary"]
    assert run["kind"] == "retention" and s["activity"] == "orders" and s["cohorts"] >= 20
    assert s["average"][0]["retention_rate"] == 1.0 and len(s["average"]) == 7
    assert 0 < s["average"][1]["retention_rate"] < 0.5
    rows = ok(cli("--home", home, "sql", "select cohort_start, sum(cohort_size) filter "
                  "(where period_offset = 0) as n, count(*) as offsets from analysis_retention "
                  "group by 1 order by 1", "--format", "json"))  # fmt: skip
    assert sum(int(r["n"]) for r in rows) == s["profiles"]
    for row in rows:  # offsets reach as far as the data (October 2026), at most 6
        months = (2026 - int(row["cohort_start"][:4])) * 12 + 10 - int(row["cohort_start"][5:7])
        assert row["offsets"] == min(6, months) + 1
    cumulative = ok(cli("--home", home, "analyse", "retention", "--cohort", "recurring",
                        "--cumulative", "--name", "weekly", "--json"))["summary"]  # fmt: skip
    rates = [a["retention_rate"] for a in cumulative["average"][1:]]
    assert cumulative["cohort"] == "recurring" and cumulative["profiles"] > s["profiles"]
    assert rates[-1] > rates[0] > 0
    table = cli("--home", home, "analyse", "retention", "--period", "month", "--periods", "2")
    assert table.code == 0 and "retention of first cohorts by month" in table.stdout


def test_cli_retention_by_event_and_bad_input(cli: Any, home: Path) -> None:
    viewed = ok(cli("--home", home, "analyse", "retention", "--event", "Product Viewed",
                    "--period", "week", "--json"))["summary"]  # fmt: skip
    assert viewed["activity"] == "Product Viewed" and viewed["cohorts"] > 0
    unknown = ok(cli("--home", home, "analyse", "retention", "--event", "不存在的事件", "--json"))
    assert unknown["summary"]["cohorts"] == 0 and unknown["rows"]["analysis_retention"] == 0
    for args, field in (
        (("--period", "year"), "period"), (("--periods", "0"), "periods"),
        (("--since", "2026-03-01", "--until", "2026-01-01"), "until"),
        (("--event", "x", "--orders"), "event"), (("--name", "Bad Name"), "name"),
    ):  # fmt: skip
        result = cli("--home", home, "analyse", "retention", *args)
        assert result.code != 0 and field in result.stderr and "Traceback" not in result.stderr


def test_cli_repurchase_by_tier(cli: Any, home: Path) -> None:
    run = ok(cli("--home", home, "analyse", "repurchase", "--by", "tier", "--json"))
    s = run["summary"]
    assert run["params"]["by"] == "member_level" and s["windows"]["as_of"] == "2026-10-31"
    assert s["windows"]["recent_start"] == "2026-05-01"
    assert s["windows"]["baseline_start"] == "2025-05-01"
    assert {"普通会员", "银卡会员", "金卡会员"} <= set(s["gaps"])
    assert run["rows"]["analysis_repurchase"] > 0 and run["rows"]["analysis_repurchase_interests"]
    assert s["period_of"] == "spell_start" and s["horizon_days"] == 150
    for entry in s["gaps"].values():  # the change is censoring aware wherever it can be
        if "gap_change" in entry:
            assert entry["gap_change_basis"] in {"km_median", "km_restricted_mean"}
    # the stored rows add up to the summary: spells by the month they start, censored at as_of
    recent = sql(cli, home, "select group_value, sum(spells) as spells, sum(repurchases) as r, "
                 "sum(censored_spells) as c, count(km_median_gap_days) as medians "
                 "from analysis_repurchase where period_start >= DATE '2026-05-01' "
                 "group by 1")  # fmt: skip
    for row in recent:
        window = s["gaps"][row["group_value"]]["recent"]
        spells, repurchases, censored = int(row["spells"]), int(row["r"]), int(row["c"])
        assert (spells, repurchases, censored) == (
            window["spells"], window["repurchases"], window["censored_spells"])  # fmt: skip
        assert spells == repurchases + censored
    last = sql(
        cli,
        home,
        "select count(*) as n, count(km_median_gap_days) as medians, "
        "count(km_restricted_mean_gap_days) as means from analysis_repurchase "
        "where analysis_name = 'repurchase' and period_start = DATE '2026-10-01'",
    )
    assert last[0]["n"] > 0 and last[0]["means"] == 0  # October's spells: followed < 150 days
    shares = ok(
        cli(
            "--home",
            home,
            "sql",
            "select group_value, period_start, "
            "sum(line_share) as s from analysis_repurchase_interests "
            "where interest_kind = 'category' group by 1, 2",
            "--format",
            "json",
        )
    )
    assert all(abs(r["s"] - 1.0) < 1e-9 for r in shares)  # categories cover every line
    quarter = ok(cli("--home", home, "analyse", "repurchase", "--bucket", "quarter", "--by",
                     "all", "--name", "q", "--json"))  # fmt: skip
    assert set(quarter["summary"]["gaps"]) == {"all"}
    refused = cli("--home", home, "analyse", "repurchase", "--by", "rfm_tier", "--rfm-name", "nope")
    assert refused.code != 0 and "rfm_name" in refused.stderr and "Traceback" not in refused.stderr


def test_cli_repurchase_by_rfm_tier(cli: Any, home: Path) -> None:
    if importlib.util.find_spec("custodia.cli.analyse_rfm_cmd") is None:
        pytest.skip("custodia analyse rfm is not in this checkout")
    ok(cli("--home", home, "analyse", "rfm", "--json"))
    by_rfm = ok(cli("--home", home, "analyse", "repurchase", "--by", "rfm_tier", "--json"))
    assert "高价值复购客户" in by_rfm["summary"]["gaps"]


def test_repurchase_table_from_before_the_kaplan_meier_columns_gains_them(
    cli: Any, home: Path
) -> None:
    new = ("spells", "censored_spells", "km_median_gap_days", "km_restricted_mean_gap_days")
    schema = ANALYSIS_REPURCHASE.arrow_schema()
    old = pa.schema([field for field in schema if field.name not in new])
    with Workspace.open(load_settings(home=home)) as ws:
        shutil.rmtree(ws.lake.path("curated", "analysis_repurchase"))  # as an older version made it
        ws.lake.ensure_table("curated", "analysis_repurchase", old)
        row = {"analysis_name": "旧的", "analysis_id": "run_old", "group_value": "钻石会员",
               "period_start": date(2025, 5, 1), "repurchases": 3, "customers": 2,
               "mean_gap_days": 99.5, "median_gap_days": 90.0, "p75_gap_days": 120.0,
               "computed_at": datetime(2026, 1, 1, tzinfo=UTC)}  # fmt: skip
        ws.lake.append("curated", "analysis_repurchase", pa.Table.from_pylist([row], old))
    ok(cli("--home", home, "analyse", "repurchase", "--json"))
    rows = sql(cli, home, "select analysis_name, count(*) as n, count(spells) as spells, "
               "count(km_median_gap_days) as medians, sum(repurchases) as r "
               "from analysis_repurchase group by 1 order by 1")  # fmt: skip
    old_row, fresh = rows[1], rows[0]
    assert (old_row["analysis_name"], old_row["n"], old_row["spells"]) == ("旧的", 1, 0)
    assert fresh["analysis_name"] == "repurchase" and fresh["spells"] == fresh["n"] > 0
    assert 0 < fresh["medians"] < fresh["n"] and int(fresh["r"]) > 0


@pytest.fixture
def api(home: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with role_api(home, Role.ANALYST, Role.SERVICE_AGENT) as client_headers:
        yield client_headers


def test_api_runs_both_and_reads_their_rows(api: tuple[TestClient, Any]) -> None:
    client, headers = api
    body = {"period": "month", "cumulative": True, "periods": 3, "name": "monthly"}
    answer = client.post("/v1/analyses/retention", json=body, headers=headers["analyst"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["cumulative"] is True
    rows = client.get("/v1/analyses/results/analysis_retention?name=monthly",
                      headers=headers["analyst"]).json()["items"]  # fmt: skip
    assert rows and rows[0]["period_offset"] == 0 and rows[0]["retention_rate"] == 1.0
    answer = client.post("/v1/analyses/repurchase", json={"by": "member_level"},
                         headers=headers["analyst"])  # fmt: skip
    assert answer.status_code == 200 and answer.json()["summary"]["gaps"]
    denied = client.post("/v1/analyses/repurchase", json={}, headers=headers["service_agent"])
    assert denied.status_code == 403
    for path, bad, field in (
        ("retention", {"period": "fortnight"}, "period"),
        ("retention", {"since": "2026-03-01", "until": "2026-01-01"}, "until"),
        ("repurchase", {"limited_prefixes": ["100%"]}, "limited_prefixes"),
        ("repurchase", {"by": "region"}, "by"),
        ("repurchase", {"horizon_days": 0}, "horizon_days"),
    ):
        answer = client.post(f"/v1/analyses/{path}", json=bad, headers=headers["analyst"])
        assert answer.status_code == 422 and field in answer.text


@pytest.mark.slow
def test_planted_facts_diamond_gap_stretches_and_limited_editions_fall(
    cli: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = build_demo(tmp_path_factory.mktemp("retention2000") / "ws", customers=2000)
    s = ok(cli("--home", home, "analyse", "repurchase", "--json"))["summary"]
    diamond = s["gaps"][DIAMOND]
    base, recent = diamond["baseline"], diamond["recent"]
    # planted: gamma gaps of mean 90 -> 135 days (operational time, latent tier), i.e. calendar
    # medians of about 74 -> 111 days for spells starting in these windows. Seen through
    # member_level (a mix of latent tiers) with 75 and 61 spells: 80 -> 107 (docs)
    assert diamond["gap_change_basis"] == "km_median" and diamond["gap_change"] >= 1.25
    assert 70 <= base["km_median_gap_days"] <= 95 and 95 <= recent["km_median_gap_days"] <= 125
    assert recent["censored_spells"] > recent["repurchases"] / 2
    assert recent["mean_gap_days"] < 0.75 * recent["km_median_gap_days"]  # long gaps cut off
    assert s["gaps"]["金卡会员"]["gap_change"] < diamond["gap_change"]
    for tier in ("普通会员", "银卡会员"):  # planted unchanged: the restricted means agree
        assert s["gaps"][tier]["gap_change_basis"] == "km_restricted_mean"
        assert 0.9 <= s["gaps"][tier]["gap_change"] <= 1.1
    drop = s["interest_drops"]["by_group"][DIAMOND]
    assert (drop["interest_kind"], drop["interest"]) == ("limited_edition", "limited")
    assert drop["baseline_share"] > 0.15 and drop["recent_share"] < 0.12
    assert s["interest_drops"]["largest"]["group_value"] == DIAMOND
    # RFM tiers scored before the change (as of the baseline's end) hold more spells
    ok(
        cli(
            "--home",
            home,
            "analyse",
            "rfm",
            "--as-of",
            "2025-10-31",
            "--name",
            "rfm_2025",
            "--json",
        )
    )
    by_rfm = ok(cli("--home", home, "analyse", "repurchase", "--by", "rfm_tier", "--rfm-name",
                    "rfm_2025", "--name", "by_rfm", "--json"))["summary"]  # fmt: skip
    high = by_rfm["gaps"]["高价值复购客户"]
    assert high["gap_change_basis"] == "km_median" and high["gap_change"] >= 1.25
    assert high["baseline"]["spells"] > 4 * base["spells"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_stores_the_same_rows_as_duckdb(cli: Any, home: Path) -> None:
    needs_spark()
    tables = {"retention": "analysis_retention", "repurchase": "analysis_repurchase_interests"}
    for kind in tables:
        for engine in ("duckdb", "spark"):
            ok(cli("--home", home, "analyse", kind, "--engine", engine,
                   "--name", f"{kind}_{engine}", "--json"))  # fmt: skip
    for kind, table in (*tables.items(), ("repurchase", "analysis_repurchase")):
        rows = {
            engine: ok(cli("--home", home, "sql", f"select * exclude (analysis_name, "
                           f"analysis_id, computed_at) from {table} where analysis_name = "
                           f"'{kind}_{engine}' order by all", "--format", "json"))
            for engine in ("duckdb", "spark")
        }  # fmt: skip
        assert rows["duckdb"] and rows["spark"] == rows["duckdb"]

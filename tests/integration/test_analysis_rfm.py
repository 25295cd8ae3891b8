"""``custodia analyse rfm`` and ``POST /v1/analyses/rfm`` on the demo brand (300 customers).

The demo workspace is built once per module; each test names its own analysis or works on a
copy. Spark: the same run on Spark local mode stores the same rows as on DuckDB.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from analysis_support import needs_spark, ok, role_api, sql
from fastapi.testclient import TestClient

from custodia.privacy.roles import Role

AS_OF = "2026-10-31"  # the demo calendar's last day


@pytest.fixture
def home(demo_copy: Path) -> Path:
    """A private copy of the demo workspace, free to change."""
    return demo_copy


def test_cli_scores_every_buyer_and_names_each_by_tier(cli: Any, home: Path) -> None:
    run = ok(cli("--home", home, "analyse", "rfm", "--as-of", AS_OF, "--json"))
    summary = run["summary"]
    assert run["kind"] == "rfm" and run["name"] == "rfm" and run["params"]["as_of"] == AS_OF
    assert (
        summary["window"] == ["2025-11-01", AS_OF] and summary["tiers_origin"] == "rfm_tiers.yaml"
    )
    assert summary["profiles"] > 100 and run["rows"]["analysis_rfm"] == summary["profiles"]
    assert sum(t["profiles"] for t in summary["tiers"]) == summary["profiles"]
    assert sum(t["share"] for t in summary["tiers"]) == pytest.approx(1.0, abs=1e-5)
    assert summary["tiers"][0]["tier"] == "高价值复购客户"
    buyers = sql(
        cli, home,
        "select count(distinct k.profile_id) as n from orders o join profile_keys k "
        "on k.ref_type = o.customer_ref_type and k.ref_value = o.customer_ref "
        f"where cast(o.ordered_at as date) between date '2025-11-01' and date '{AS_OF}' "
        "and o.status not in ('cancelled', 'refunded')",
    )  # fmt: skip
    assert buyers[0]["n"] == summary["profiles"]
    ties = sql(
        cli, home,
        "select max(n) as worst from (select count(distinct r_score) as n from analysis_rfm "
        "group by recency_days union all select count(distinct m_score) from analysis_rfm "
        "group by monetary union all select count(distinct f_score) from analysis_rfm "
        "group by frequency)",
    )  # fmt: skip
    assert ties[0]["worst"] == 1  # equal values, equal scores
    per_tier = sql(
        cli, home,
        "select t.tier, t.profiles, t.monetary, count(r.profile_id) as n, sum(r.monetary) as m "
        "from analysis_rfm_tiers t left join analysis_rfm r using (tier) group by all",
    )  # fmt: skip
    assert all(row["profiles"] == row["n"] for row in per_tier)
    assert ok(cli("--home", home, "runs", "--json"))  # the run is recorded
    table = cli("--home", home, "analyse", "rfm", "--as-of", AS_OF, "--window-days", "90")
    assert (
        table.code == 0
        and "高价值复购客户" in table.stdout
        and "2026-08-03 .. 2026-10-31" in table.stdout
    )


def test_workspace_tier_file_and_its_mistakes(cli: Any, home: Path, tmp_path: Path) -> None:
    ok(cli("--home", home, "analyse", "rfm", "--as-of", AS_OF, "--json"))
    tiers_file = home / "analytics" / "rfm_tiers.yaml"
    assert tiers_file.exists()  # written on the first run, for the team to edit
    tiers_file.write_text(
        "tiers:\n  - name: 重要价值客户\n    label: key\n    m: 4-5\n"
        "  - name: 普通客户\n    label: regular\n",
        encoding="utf-8",
    )
    run = ok(cli("--home", home, "analyse", "rfm", "--as-of", AS_OF, "--json"))
    assert [t["tier"] for t in run["summary"]["tiers"]] == ["重要价值客户", "普通客户"]
    assert run["summary"]["tiers"][0]["share"] == pytest.approx(0.4, abs=0.02)  # m 4-5: 2/5
    tiers_file.write_text("tiers:\n  - name: 重要价值客户\n    m: 4-6\n", encoding="utf-8")
    kept = ok(cli("--home", home, "analyse", "rfm", "--as-of", AS_OF, "--json"))["summary"]
    assert kept["tiers_origin"] == "rfm_tiers.active.yaml"  # the last valid copy stays in force
    assert "rfm_tiers.yaml line 2, tier 重要价值客户: m:" in kept["tiers_error"]
    assert [t["tier"] for t in kept["tiers"]] == ["重要价值客户", "普通客户"]
    bad = tmp_path / "mine.yaml"
    bad.write_text("tiers:\n  - name: a\n  - name: b\n    r: high\n", encoding="utf-8")
    refused = cli("--home", home, "analyse", "rfm", "--tiers", bad)
    assert refused.code != 0 and "mine.yaml line 3, tier b: r:" in refused.stderr
    for args, field in (
        (("--window-days", "0"), "window_days"),
        (("--as-of", "2026-02-30"), "as_of"),
        (("--name", "Bad Name"), "name"),
        (("--engine", "flink"), "engine"),
    ):
        result = cli("--home", home, "analyse", "rfm", *args)
        assert result.code != 0 and field in result.stderr and "Traceback" not in result.stderr


def test_an_empty_window_is_an_empty_result(cli: Any, home: Path) -> None:
    run = ok(cli("--home", home, "analyse", "rfm", "--as-of", "2020-01-01", "--json"))
    assert run["summary"]["profiles"] == 0 and run["rows"]["analysis_rfm"] == 0
    assert {t["profiles"] for t in run["summary"]["tiers"]} == {0}


@pytest.fixture
def api(home: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with role_api(home, Role.ANALYST, Role.MARKETER, Role.SERVICE_AGENT) as client_headers:
        yield client_headers


def test_api_runs_rfm_with_tiers_in_the_body(api: tuple[TestClient, Any]) -> None:
    client, headers = api
    body = {
        "as_of": AS_OF,
        "window_days": 180,
        "name": "rfm_half_year",
        "tiers": [{"name": "最近购买", "label": "recent", "r": "4-5"}, {"name": "其他"}],
    }
    answer = client.post("/v1/analyses/rfm", json=body, headers=headers["marketer"])
    assert answer.status_code == 200, answer.text
    run = answer.json()
    assert run["summary"]["tiers_origin"] == "parameters"
    assert [t["tier"] for t in run["summary"]["tiers"]] == ["最近购买", "其他"]
    rows = client.get(
        "/v1/analyses/results/analysis_rfm_tiers?name=rfm_half_year", headers=headers["analyst"]
    ).json()["items"]
    assert {r["tier"]: r["profiles"] for r in rows} == {
        t["tier"]: t["profiles"] for t in run["summary"]["tiers"]
    }
    tiers = client.get("/v1/analyses/rfm/tiers", headers=headers["analyst"]).json()
    assert tiers["origin"] == "shipped" and tiers["tiers"][0]["name"] == "高价值复购客户"
    denied = client.post("/v1/analyses/rfm", json={}, headers=headers["service_agent"])
    assert denied.status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"window_days": -3}, 422, "window_days"),
        ({"tiers": [{"name": "a", "r": "5"}]}, 422, "tiers"),
        ({"exclude_statuses": ["x'; drop"]}, 422, "exclude_statuses"),
        ({"name": "Not A Name"}, 400, "name"),
    ],
)
def test_api_bad_input_names_the_field(
    api: tuple[TestClient, Any], body: dict[str, Any], status: int, field: str
) -> None:
    client, headers = api
    answer = client.post("/v1/analyses/rfm", json=body, headers=headers["analyst"])
    assert answer.status_code == status and field in answer.text
    assert "drop" not in answer.text  # the value is not echoed


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_stores_the_same_rows_as_duckdb(cli: Any, home: Path) -> None:
    needs_spark()
    for engine in ("duckdb", "spark"):
        ok(cli("--home", home, "analyse", "rfm", "--as-of", AS_OF, "--engine", engine,
               "--name", f"rfm_{engine}", "--json"))  # fmt: skip
    columns = "profile_id, recency_days, frequency, monetary, r_score, f_score, m_score, tier"
    query = f"select {columns} from analysis_rfm where analysis_name = 'rfm_%s' order by 1"
    rows = {engine: sql(cli, home, query % engine) for engine in ("duckdb", "spark")}
    assert rows["duckdb"] and rows["spark"] == rows["duckdb"]


def test_clusters_by_silhouette_with_labels_kept_between_runs(cli: Any, home: Path) -> None:
    run = ok(cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--json"))
    summary = run["summary"]
    assert run["kind"] == "clusters" and summary["chosen_by"] == "silhouette"
    assert 2 <= summary["k"] <= 8 and set(summary["silhouettes"]) == {str(k) for k in range(2, 9)}
    assert summary["silhouette"] == max(summary["silhouettes"].values())
    assert sum(c["profiles"] for c in summary["clusters"]) == summary["profiles"] > 100
    assert [c["cluster"] for c in summary["clusters"]] == list(range(1, summary["k"] + 1))
    assert run["rows"] == {
        "analysis_clusters": summary["profiles"],
        "analysis_cluster_profiles": summary["k"],
    }
    spenders = max(summary["clusters"], key=lambda c: c["monetary"])
    assert spenders["typical_tier"] in ("高价值复购客户", "流失风险", "沉睡潜力客户")
    first = ok(cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--k", "4",
                   "--name", "segments", "--json"))  # fmt: skip
    query = (
        "select profile_id, cluster from analysis_clusters "
        "where analysis_name = 'segments' order by 1"
    )
    before = sql(cli, home, query)
    again = ok(cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--k", "4",
                   "--window-days", "364", "--name", "segments", "--json"))  # fmt: skip
    assert again["summary"]["labels_from"] == first["analysis_id"]
    after = {r["profile_id"]: r["cluster"] for r in sql(cli, home, query)}
    pairs = [(r["cluster"], after[r["profile_id"]]) for r in before if r["profile_id"] in after]
    same = sum(old == new for old, new in pairs)
    # one day less of orders: K-means moves some people, but no renumbering fits better
    best = max(
        sum(old == order[new - 1] for old, new in pairs)
        for order in itertools.permutations(range(1, 5))
    )
    assert same == best >= 0.75 * len(pairs)
    table = cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--k", "3")
    assert table.code == 0 and "typical tier" in table.stdout


def test_clusters_refuse_what_cannot_be_clustered(cli: Any, home: Path) -> None:
    few = cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--window-days", "3",
              "--k", "40")  # fmt: skip
    assert few.code != 0 and "k: 40 is larger than the number of profiles measured" in few.stderr
    for args, text in (
        (("--k-min", "5", "--k-max", "3"), "k_max"),
        (("--k", "1"), "k:"),
        (("--features", "rfm,orders_90d"), "traits need a traits run first"),
        (("--features", "rfm,Bad-Trait"), "features"),
    ):
        result = cli("--home", home, "analyse", "clusters", *args)
        assert result.code != 0 and text in result.stderr and "Traceback" not in result.stderr
    empty = ok(cli("--home", home, "analyse", "clusters", "--as-of", "2020-01-01", "--json"))
    assert empty["summary"]["profiles"] == 0 and empty["rows"]["analysis_clusters"] == 0


def test_api_clusters(api: tuple[TestClient, Any]) -> None:
    client, headers = api
    body = {"as_of": AS_OF, "k": 3, "name": "c3"}
    answer = client.post("/v1/analyses/clusters", json=body, headers=headers["analyst"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["summary"]["k"] == 3
    rows = client.get(
        "/v1/analyses/results/analysis_cluster_profiles?name=c3", headers=headers["analyst"]
    ).json()["items"]
    assert [r["cluster"] for r in rows] == [1, 2, 3] and all(r["typical_tier"] for r in rows)
    bad = client.post("/v1/analyses/clusters", json={"k": 0}, headers=headers["analyst"])
    assert bad.status_code == 422 and "k" in bad.text
    too_many = client.post(
        "/v1/analyses/clusters",
        json={"as_of": AS_OF, "window_days": 3, "k": 40},
        headers=headers["analyst"],
    )
    assert too_many.status_code == 400 and "k: 40" in too_many.text


def test_clusters_on_rfm_and_computed_traits(cli: Any, home: Path) -> None:
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    run = ok(cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--k", "3",
                 "--features", "rfm,avg_order_value", "--json"))  # fmt: skip
    assert run["summary"]["features"] == [
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
    ]
    assert run["params"]["features"] == ["rfm", "avg_order_value"]
    centroids = sql(cli, home, "select centroid from analysis_cluster_profiles order by cluster")
    assert len(centroids) == 3
    assert all(json.loads(c["centroid"])["avg_order_value"] > 0 for c in centroids)
    refused = cli("--home", home, "analyse", "clusters", "--features", "rfm,province")
    assert refused.code != 0 and "province is not a numeric trait" in refused.stderr

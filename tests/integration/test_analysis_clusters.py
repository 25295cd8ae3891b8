"""Typical tags of customer clusters and clusters on Spark, on the demo brand (300 customers).

The clustering itself (k by silhouette, stable labels, bad input) is tested with RFM in
test_analysis_rfm.py; here: the tags each cluster carries more than everyone (from the traits
run), a workspace whose cluster table predates the column, and the same clusters from Spark.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from analysis_support import needs_spark, ok, role_api, sql

from custodia.analytics.cluster_tags import TAG_MIN_PROFILES
from custodia.core.analysis_tables import ANALYSIS_CLUSTER_PROFILES
from custodia.privacy.roles import Role
from custodia.settings import load_settings
from custodia.workspace import Workspace

AS_OF = "2026-10-31"  # the demo calendar's last day
ENGINES = ("duckdb", "spark")


@pytest.fixture
def home(demo_copy: Path) -> Path:
    """A private copy of the demo workspace, free to change."""
    return demo_copy


def clusters(cli: Any, home: Path, *args: str) -> Any:
    return ok(cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, *args, "--json"))


def test_without_traits_clusters_run_and_say_tags_need_a_traits_run(cli: Any, home: Path) -> None:
    run = clusters(cli, home, "--k", "3")
    summary = run["summary"]
    assert summary["k"] == 3 and summary["tags_from"] is None
    assert "traits were not computed" in summary["tags_note"]
    assert "custodia analyse traits" in summary["tags_note"]
    assert [c["typical_tags"] for c in summary["clusters"]] == [[], [], []]
    stored = sql(cli, home, "select typical_tags from analysis_cluster_profiles")
    assert [r["typical_tags"] for r in stored] == [None, None, None]  # unknown, not "none typical"
    table = cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--k", "3")
    assert table.code == 0 and "typical tags" in table.stdout
    assert "traits were not computed" in table.stderr


def test_typical_tags_are_frequent_in_the_cluster_and_rarer_elsewhere(cli: Any, home: Path) -> None:
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    run = clusters(cli, home, "--k", "3", "--name", "c3")
    summary = run["summary"]
    assert summary["tags_from"]["name"] == "traits" and summary["tags_from"]["as_of"] == AS_OF
    assert "tags_note" not in summary
    sizes = {c["cluster"]: c["profiles"] for c in summary["clusters"]}
    counts = _tag_counts(cli, home, "c3")
    total = sum(sizes.values())
    overall: dict[str, int] = {}
    for (_cluster, tag), n in counts.items():
        overall[tag] = overall.get(tag, 0) + n
    reported = 0
    for cluster in summary["clusters"]:
        label, size, tags = cluster["cluster"], cluster["profiles"], cluster["typical_tags"]
        assert len(tags) <= 5
        for t in tags:  # what is reported is measured right and passes the rule
            n = counts[(label, t["tag"])]
            assert t["profiles"] == n >= TAG_MIN_PROFILES and t["share"] >= 0.2
            assert t["share"] == pytest.approx(n / size, abs=1e-6)
            assert t["lift"] == pytest.approx((n / size) / (overall[t["tag"]] / total), abs=1e-5)
            assert t["lift"] >= 1.2
        assert [t["lift"] for t in tags] == sorted((t["lift"] for t in tags), reverse=True)
        left_out = [
            n / size / (overall[tag] / total)
            for (c, tag), n in counts.items()
            if c == label and tag not in {t["tag"] for t in tags}
            and n >= TAG_MIN_PROFILES and n / size >= 0.2
        ]  # fmt: skip
        if left_out and len(tags) < 5:  # a tag passing the rule is reported unless cut at 5
            assert max(left_out) < 1.2
        reported += len(tags)
    assert reported > 0
    spenders = max(summary["clusters"], key=lambda c: c["monetary"])
    assert spenders["typical_tags"][0]["tag"] == "高价值客户"  # the value band of big spenders
    stored = sql(cli, home, "select cluster, typical_tags from analysis_cluster_profiles "
                 "where analysis_name = 'c3' order by cluster")  # fmt: skip
    assert [json.loads(r["typical_tags"]) for r in stored] == [
        c["typical_tags"] for c in summary["clusters"]
    ]
    assert "高价值客户" in stored[spenders["cluster"] - 1]["typical_tags"]  # not \\u-escaped
    table = cli("--home", home, "analyse", "clusters", "--as-of", AS_OF, "--k", "3")
    assert table.code == 0 and "高价值客户" in table.stdout and "×" in table.stdout
    assert "traits were not computed" not in table.stderr
    fewer = clusters(cli, home, "--k", "3", "--top-tags", "1", "--tag-min-lift", "2")
    assert all(len(c["typical_tags"]) <= 1 for c in fewer["summary"]["clusters"])
    assert all(t["lift"] >= 2 for c in fewer["summary"]["clusters"] for t in c["typical_tags"])
    bad = cli("--home", home, "analyse", "clusters", "--tag-min-lift", "0.5")
    assert bad.code != 0 and "tag_min_lift" in bad.stderr and "Traceback" not in bad.stderr


def _tag_counts(cli: Any, home: Path, name: str) -> dict[tuple[int, str], int]:
    """Profiles per (cluster, tag), from the stored tables."""
    rows = sql(
        cli, home,
        "select c.cluster, t.tag, count(distinct c.profile_id) as n from analysis_clusters c "
        "join (select profile_id, unnest(tags) as tag from analysis_profile_traits "
        f"where analysis_name = 'traits') t using (profile_id) where c.analysis_name = '{name}' "
        "group by all",
    )  # fmt: skip
    return {(r["cluster"], r["tag"]): r["n"] for r in rows}


def test_a_workspace_whose_cluster_table_predates_typical_tags(cli: Any, home: Path) -> None:
    """The table gains the column on the next run; rows of the older runs keep a null."""
    old_spec = ANALYSIS_CLUSTER_PROFILES
    old_schema = old_spec.arrow_schema().remove(
        old_spec.arrow_schema().get_field_index("typical_tags")
    )
    first = clusters(cli, home, "--k", "3", "--name", "segments")
    with Workspace.open(load_settings(home=home)) as ws:
        zone = old_spec.zone.value
        rows = ws.lake.snapshot(zone, old_spec.name).dataset().to_table()
        rows = rows.drop_columns(["typical_tags"])
        shutil.rmtree(ws.lake.path(zone, old_spec.name))
        ws.lake.ensure_table(zone, old_spec.name, old_schema, stats_columns=["cluster"])
        ws.lake.append(zone, old_spec.name, rows.cast(old_schema))
        old = ws.lake.snapshot(zone, old_spec.name).schema().names
    assert "typical_tags" not in old
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    again = clusters(cli, home, "--k", "3", "--name", "segments")
    assert again["summary"]["labels_from"] == first["analysis_id"]  # old rows still read
    assert any(c["typical_tags"] for c in again["summary"]["clusters"])
    other = clusters(cli, home, "--k", "2", "--name", "other")
    stored = sql(cli, home, "select analysis_name, count(typical_tags) as tagged, count(*) as n "
                 "from analysis_cluster_profiles group by all order by 1")  # fmt: skip
    assert stored == [
        {"analysis_name": "other", "tagged": 2, "n": 2},
        {"analysis_name": "segments", "tagged": 3, "n": 3},
    ]
    assert other["rows"]["analysis_cluster_profiles"] == 2


def test_api_answer_and_stored_rows_hold_typical_tags(cli: Any, home: Path) -> None:
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    with role_api(home, Role.ANALYST) as (client, headers):
        body = {"as_of": AS_OF, "k": 3, "name": "c3", "top_tags": 2}
        answer = client.post("/v1/analyses/clusters", json=body, headers=headers["analyst"])
        assert answer.status_code == 200, answer.text
        found = [c["typical_tags"] for c in answer.json()["summary"]["clusters"]]
        assert any(found) and all(len(tags) <= 2 for tags in found)
        assert "高价值客户" in answer.text  # UTF-8 JSON, not escaped
        rows = client.get(
            "/v1/analyses/results/analysis_cluster_profiles?name=c3", headers=headers["analyst"]
        ).json()["items"]
        assert [json.loads(r["typical_tags"]) for r in rows] == found
        bad = client.post(
            "/v1/analyses/clusters", json={"tag_min_share": 2}, headers=headers["analyst"]
        )
        assert bad.status_code == 422 and "tag_min_share" in bad.text


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")  # pyspark leaves its local socket to gc
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_gives_the_same_clusters_as_duckdb(cli: Any, home: Path) -> None:
    needs_spark()
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    # k by silhouette, a trait feature (json_extract_string on Spark) and typical tags (unnest)
    args = ("--features", "rfm,avg_order_value")
    runs = {e: clusters(cli, home, *args, "--engine", e, "--name", f"on_{e}") for e in ENGINES}
    assert runs["spark"]["summary"] == runs["duckdb"]["summary"]
    assert runs["duckdb"]["summary"]["profiles"] > 100
    assert any(c["typical_tags"] for c in runs["duckdb"]["summary"]["clusters"])
    assignments = "select profile_id, cluster, distance, tier from analysis_clusters"
    rows = {e: _of_run(cli, home, assignments, f"on_{e}", "profile_id") for e in ENGINES}
    assert rows["duckdb"] and rows["spark"] == rows["duckdb"]
    profiles = "select * exclude (analysis_name, analysis_id, computed_at) from "
    per_cluster = {
        e: _of_run(cli, home, profiles + "analysis_cluster_profiles", f"on_{e}", "cluster")
        for e in ENGINES
    }
    assert per_cluster["spark"] == per_cluster["duckdb"]


def _of_run(cli: Any, home: Path, select: str, name: str, order: str) -> list[dict[str, Any]]:
    return sql(cli, home, f"{select} where analysis_name = '{name}' order by {order}")

"""``custodia analyse traits`` and ``POST /v1/analyses/traits`` on the demo brand (300 customers).

The demo workspace is built once per module; each test works on a copy. Checks: one row per
profile with the trait map and tags, incremental runs touch only the due profiles and give the
same rows as a full recompute, the 360 view shows them, a broken spec is reported with its line,
and the same run on Spark stores the same traits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from analysis_support import needs_spark, ok, role_api, sql
from fastapi.testclient import TestClient

from custodia.privacy.roles import Role
from custodia.settings import load_settings
from custodia.workspace import Workspace

AS_OF = "2026-11-01"  # the demo's "today"


@pytest.fixture
def home(demo_copy: Path) -> Path:
    return demo_copy


def traits_rows(cli: Any, home: Path, name: str) -> dict[str, tuple[Any, ...]]:
    rows = sql(
        cli, home,
        "select profile_id, traits, tags, identity_tags, need_tags, value_tags "
        f"from analysis_profile_traits where analysis_name = '{name}' order by 1",
    )  # fmt: skip
    return {
        r["profile_id"]: (json.loads(r["traits"]), r["tags"], r["identity_tags"],
                          r["need_tags"], r["value_tags"])
        for r in rows
    }  # fmt: skip


def test_cli_computes_every_profile_then_only_the_due(cli: Any, home: Path) -> None:
    first = ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    summary = first["summary"]
    profiles = sql(cli, home, "select count(*) as n from profiles")[0]["n"]
    assert summary["mode"] == "full" and summary["profiles_computed"] == profiles
    assert first["rows"] == {"analysis_profile_traits": profiles}
    assert (home / "analytics" / "traits.yaml").exists()  # written for the team to edit
    tags = {t["tag"]: t["profiles"] for t in summary["tags"]}
    assert tags["未购客户"] + tags["中价值客户"] + tags["高价值客户"] + tags["沉睡客户"] == profiles
    assert {"限量款爱好者", "价格敏感", "尺码敏感", "钻石会员", "偏好品类:连衣裙"} <= set(tags)

    # a rule tag agrees with the facts: limited-edition units in the year up to the as-of date
    lovers = sql(
        cli, home,
        "select count(*) as n from analysis_profile_traits "
        "where list_contains(tags, '限量款爱好者')"
        " and cast(json_extract(traits, '$.limited_items_365d') as double) < 2"
        " and cast(json_extract(traits, '$.limited_views_90d') as int) < 3",
    )  # fmt: skip
    assert lovers[0]["n"] == 0

    again = ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    assert again["summary"]["mode"] == "incremental"
    assert again["summary"]["profiles_computed"] == 0  # nothing changed

    later = ok(cli("--home", home, "analyse", "traits", "--as-of", "2026-11-15", "--json"))
    computed = later["summary"]["profiles_computed"]
    assert later["summary"]["mode"] == "incremental" and 0 < computed < profiles / 2
    full = ok(cli("--home", home, "analyse", "traits", "--as-of", "2026-11-15", "--full",
                  "--name", "traits_full", "--json"))  # fmt: skip
    assert full["summary"]["profiles_computed"] == profiles
    assert traits_rows(cli, home, "traits") == traits_rows(cli, home, "traits_full")


def test_new_facts_make_their_profile_due(cli: Any, home: Path, tmp_path: Path) -> None:
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    buyer = sql(
        cli, home,
        "select o.customer_ref_type as t, o.customer_ref as r, k.profile_id as p from orders o "
        "join profile_keys k on k.ref_type = o.customer_ref_type and k.ref_value = o.customer_ref "
        "where o.customer_ref_type = 'member_id' order by o.order_id limit 1",
    )[0]  # fmt: skip
    before = json.loads(sql(cli, home, "select traits from analysis_profile_traits "
                            f"where profile_id = '{buyer['p']}'")[0]["traits"])  # fmt: skip
    extra = tmp_path / "late_orders.csv"
    extra.write_text(
        "order_no,member_id,total,ordered_at,status\n"
        f"LATE-1,{buyer['r']},88.00,2026-10-30 12:00:00,completed\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "sources:\n  - name: late_shop\n    format: csv\n    entity: orders\n"
        "    timezone: Asia/Shanghai\n    targets:\n      - table: orders\n"
        "        key: order_no\n        columns:\n          channel: \"'online'\"\n"
        "          source_key: order_no\n          customer_ref_type: \"'member_id'\"\n"
        "          customer_ref: member_id\n          total_amount: total\n"
        "          ordered_at: {field: ordered_at, parse_date: auto}\n"
        "          status: status\n",
        encoding="utf-8",
    )
    ok(cli("--home", home, "ingest", "file", extra, "--source", "late_shop",
           "--mapping", mapping, "--json"))  # fmt: skip
    run = ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    assert run["summary"]["mode"] == "incremental"
    assert 1 <= run["summary"]["profiles_computed"] < 10
    after = json.loads(sql(cli, home, "select traits from analysis_profile_traits "
                           f"where profile_id = '{buyer['p']}'")[0]["traits"])  # fmt: skip
    assert after["orders_total"] == before["orders_total"] + 1


def test_a_broken_spec_is_reported_with_its_line(cli: Any, home: Path) -> None:
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    spec = home / "analytics" / "traits.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace('where: "event = \'Product Added\'"', 'where: "evnt = 1"'),
                    encoding="utf-8")  # fmt: skip
    run = ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    error = run["summary"]["spec_error"]
    assert error.startswith("traits.yaml line ") and "cart_adds_30d" in error
    assert "unknown name 'evnt'" in error and run["summary"]["spec"] == "traits.active.yaml"
    spec.write_text(
        text.replace('when: "coupon_orders_365d >= 1 AND', 'when: "coupons >= 1 AND'),
        encoding="utf-8",
    )
    run = ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    assert "tag 价格敏感" in run["summary"]["spec_error"]


def test_profile_view_shows_traits_and_tags(cli: Any, home: Path) -> None:
    ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--json"))
    query = (
        "select profile_id from analysis_profile_traits "
        "where list_contains(tags, '钻石会员') order by 1 limit 1"
    )
    pid = sql(cli, home, query)[0]["profile_id"]
    from custodia.pipeline.profile_view import ProfileView

    with Workspace.open(load_settings(home=home)) as ws:
        view = ProfileView(ws).summary(pid)
    assert view["traits"]["as_of"] == AS_OF
    assert view["traits"]["traits"]["member_level"] == "钻石会员"
    assert "钻石会员" in view["traits"]["tags"]["identity"]
    assert len(view["traits"]["tags"]["value"]) >= 1


@pytest.fixture
def api(home: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with role_api(home, Role.ANALYST, Role.SERVICE_AGENT) as client_headers:
        yield client_headers


def test_api_runs_traits_and_refuses_bad_input(api: tuple[TestClient, Any]) -> None:
    client, headers = api
    answer = client.post("/v1/analyses/traits", json={"as_of": AS_OF}, headers=headers["analyst"])
    assert answer.status_code == 200, answer.text
    run = answer.json()
    assert run["kind"] == "traits" and run["summary"]["mode"] == "full"
    rows = client.get(
        "/v1/analyses/results/analysis_profile_traits?name=traits&limit=5",
        headers=headers["analyst"],
    ).json()["items"]
    assert len(rows) == 5 and isinstance(rows[0]["tags"], list)
    assert json.loads(rows[0]["traits"])["orders_total"] >= 0
    for body, field in (({"as_of": "2026-13-01"}, "as_of"), ({"full": "perhaps"}, "full"),
                        ({"name": "Not A Name"}, "name")):  # fmt: skip
        bad = client.post("/v1/analyses/traits", json=body, headers=headers["analyst"])
        assert bad.status_code in (400, 422) and field in bad.text
    denied = client.post("/v1/analyses/traits", json={}, headers=headers["service_agent"])
    assert denied.status_code == 403


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_stores_the_same_traits_as_duckdb(cli: Any, home: Path) -> None:
    needs_spark()
    for engine in ("duckdb", "spark"):
        ok(cli("--home", home, "analyse", "traits", "--as-of", AS_OF, "--engine", engine,
               "--name", f"traits_{engine}", "--json"))  # fmt: skip
    assert traits_rows(cli, home, "traits_duckdb") == traits_rows(cli, home, "traits_spark")

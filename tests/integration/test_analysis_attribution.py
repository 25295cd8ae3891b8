"""``custodia analyse attribution`` and ``POST /v1/analyses/attribution`` on the demo brand.

The demo plants a confounder: Baidu brand-keyword clicks just before orders people placed
anyway. Last touch over-credits Baidu; the Markov removal effect does not. Spark: the same run
on Spark local mode stores the same credit as DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from analysis_support import needs_spark, ok, role_api, sql
from fastapi.testclient import TestClient

from custodia.privacy.roles import Role


@pytest.fixture
def home(demo_copy: Path) -> Path:
    return demo_copy


def test_cli_credits_every_model_and_sees_through_brand_search(cli: Any, home: Path) -> None:
    run = ok(cli("--home", home, "analyse", "attribution", "--json"))
    summary = run["summary"]
    assert run["kind"] == "attribution" and summary["converting_journeys"] > 100
    assert summary["conversions"] >= summary["attributed_conversions"] > 0
    assert set(summary["models"]) == {
        "first", "last", "linear", "position", "time_decay", "markov", "shapley"
    }  # fmt: skip
    for totals in summary["models"].values():  # every model shares out the same conversions
        assert totals["conversions"] == pytest.approx(summary["attributed_conversions"])
        assert totals["value"] == pytest.approx(summary["attributed_value"], abs=0.05)
    stored = sql(cli, home, "select model, channel, conversions from analysis_attribution")
    credit = {(r["model"], r["channel"]): r["conversions"] for r in stored}
    assert credit[("markov", "baidu_search")] < 0.8 * credit[("last", "baidu_search")]
    assert summary["shapley"]["exact"] and summary["holdout_channels"] == []
    assert run["rows"] == {"analysis_attribution": 42, "analysis_attribution_lift": 0}
    second = ok(cli("--home", home, "analyse", "attribution", "--models", "markov",
                    "--markov-order", "3", "--lookback", "7d", "--json"))  # fmt: skip
    assert set(second["summary"]["models"]) == {"markov"}
    assert second["summary"]["attributed_conversions"] < summary["attributed_conversions"]
    table = cli("--home", home, "analyse", "attribution", "--models", "first,last")
    assert table.code == 0 and "baidu_search" in table.stdout and "journeys" in table.stdout


def test_bad_options_name_the_field(cli: Any, home: Path) -> None:
    for args, field in (
        (("--models", "last,magic"), "models"),
        (("--markov-order", "4"), "markov_order"),
        (("--lookback", "a month"), "lookback"),
        (("--half-life", "0d"), "half_life"),
        (("--name", "Bad Name"), "name"),
    ):
        result = cli("--home", home, "analyse", "attribution", *args)
        assert result.code != 0 and field in result.stderr and "Traceback" not in result.stderr


def test_no_conversion_is_an_empty_result(cli: Any, home: Path) -> None:
    run = ok(cli("--home", home, "analyse", "attribution", "--interactions", "none", "--json"))
    assert run["rows"] == {"analysis_attribution": 0, "analysis_attribution_lift": 0}
    assert run["summary"]["journeys"] == 0 and run["summary"]["credit"] == []


@pytest.fixture
def api(home: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with role_api(home, Role.MARKETER, Role.SERVICE_AGENT) as client_headers:
        yield client_headers


def test_api_runs_attribution(api: tuple[TestClient, Any]) -> None:
    client, headers = api
    body = {"models": ["last", "position", "shapley"], "name": "attribution_14d",
            "lookback": "14d"}  # fmt: skip
    answer = client.post("/v1/analyses/attribution", json=body, headers=headers["marketer"])
    assert answer.status_code == 200, answer.text
    run = answer.json()
    rows = client.get(
        "/v1/analyses/results/analysis_attribution?name=attribution_14d&limit=1000",
        headers=headers["marketer"],
    ).json()["items"]
    assert {r["model"] for r in rows} == {"last", "position", "shapley"}
    assert len(rows) == len(run["summary"]["credit"])
    bad = client.post("/v1/analyses/attribution", json={"markov_order": 9},
                      headers=headers["marketer"])  # fmt: skip
    assert bad.status_code == 422 and "markov_order" in bad.text
    denied = client.post("/v1/analyses/attribution", json={}, headers=headers["service_agent"])
    assert denied.status_code == 403


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_stores_the_same_credit_as_duckdb(cli: Any, home: Path) -> None:
    needs_spark()
    for engine in ("duckdb", "spark"):
        ok(cli("--home", home, "analyse", "attribution", "--engine", engine,
               "--name", f"attribution_{engine}", "--json"))  # fmt: skip
    rows = {
        engine: sql(
            cli,
            home,
            "select model, channel, round(conversions, 6) as c, round(value, 2) as v "
            f"from analysis_attribution where analysis_name = 'attribution_{engine}' order by 1, 2",
        )
        for engine in ("duckdb", "spark")
    }
    assert rows["duckdb"] == rows["spark"] and len(rows["duckdb"]) == 42

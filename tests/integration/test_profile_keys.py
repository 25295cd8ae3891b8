"""``profile_keys``: every customer reference of the fact tables leads to its live profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custodia.core.tables import PROFILE_KEYS
from custodia.pipeline.profile_keys import refresh_profile_keys
from custodia.settings import load_settings
from custodia.storage.store import Watermarks
from custodia.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "quality"


@pytest.fixture
def home(cli: Any, workspace_home: Path) -> Path:
    for name, source in (("customers.csv", "crm"), ("orders.csv", "shop")):
        result = cli(
            "--home", workspace_home, "ingest", "file", DATA / name, "--source", source,
            "--mapping", DATA / "mapping.yaml", "--json",
        )  # fmt: skip
        assert result.code == 0, result
    assert cli("--home", workspace_home, "identity", "resolve", "--json").code == 0
    return workspace_home


def test_orders_reach_profiles_and_rebuild_only_on_change(home: Path, cli: Any) -> None:
    with Workspace.open(load_settings(home=home)) as ws:
        first = refresh_profile_keys(ws)
        assert first.rebuilt and first.linked > 0
        joined = ws.query(
            "select count(*) as orders, count(k.profile_id) as linked, "
            "count(distinct k.profile_id) as people "
            "from orders o left join profile_keys k "
            "on k.ref_type = o.customer_ref_type and k.ref_value = o.customer_ref"
        ).to_pylist()[0]
        members = ws.query(
            "select count(distinct member_id) as n from customer_records "
            "where member_id is not null"
        ).to_pylist()[0]["n"]
        refs = ws.query(
            "select count(distinct customer_ref) as n from orders o "
            "where customer_ref in (select member_id from customer_records)"
        ).to_pylist()[0]["n"]
        assert joined["linked"] > 0 and joined["people"] == refs <= members
        assert not refresh_profile_keys(ws).rebuilt  # nothing changed

    extra = home.parent / "more_orders.csv"
    extra.write_text(
        "order_no,member_id,total,ordered_at,status\n"
        "O900,C01,10.00,2026-11-20 12:00:00,completed\n",
        encoding="utf-8",
    )
    result = cli(
        "--home", home, "ingest", "file", extra, "--source", "shop",
        "--mapping", DATA / "mapping.yaml", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    with Workspace.open(load_settings(home=home)) as ws:
        assert refresh_profile_keys(ws).rebuilt  # orders have a new version
        schema = ws.query("select * from profile_keys limit 0").schema
        assert schema.names == [
            "ref_type", "ref_value", "profile_id", "profile_key", "candidates", "updated_at"
        ]  # fmt: skip
        numbers = ws.query(
            "select count(distinct profile_id) as profiles, count(distinct profile_key) as keys, "
            "min(profile_key) as low, max(profile_key) as high, "
            "count(distinct (profile_id, profile_key)) as pairs from profile_keys"
        ).to_pylist()[0]
        n = numbers["profiles"]  # one number per profile, 1..n
        assert n > 0 and numbers == {"profiles": n, "keys": n, "low": 1, "high": n, "pairs": n}


def test_a_table_built_before_profile_numbers_is_rebuilt(home: Path) -> None:
    """An upgrade: the table an older release built (no ``profile_key``, its stamp without a
    format) is rebuilt on the next refresh, not read with empty numbers."""
    with Workspace.open(load_settings(home=home)) as ws:
        assert refresh_profile_keys(ws).rebuilt
        old = ws.query("select * from profile_keys").drop_columns(["profile_key"])
        ws.lake.overwrite(PROFILE_KEYS.zone.value, PROFILE_KEYS.name, old)  # key left null
        watermarks = Watermarks(ws.store, ws.clock)
        stamp = json.loads(watermarks.get("pipeline", "profile_keys") or "{}")
        watermarks.set("pipeline", "profile_keys", json.dumps(stamp["inputs"], sort_keys=True))
        assert ws.query("select count(profile_key) as n from profile_keys").to_pylist() == [
            {"n": 0}
        ]
        assert refresh_profile_keys(ws).rebuilt
        counts = ws.query(
            "select count(*) as n, count(profile_key) as keyed from profile_keys"
        ).to_pylist()[0]
        assert counts["n"] == counts["keyed"] > 0
        assert not refresh_profile_keys(ws).rebuilt

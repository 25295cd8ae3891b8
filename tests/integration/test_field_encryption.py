"""Encryption at rest of L3 columns, through the CLI and the Python API.

Workspace: the identity test sources (tests/data/identity) ingested and resolved. Resident IDs
and credit bands are L3: the Parquet files of customer records and profiles, the store's
identifiers and golden traits hold no resident ID in clear; every query still reads them in
clear; an erased person's values read as missing even where a copy of the ciphertext remains.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from parquet_text import parquet_strings

from custodia.settings import load_settings
from custodia.workspace import Workspace

ZHANG_ID = "110105198001011238"
LI_ID = "31011519900305456X"


@pytest.fixture
def home(workspace_home: Path, cli: Any, ingest_identity_sources: Callable[..., None]) -> Path:
    ingest_identity_sources(workspace_home)
    assert cli("--home", workspace_home, "identity", "resolve", "--json").code == 0
    return workspace_home


def _workspace(home: Path) -> Workspace:
    return Workspace.open(load_settings(home=home))


def test_l3_values_are_ciphertext_on_disk_and_plain_in_queries(home: Path, cli: Any) -> None:
    lake = home / "lake"
    for table in ("staged/customer_records", "curated/profiles"):
        strings = parquet_strings(lake / table)
        assert not any(ZHANG_ID in s or LI_ID in s for s in strings), table
        assert any(s.startswith("enc:v1:dk_") for s in strings), table
    store_bytes = b"".join(p.read_bytes() for p in home.rglob("*.db*") if p.is_file())
    assert ZHANG_ID.encode() not in store_bytes and LI_ID.encode() not in store_bytes

    result = cli(
        "--home", home, "sql",
        "select resident_id, count(*) as n from customer_records "
        "where resident_id is not null group by 1 order by 1",
        "--format", "json",
    )  # fmt: skip
    assert result.code == 0, result
    assert ZHANG_ID in result.stdout and "enc:v1" not in result.stdout

    with _workspace(home) as ws:
        ids = ws.query("select distinct resident_id from profiles").column(0).to_pylist()
        assert ZHANG_ID in ids and LI_ID in ids
        stored = ws.query(
            "select id_value_normalized from profile_identifiers where id_type = 'resident_id'"
        )
        digests = stored.column(0).to_pylist()
        assert digests and all(v.startswith("bi1_") for v in digests)


def test_profile_found_by_resident_id_through_its_blind_index(home: Path, cli: Any) -> None:
    result = cli("--home", home, "profile", "show", f"resident_id:{ZHANG_ID}", "--json")
    assert result.code == 0, result
    shown = result.json()
    resident = shown["profile"]["attributes"]["resident_id"]["value"]
    assert resident == ZHANG_ID  # the CLI is the operator's own view; the API masks by role
    assert "enc:v1" not in result.stdout


def test_shredded_subject_reads_as_missing_and_reload_keeps_going(
    home: Path, cli: Any, ingest_identity_sources: Callable[..., None]
) -> None:
    with _workspace(home) as ws:
        rows = ws.query_engine().query(
            "select record_id from customer_records where resident_id = ? order by 1", [ZHANG_ID]
        )
        records = rows.column(0).to_pylist()
        assert len(records) >= 2
        for record_id in records:
            ws.data_keys.shred(record_id, actor="test")
        left = ws.query_engine().query(
            "select count(*) from customer_records where resident_id = ?", [ZHANG_ID]
        )
        assert left.column(0)[0].as_py() == 0
        others = ws.query_engine().query(
            "select count(*) from customer_records where resident_id = ?", [LI_ID]
        )
        assert others.column(0)[0].as_py() >= 1

    ingest_identity_sources(home, sources=(("crm", "crm.csv"),))  # the source sends them again

    with _workspace(home) as ws:
        again = ws.query_engine().query(
            "select resident_id from customer_records where record_id in "
            f"({', '.join('?' for _ in records)})",
            records,
        )
        assert again.column(0).to_pylist() == [None] * len(records)


def test_sealing_follows_a_raised_tier(home: Path) -> None:
    with _workspace(home) as ws:
        assert ws.sealing is not None
        before = ws.sealing.tables()["customer_records"].sealed
        assert "resident_id" in before and "phone" not in before
    (home / "privacy" / "classification.yaml").write_text(
        "tiers:\n  customer_records.phone: L3\n", encoding="utf-8"
    )
    with _workspace(home) as ws:
        assert ws.sealing is not None
        assert "phone" in ws.sealing.tables()["customer_records"].sealed


def test_a_ciphertext_moved_to_another_row_is_refused_and_audited(home: Path, cli: Any) -> None:
    with _workspace(home) as ws:
        files = sorted((home / "lake" / "staged" / "customer_records").rglob("*.parquet"))
        rows = pa.concat_tables(
            pq.read_table(f, columns=["record_id", "resident_id"]) for f in files
        ).to_pylist()
        sealed = [(r["record_id"], r["resident_id"]) for r in rows if r["resident_id"]]
        (source_key, ciphertext), (target_key, _) = sealed[0], sealed[1]
        assert source_key != target_key
        source = target_key.split(":", 1)[0]  # record ids are SOURCE:hash
        moved = pa.table(
            {"record_id": [target_key], "source": [source], "resident_id": [ciphertext]}
        )
        ws.lake.merge("staged", "customer_records", moved, ["record_id"])

    result = cli("--home", home, "sql", "select resident_id from customer_records")
    assert result.code != 0
    assert "customer_records.resident_id" in result.stderr and "authentication" in result.stderr
    assert ciphertext not in result.stderr and ZHANG_ID not in result.stderr

    log = cli("--home", home, "audit", "log", "--json")
    refused = [e for e in log.json() if e["action"] == "data.read"]
    assert refused and refused[-1]["details"]["outcome"] == "refused"
    assert refused[-1]["details"]["fields"] == ["resident_id"]

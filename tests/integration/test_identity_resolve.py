"""Identity resolution through the CLI on hand-written records with every hard case.

Fixtures: tests/data/identity (see PROVENANCE.md). Two sources of customer records (a CRM and a
shop) and a clickstream with an anonymous visitor who identifies and an alias call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custodia.core.ids import record_key
from custodia.settings import load_settings
from custodia.storage.store_audit import AuditLog
from custodia.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "identity"


def crm(member_id: str) -> str:
    return record_key("crm", member_id)


def shop(user_id: str) -> str:
    return record_key("shop", user_id)


@pytest.fixture
def loaded(cli: Any, workspace_home: Path) -> Path:
    for source, name in (("crm", "crm.csv"), ("shop", "shop.csv"), ("web", "clicks.json")):
        result = cli(
            "--home", workspace_home, "ingest", "file", DATA / name,
            "--source", source, "--mapping", DATA / "mapping.yaml", "--json",
        )  # fmt: skip
        assert result.code == 0, result
    return workspace_home


def resolve(cli: Any, home: Path, *extra: str) -> dict[str, Any]:
    result = cli("--home", home, "identity", "resolve", *extra, "--json")
    assert result.code == 0, result
    report: dict[str, Any] = result.json()
    return report


def profile_of(cli: Any, home: Path, ref: str) -> dict[str, Any]:
    result = cli("--home", home, "profile", "show", ref, "--json")
    assert result.code == 0, result
    summary: dict[str, Any] = result.json()
    return summary


def records_of(summary: dict[str, Any]) -> set[str]:
    return {item["record_id"] for item in summary["identities"]}


def test_resolution_merges_what_it_should_and_nothing_else(cli: Any, loaded: Path) -> None:
    report = resolve(cli, loaded)
    # crm, shop, event identities (3 anonymous ids, 3 user ids, 1 alias, 1 identify with traits)
    assert report["records_in_scope"] == 8 + 3 + 8
    phone_flags = {k: v for k, v in report["flags"].items() if k.startswith("phone.")}
    assert sum(phone_flags.values()) == 2  # 13800000000 twice: junk, never a match
    assert report["flags"]["email.blocklisted"] == 1
    assert report["flags"]["resident_id.check_digit"] == 1
    assert report["edges_refused"] == {"guard:resident_id": 1}

    zhang = profile_of(cli, loaded, "phone:138 1234 0001")
    assert {crm("M1"), crm("M2"), shop("U1")} <= records_of(zhang)
    # any identifier finds the same person, whatever its format
    for ref in ("phone:+86 139-1234-0002", "email:ZHANGWEI@example.com", "member_id:M2"):
        assert (
            profile_of(cli, loaded, ref)["profile"]["profile_id"] == zhang["profile"]["profile_id"]
        )

    # the same family phone, two different resident IDs: two people
    li = profile_of(cli, loaded, "member_id:M3")
    other_li = profile_of(cli, loaded, "member_id:M4")
    assert li["profile"]["profile_id"] != other_li["profile"]["profile_id"]

    # junk values never merge
    junk = profile_of(cli, loaded, "member_id:M5")
    assert (
        profile_of(cli, loaded, "member_id:M6")["profile"]["profile_id"]
        != junk["profile"]["profile_id"]
    )
    assert junk["profile"]["record_count"] == 1


def test_golden_record_keeps_conflicts_visible(cli: Any, loaded: Path) -> None:
    resolve(cli, loaded)
    zhang = profile_of(cli, loaded, "member_id:M1")["profile"]
    attrs = zhang["attributes"]
    assert attrs["name"]["value"] == "张伟"
    assert attrs["resident_id"]["value"] == "110105198001011238"
    assert attrs["phone"]["value"] in {"+8613812340001", "+8613912340002"}
    assert {c["value"] for c in attrs["phone"]["conflicts"]} | {attrs["phone"]["value"]} == {
        "+8613812340001",
        "+8613912340002",
    }
    assert attrs["member_level"]["conflicts"]  # gold in one record, silver in the other


def test_anonymous_history_is_stitched_to_the_known_person(cli: Any, loaded: Path) -> None:
    resolve(cli, loaded)
    u3 = profile_of(cli, loaded, "user_id:U3")
    assert (
        profile_of(cli, loaded, "anonymous_id:anon-1")["profile"]["profile_id"]
        == u3["profile"]["profile_id"]
    )
    messages = {e["message_id"] for e in u3["events"]["items"]}
    assert {"m-1", "m-2", "m-3", "m-4"} <= messages  # events before the identify call count
    john = profile_of(cli, loaded, "anonymous_id:anon-2")  # via alias
    assert crm("M8") in records_of(john)
    assert {e["message_id"] for e in john["events"]["items"]} >= {"m-5", "m-6"}
    # identify traits carry identifiers too: U4 sent John's phone
    assert (
        profile_of(cli, loaded, "user_id:U4")["profile"]["profile_id"]
        == john["profile"]["profile_id"]
    )


def test_bad_references_are_clear_errors_without_the_value(cli: Any, loaded: Path) -> None:
    resolve(cli, loaded)
    bad = cli("--home", loaded, "profile", "show", "phone:12345", "--json")
    assert bad.code == 1
    assert "12345" not in bad.stderr
    assert "phone" in bad.stderr
    unknown = cli("--home", loaded, "profile", "show", "passport:E1234", "--json")
    assert unknown.code == 1
    assert "id_type" in unknown.stderr
    missing = cli("--home", loaded, "profile", "show", "phone:13900000001", "--json")
    assert missing.code == 1
    assert "no profile" in missing.stderr


def test_reruns_keep_profile_ids_and_full_rebuild_gives_the_same(cli: Any, loaded: Path) -> None:
    resolve(cli, loaded)
    before = profile_of(cli, loaded, "member_id:M1")["profile"]["profile_id"]
    again = resolve(cli, loaded)
    assert again["records_in_scope"] == 0
    assert again["edges_added"] == {}
    full = resolve(cli, loaded, "--full")
    assert full["records_in_scope"] == 19
    assert full["edges_added"] == {}  # every edge exists already
    assert profile_of(cli, loaded, "member_id:M1")["profile"]["profile_id"] == before


def test_explain_and_unmerge_are_reversible_and_audited(cli: Any, loaded: Path) -> None:
    resolve(cli, loaded)
    profile_id = profile_of(cli, loaded, "member_id:M1")["profile"]["profile_id"]
    explained = cli("--home", loaded, "identity", "explain", profile_id, "--json").json()
    rules = {e["rule"] for e in explained["edges"] if e["status"] == "applied"}
    assert "same_resident_id" in rules
    shown = str(explained["records"])
    assert "138****0001" in shown
    assert "13812340001" not in shown  # identifiers are masked in explanations

    result = cli(
        "--home", loaded, "identity", "unmerge", profile_id, "--record", crm("M2"),
        "--reason", "different person per store visit", "--actor", "steward@brand", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    split = result.json()
    assert split["new_profile_id"] != profile_id
    assert profile_of(cli, loaded, "member_id:M1")["profile"]["profile_id"] == profile_id
    assert (
        profile_of(cli, loaded, "member_id:M2")["profile"]["profile_id"] == split["new_profile_id"]
    )

    # a full rebuild respects the steward's decision
    resolve(cli, loaded, "--full")
    assert (
        profile_of(cli, loaded, "member_id:M2")["profile"]["profile_id"] == split["new_profile_id"]
    )
    explained = cli("--home", loaded, "identity", "explain", profile_id, "--json").json()
    assert any(e["status"] == "undone" for e in explained["edges"])
    with Workspace.open(load_settings(home=loaded)) as ws:
        entries = [e for e in AuditLog(ws.store).tail(50) if e.action == "identity.unmerge"]
    assert [(e.actor, e.subject_ref) for e in entries] == [("steward@brand", profile_id)]


def test_incremental_run_adds_new_records_to_existing_profiles(
    cli: Any, loaded: Path, tmp_path: Path
) -> None:
    resolve(cli, loaded)
    zhang = profile_of(cli, loaded, "member_id:M1")["profile"]["profile_id"]
    extra = tmp_path / "shop2.csv"
    extra.write_text(
        "user_id,phone,email,updated_at\nU9,,zhangwei@example.com,2025-08-01 10:00:00\n",
        encoding="utf-8",
    )
    cli("--home", loaded, "ingest", "file", extra, "--source", "shop",
        "--mapping", DATA / "mapping.yaml", "--json")  # fmt: skip
    report = resolve(cli, loaded)
    assert report["records_in_scope"] == 1
    assert report["profiles_created"] == 0
    assert profile_of(cli, loaded, "user_id:U9")["profile"]["profile_id"] == zhang


def test_probabilistic_stage_reports_why_it_cannot_train_on_tiny_data(
    cli: Any, loaded: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "probabilistic:\n"
        "  comparisons:\n"
        "    - {column: name_key, method: jaro_winkler}\n"
        "    - {column: birthday, method: date}\n"
        "  blocking_rules: [[birthday]]\n"
        "  training_blocking_rules: [[birthday], [name_key]]\n"
        "  deterministic_rules: [[email, birthday]]\n",
        encoding="utf-8",
    )
    assert cli("--home", loaded, "identity", "spec", "--check", spec).code == 0
    assert cli("--home", loaded, "identity", "spec", "--set", spec).code == 0
    report = resolve(cli, loaded)
    assert report["probabilistic_skipped"].startswith("cannot train on these records")
    assert report["profiles_total"] >= 8  # the deterministic stages still ran

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(spec.read_text(encoding="utf-8").replace("birthday, method", "shoe, method"))
    assert cli("--home", loaded, "identity", "spec", "--set", wrong).code == 0
    failed = cli("--home", loaded, "identity", "resolve", "--full", "--json")
    assert failed.code == 1
    assert "shoe" in failed.stderr  # a spec error names the column and fails the run

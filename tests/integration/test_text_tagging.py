"""Text mining in a workspace: train, tag the demo's interactions, adjust rules, re-tag.

A 300-customer demo workspace is built once (its model trained first on another seed's
300-customer corpus, so the demo's texts are held out from it); each test works on a copy through
the ``custodia`` command line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from custodia.collect.text_mining import COMPLAINT_TYPES, complaint_for_label
from custodia.pipeline.demo_run import run_demo
from custodia.pipeline.text_model import train_text_model
from custodia.settings import load_settings
from custodia.workspace import Workspace

DEMO_SEED = "11"
TRAIN_SEED = "5"
HANDWRITTEN = Path(__file__).resolve().parents[1] / "data" / "text_mining" / "handwritten.csv"


def ok(result: Any) -> Any:
    assert result.code == 0, result
    return result.json()


def sql(cli: Any, home: Path, query: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(cli("--home", home, "sql", query, "--format", "json"))
    return rows


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A demo workspace whose model was trained first (so the demo does not train one)."""
    home = tmp_path_factory.mktemp("text") / "ws"
    ws, _token = Workspace.create(load_settings(home=home))
    with ws:
        train_text_model(ws, seed=int(TRAIN_SEED), customers=300)
        report = run_demo(ws, customers=300, seed=int(DEMO_SEED))
    return home, report.model_dump(mode="json")


@pytest.fixture
def tagged_demo(
    demo_home: tuple[Path, dict[str, Any]], tmp_path: Path
) -> tuple[Path, dict[str, Any]]:
    """A private copy of the demo workspace, free to change."""
    home = tmp_path / "ws"
    shutil.copytree(demo_home[0], home)
    return home, demo_home[1]


def test_nothing_to_tag_trains_nothing(cli: Any, workspace_home: Path) -> None:
    untouched = ok(cli("--home", workspace_home, "text", "tag", "--json"))
    assert untouched["rows_read"] == 0
    assert untouched["model_trained"] is False
    assert not (workspace_home / "models").exists()


def test_train_saves_a_model_with_its_metadata(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]]
) -> None:
    home, _report = tagged_demo
    meta = ok(cli("--home", home, "text", "train", "--customers", "300", "--seed", "6", "--json"))
    assert meta["training_seed"] == 6
    assert meta["corpus"] | {"per_language": None} == {
        "kind": "demo", "seed": 6, "customers": 300, "path": None,
        "texts": meta["train_texts"] + meta["holdout_texts"], "per_language": None,
    }  # fmt: skip
    assert meta["lexicon_texts"] > 0
    assert set(meta["validation"]["complaint_type"]) == {"all", "zh", "en"}
    stored = json.loads((home / "models" / "text_mining" / "metadata.json").read_text())
    assert stored["sha256"] == meta["sha256"]
    table = cli("--home", home, "text", "train", "--corpus", HANDWRITTEN)
    assert table.code == 0, table
    assert "macro-F1" in table.stdout


def test_demo_fills_the_tags_of_every_interaction(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]]
) -> None:
    home, report = tagged_demo
    tags = report["text_tags"]
    assert tags["model_trained"] is False
    # with a model in the workspace, staging tags the rows it writes: nothing is left to tag
    assert tags["rows_tagged"] == 0
    staged = [t for s in report["load"]["sources"] for t in s["targets"]]
    written = sum(t["rows_inserted"] for t in staged if t["table"] == "interactions")
    [counts] = sql(cli, home, "select count(*) as n, count(tags) as tagged from interactions")
    assert counts["n"] == counts["tagged"] == written > 0
    types = sql(cli, home, "select distinct complaint_type from interactions")
    assert {r["complaint_type"] for r in types} <= set(COMPLAINT_TYPES)
    rows = sql(cli, home, "select language, complaint_type, sentiment, tags from interactions")
    assert {r["language"] for r in rows} == {"zh", "en"}
    for row in rows:
        listed = json.loads(row["tags"])
        assert f"complaint:{row['complaint_type']}" in listed
        assert f"sentiment:{row['sentiment']}" in listed
    products = [t for r in rows for t in json.loads(r["tags"]) if t.startswith("product:")]
    assert products, "catalogue names from order_lines are found in the texts"


def test_tags_agree_with_the_generators_truth(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]]
) -> None:
    home, _report = tagged_demo
    truth = pq.read_table(home / "sources" / "demo" / "ground_truth" / "texts.parquet")
    expected = {
        (row["source"].removesuffix("s"), row["text_id"]): complaint_for_label(row["topic"])
        for row in truth.to_pylist()
    }
    rows = sql(cli, home, "select kind, source_key, language, complaint_type from interactions")
    assert len(rows) == len(expected)
    for language in ("zh", "en"):
        mine = [r for r in rows if r["language"] == language]
        right = sum(expected[(r["kind"], r["source_key"])] == r["complaint_type"] for r in mine)
        assert right / len(mine) >= 0.9, language


def test_only_untagged_rows_are_tagged_unless_full(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]]
) -> None:
    home, _report = tagged_demo
    again = ok(cli("--home", home, "text", "tag", "--json"))
    assert again["rows_read"] == 0
    staged = sql(cli, home, "select complaint_type, count(*) as n from interactions group by 1")
    full = ok(cli("--home", home, "text", "tag", "--full", "--json"))
    assert full["rows_tagged"] == sum(r["n"] for r in staged)
    assert full["complaint_types"] == {r["complaint_type"]: r["n"] for r in staged}
    runs = ok(cli("--home", home, "runs", "--json"))
    assert [r["kind"] for r in runs].count("text_tag") == 3  # demo, again, full


def test_workspace_rules_change_the_tags_after_a_full_run(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]]
) -> None:
    home, _report = tagged_demo
    written = cli("--home", home, "text", "config", "--write")
    assert written.code == 0, written
    assert cli("--home", home, "text", "config", "--write").code == 1  # never overwritten
    config = home / "config" / "text_mining.yaml"
    config.write_text(
        "rules:\n"
        "  - name: parcel_words\n"
        "    when: override\n"
        "    complaint_type: refund\n"
        "    tags: [parcel]\n"
        "    phrases: [物流, tracking]\n",
        encoding="utf-8",
    )
    report = ok(cli("--home", home, "text", "tag", "--full", "--json"))
    assert report["rules_fired"]["parcel_words"] > 0
    rows = sql(cli, home, "select complaint_type, tags from interactions where text like '%物流%'")
    assert rows
    for row in rows:
        assert row["complaint_type"] == "refund"
        assert {"rule:parcel_words", "parcel"} <= set(json.loads(row["tags"]))


def test_try_tags_one_text_without_storing_it(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]]
) -> None:
    home, _report = tagged_demo
    result = ok(cli("--home", home, "text", "try", "快递太慢了，等了八天还没到", "--json"))
    assert result["complaint_type"] == "logistics_delay"
    assert result["language"] == "zh"
    english = ok(cli("--home", home, "text", "try", "The zipper broke, poor quality", "--json"))
    assert english["complaint_type"] == "quality"
    [sold] = sql(cli, home, "select product_name from order_lines order by line_id limit 1")
    base = sold["product_name"].split(" ")[0]
    named = ok(cli("--home", home, "text", "try", f"买的{base}太小了", "--json"))
    assert f"product:{base}" in named["tags"]


def test_a_broken_rules_file_is_one_line_without_its_content(
    cli: Any, workspace_home: Path
) -> None:
    config = workspace_home / "config" / "text_mining.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("unsure_below: 7\n", encoding="utf-8")
    result = cli("--home", workspace_home, "text", "config")
    assert result.code == 1
    assert "text_mining.yaml: unsure_below" in result.stderr


TAG_QUERY = (
    "select source_key, text, complaint_type, sentiment, tags from interactions "
    "where kind = 'ticket' order by source_key"
)
LATE_PARCEL = "快递太慢了，等了八天还没到，物流信息一直不更新"


def _ingest_tickets(cli: Any, home: Path, tickets: Path, mapping: Path) -> dict[str, Any]:
    args = ("ingest", "file", tickets, "--source", "service_tickets", "--mapping", mapping)
    report: dict[str, Any] = ok(cli("--home", home, *args, "--json"))
    return report


def _stage_detail(cli: Any, home: Path, run_id: str, step: str) -> dict[str, Any]:
    steps = ok(cli("--home", home, "runs", run_id, "--json"))
    [found] = [s for s in steps if s["step"] == step]
    detail: dict[str, Any] = found["detail"]
    return detail


def test_restaging_keeps_tags_of_unchanged_texts_and_retags_changed_ones(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]]
) -> None:
    home, _report = tagged_demo
    demo = home / "sources" / "demo"
    tickets, mapping = demo / "service" / "tickets.jsonl", demo / "mappings.yaml"
    before = sql(cli, home, TAG_QUERY)
    assert before and all(r["tags"] is not None for r in before)

    same = _ingest_tickets(cli, home, tickets, mapping)
    assert same["sources"][0]["targets"][0]["rows_updated"] == len(before)
    assert sql(cli, home, TAG_QUERY) == before
    detail = _stage_detail(cli, home, same["run_id"], "stage:interactions")
    assert (detail["tags_kept"], detail["tags_renewed"], detail["untagged"]) == (len(before), 0, 0)

    lines = tickets.read_text(encoding="utf-8").splitlines()
    changed = next(
        i for i, line in enumerate(lines)
        if json.loads(line)["language"] == "zh"
        and next(r for r in before if r["source_key"] == json.loads(line)["ticket_id"])[
            "complaint_type"] != "logistics_delay"
    )  # fmt: skip
    record = json.loads(lines[changed]) | {"text": LATE_PARCEL}
    lines[changed] = json.dumps(record, ensure_ascii=False)
    tickets.write_text("\n".join(lines) + "\n", encoding="utf-8")

    edited = _ingest_tickets(cli, home, tickets, mapping)
    after = {r["source_key"]: r for r in sql(cli, home, TAG_QUERY)}
    retagged = after.pop(record["ticket_id"])
    assert retagged["text"] == LATE_PARCEL
    assert retagged["complaint_type"] == "logistics_delay"
    assert "complaint:logistics_delay" in json.loads(retagged["tags"])
    assert after == {r["source_key"]: r for r in before if r["source_key"] != record["ticket_id"]}
    detail = _stage_detail(cli, home, edited["run_id"], "stage:interactions")
    assert (detail["tags_kept"], detail["tags_renewed"]) == (len(before) - 1, 1)
    assert ok(cli("--home", home, "text", "tag", "--json"))["rows_read"] == 0


def test_replayed_interactions_are_tagged_when_they_land(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    home, _report = tagged_demo
    mapping = tmp_path / "mappings.yaml"
    mapping.write_text(
        (home / "sources" / "demo" / "mappings.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    tickets = tmp_path / "tickets_late.jsonl"
    record = {"ticket_id": None, "case_no": "CASE-9", "created_at": "2024-12-01 10:00:00",
              "channel": "app", "customer_name": "王芳", "member_id": None, "phone": None,
              "email": None, "order_id": None, "language": "zh", "text": LATE_PARCEL,
              "status": "open"}  # fmt: skip
    tickets.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    first = _ingest_tickets(cli, home, tickets, mapping)
    assert first["sources"][0]["rows_unmapped"] == 1

    text = mapping.read_text(encoding="utf-8")
    fixed = text.replace("key: ticket_id", "key: coalesce(ticket_id, case_no)", 1)
    assert fixed != text
    mapping.write_text(fixed, encoding="utf-8")
    replay = ok(cli("--home", home, "quarantine", "replay", "--source", "service_tickets",
                    "--mapping", mapping, "--json"))  # fmt: skip
    assert replay["replayed"] == 1
    [row] = sql(cli, home, "select complaint_type, tags from interactions "
                           "where source_key = 'CASE-9'")  # fmt: skip
    assert row["complaint_type"] == "logistics_delay"
    assert "complaint:logistics_delay" in json.loads(row["tags"])


def test_labels_a_mapping_sets_win_and_the_other_tags_are_kept(
    cli: Any, tagged_demo: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    home, _report = tagged_demo
    demo = home / "sources" / "demo"
    text = (demo / "mappings.yaml").read_text(encoding="utf-8")
    label = "          complaint_type: \"'refund'\"\n"  # the source's own label
    labelled = text.replace("          text: text\n", "          text: text\n" + label, 1)
    assert labelled != text
    mapping = tmp_path / "mappings.yaml"
    mapping.write_text(labelled, encoding="utf-8")
    before = sql(cli, home, TAG_QUERY)

    _ingest_tickets(cli, home, demo / "service" / "tickets.jsonl", mapping)
    after = sql(cli, home, TAG_QUERY)
    assert {r["complaint_type"] for r in after} == {"refund"}
    assert [(r["sentiment"], r["tags"]) for r in after] == [
        (r["sentiment"], r["tags"]) for r in before
    ]
    assert ok(cli("--home", home, "text", "tag", "--json"))["rows_read"] == 0

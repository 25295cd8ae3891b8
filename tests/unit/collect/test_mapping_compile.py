"""Compiled mapping SQL (snapshot-tested so changes show up as diffs) and the required checks that
send unmappable rows to the quarantine with the rule that failed."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import ValidationError as PydanticValidationError

from custodia.collect.mapping_arrow import prepare_records, split_failures
from custodia.collect.mapping_spec import MappingFile, SourceMapping, load_mapping_file
from custodia.collect.mapping_sql import (
    compile_derive_sql,
    compile_target,
    compile_target_sql,
    mapping_arrow_steps,
    mapping_macros_sql,
)
from custodia.core.errors import ValidationError
from custodia.storage.transform import run_transform

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "mappings"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
LOADED_AT = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)


def _snapshot(name: str, sql: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("CUSTODIA_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(sql + "\n", encoding="utf-8")
    assert sql + "\n" == path.read_text(encoding="utf-8"), (
        f"{name} changed; review and rerun with CUSTODIA_UPDATE_SNAPSHOTS=1"
    )


@pytest.mark.parametrize(
    ("mapping", "source", "table"),
    [
        ("store_members.yaml", "store_members", "customer_records"),
        ("web_orders.yaml", "web_orders", "order_lines"),
    ],
)
def test_compiled_sql_matches_its_snapshot(mapping: str, source: str, table: str) -> None:
    mappings = load_mapping_file(EXAMPLES / mapping)
    src = mappings.source(source)
    target = next(t for t in src.targets if t.table == table)
    compiled = compile_target(
        src, target, lookups=mappings.lookups, run_id="run_snapshot", loaded_at=LOADED_AT
    )
    _snapshot(f"{source}_{table}.sql", compiled.staging_sql())


def _members() -> tuple[SourceMapping, MappingFile]:
    mappings = MappingFile.model_validate(
        {
            "lookups": {"gender": {"男": "M", "女": "F"}},
            "sources": [
                {
                    "name": "members",
                    "format": "csv",
                    "entity": "customers",
                    "rename": {"会员号": "member_no"},
                    "derive": {"clean_no": {"field": "member_no", "trim": True}},
                    "targets": [
                        {
                            "table": "customer_records",
                            "key": "clean_no",
                            "required": ["name"],
                            "columns": {
                                "member_id": "clean_no",
                                "name": "姓名",
                                "gender": {"field": "性别", "lookup": "gender", "required": True},
                                "registered_at": {
                                    "field": "注册",
                                    "parse_date": "auto",
                                    "required": True,
                                },
                            },
                        }
                    ],
                }
            ],
        }
    )
    return mappings.sources[0], mappings


def _map(rows: list[dict[str, str | None]]) -> tuple[pa.Table, list[tuple[str, str, int | None]]]:
    source, mappings = _members()
    relation = pa.Table.from_pylist(rows).append_column(
        "_source_file", pa.array(["m.csv"] * len(rows))
    )
    relation = relation.append_column("_position", pa.array(range(1, len(rows) + 1), pa.int64()))
    records = prepare_records(relation, source, mapping_arrow_steps(source, mappings.lookups))
    setup = mapping_macros_sql(source)
    derive = compile_derive_sql(source, mappings.lookups)
    assert derive is not None
    records = run_transform(derive, relations={"source_records": records}, setup=setup)
    compiled = compile_target(
        source, source.targets[0], lookups=mappings.lookups, run_id="r", loaded_at=LOADED_AT
    )
    out = run_transform(compiled.staging_sql(), relations={"records": records}, setup=setup)
    mapped = split_failures(out, compiled)
    failures = [(f.field, f.rule, f.position) for f in mapped.failures]
    return mapped.passed, failures


def test_required_checks_name_the_column_and_the_step_that_failed() -> None:
    row = {"会员号": " M1 ", "姓名": "张伟", "性别": "男", "注册": "2025年3月1日"}
    rows = [
        row,
        {**row, "会员号": "M2", "注册": "2025-13-45"},
        {**row, "会员号": "M3", "性别": "未知"},
        {**row, "会员号": "M4", "姓名": None},
        {**row, "会员号": "  "},
        {**row, "会员号": "M6", "注册": None},
        {**row, "会员号": "M1", "姓名": "张伟 (dup)"},
        {**row, "会员号": "M8", "注册": "bad"},
        {**row, "会员号": "M8", "姓名": "Emily"},
    ]
    passed, failures = _map(rows)
    passed = passed.sort_by("member_id")
    assert passed.column("member_id").to_pylist() == ["M1", "M8"]  # duplicate keys kept once
    assert passed.column("name").to_pylist() == ["张伟", "Emily"]  # first passing record wins
    assert "__custodia_file" not in passed.column_names
    assert sorted(failures, key=lambda f: f[2] or 0) == [
        ("customer_records.registered_at", "date_format", 2),
        ("customer_records.gender", "lookup", 3),
        ("customer_records.name", "required", 4),
        ("customer_records.record_id", "required", 5),
        ("customer_records.registered_at", "required", 6),
        ("customer_records.registered_at", "date_format", 8),
    ]


def test_plain_select_keeps_the_old_contract() -> None:
    source, mappings = _members()
    sql = compile_target_sql(
        source, source.targets[0], run_id="r", loaded_at=LOADED_AT, lookups=mappings.lookups
    )
    assert sql.startswith("SELECT\n  TRY_CAST(custodia_key(clean_no) AS VARCHAR)")
    assert "__custodia" not in sql


def test_unknown_and_missing_required_columns_are_refused() -> None:
    source, mappings = _members()
    bad = source.targets[0].model_copy(update={"required": ["shoe_size"]})
    with pytest.raises(ValidationError, match=r"unknown target column\(s\) \['shoe_size'\]"):
        compile_target(source, bad, lookups=mappings.lookups, run_id="r", loaded_at=LOADED_AT)
    lines = MappingFile.model_validate(
        {
            "sources": [
                {
                    "name": "x",
                    "format": "csv",
                    "entity": "x",
                    "targets": [{"table": "order_lines", "key": "id", "columns": {"sku": "sku"}}],
                }
            ]
        }
    ).sources[0]
    with pytest.raises(ValidationError, match=r"table requires column\(s\) \['order_id'\]"):
        compile_target(lines, lines.targets[0], lookups={}, run_id="r", loaded_at=LOADED_AT)


def test_renames_that_collide_are_refused() -> None:
    source = SourceMapping.model_validate(
        {"name": "s", "format": "csv", "entity": "x", "rename": {"a": "b"}}
    )
    with pytest.raises(ValidationError, match="rename repeats"):
        prepare_records(pa.table({"a": [1], "b": [2]}), source, ())


def test_required_belongs_on_target_columns_not_derived_fields() -> None:
    with pytest.raises(PydanticValidationError, match="mark the target column required"):
        SourceMapping.model_validate(
            {
                "name": "s",
                "format": "csv",
                "entity": "x",
                "derive": {"d": {"field": "a", "required": True}},
            }
        )

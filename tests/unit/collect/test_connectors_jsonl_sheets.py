"""JSON Lines, Excel and Parquet readers: records with positions, problems kept aside, types."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from custodia.collect.jsonl_reader import read_jsonl_chunks
from custodia.collect.mapping_spec import SourceFormat
from custodia.collect.readers import infer_format, read_file_chunks
from custodia.collect.records import ReadProblem, RecordChunk
from custodia.collect.sheet_readers import read_excel_chunks, read_parquet_chunks
from custodia.core.errors import ValidationError


def _split(items: object) -> tuple[list[tuple[str, int, dict[str, object]]], list[ReadProblem]]:
    rows, problems = [], []
    for item in items:  # type: ignore[attr-defined]
        if isinstance(item, RecordChunk):
            rows += [(r.source_file, r.position, r.data) for r in item.records()]
        else:
            problems.append(item)
    return rows, problems


def test_jsonl_keeps_every_field_and_nesting_and_quarantines_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    lines = [
        json.dumps({"id": "O1", "items": [{"sku": "A", "qty": 1}], "ship": {"city": "上海"}}),
        "{broken",
        "",
        "[1, 2]",
        json.dumps({"id": "O2", "coupon": "NEW10", "items": [], "ship": None}),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "\xff"}\n')
    rows, problems = _split(read_jsonl_chunks(path, "orders.jsonl"))
    assert [(position, row["id"]) for _f, position, row in rows] == [(1, "O1"), (5, "O2")]
    assert rows[0][2]["ship"] == {"city": "上海"}
    assert rows[0][2]["coupon"] is None  # a field only a later record has is still kept
    assert rows[1][2]["coupon"] == "NEW10"
    assert [(p.position, p.rule) for p in problems] == [
        (2, "invalid_json"),
        (4, "not_an_object"),
        (6, "encoding"),
    ]


def test_jsonl_fields_whose_types_disagree_become_text(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    records = [{"placed": 1772719380000, "n": 1}, {"placed": "Mar 5, 2026", "n": 2}]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    (chunk,) = list(read_jsonl_chunks(path, "mixed.jsonl"))
    assert isinstance(chunk, RecordChunk)
    assert chunk.table.column("placed").to_pylist() == ["1772719380000", "Mar 5, 2026"]
    assert chunk.table.column("n").type == pa.int64()


def _workbook(path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "说明"
    first.append(["这张表只是说明"])
    sheet = book.create_sheet("会员名单")
    sheet.append([])
    sheet.append(["卡号", "姓名", "手机", "入会日期", None])
    sheet.append(["C001", "张伟", 13912345678, datetime(2025, 3, 1, 10, 30)])
    sheet.append([])
    sheet.append(["C002", "Emily Chen", "138-0000-1111", "2025年3月2日"])
    sheet.append(["C003", "王芳", 13700002222, datetime(2025, 3, 3), None, "多余"])
    book.save(path)


def test_excel_reads_the_named_sheet_with_excel_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "会员.xlsx"
    _workbook(path)
    rows, problems = _split(read_excel_chunks(path, "会员.xlsx", sheet="会员名单"))
    assert [(f, position, row["卡号"]) for f, position, row in rows] == [
        ("会员.xlsx#会员名单", 3, "C001"),
        ("会员.xlsx#会员名单", 5, "C002"),
    ]
    assert rows[0][2]["手机"] == "13912345678"  # a column mixing numbers and text is text
    assert rows[0][2]["入会日期"] == "2025-03-01T10:30:00"
    assert [(p.position, p.rule) for p in problems] == [(6, "excel_extra_cells")]
    first_sheet, _ = _split(read_excel_chunks(path, "会员.xlsx"))
    assert first_sheet == []  # the first sheet has a header and no data
    with pytest.raises(ValidationError, match="no sheet named"):
        list(read_excel_chunks(path, "会员.xlsx", sheet="Sheet9"))


def test_excel_keeps_types_when_a_column_agrees(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["n", "when", "ok"])
    sheet.append([1, datetime(2026, 3, 5, 14, 3), True])
    sheet.append([2, datetime(2026, 3, 6), False])
    book.save(path)
    (chunk,) = list(read_excel_chunks(path, "t.xlsx"))
    assert isinstance(chunk, RecordChunk)
    assert chunk.table.schema.field("n").type == pa.int64()
    assert pa.types.is_timestamp(chunk.table.schema.field("when").type)
    assert chunk.table.schema.field("ok").type == pa.bool_()


def test_parquet_in_batches_with_positions(tmp_path: Path) -> None:
    path = tmp_path / "members.parquet"
    table = pa.table({"card_no": [f"C{i}" for i in range(5)], "points": list(range(5))})
    pq.write_table(table, path)
    chunks = list(read_parquet_chunks(path, "members.parquet", chunk_rows=2))
    assert [c.num_rows for c in chunks] == [2, 2, 1]
    assert chunks[2].positions.to_pylist() == [5]
    assert chunks[0].table.schema.field("points").type == pa.int64()


def test_files_that_are_not_what_they_claim_fail_clearly(tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a readable Excel workbook"):
        list(read_excel_chunks(fake, "fake.xlsx"))
    fake_parquet = tmp_path / "fake.parquet"
    fake_parquet.write_text("nope", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a readable Parquet file"):
        list(read_parquet_chunks(fake_parquet, "fake.parquet"))


def test_dispatch_by_format_over_a_glob(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("id\n1\n2\n", encoding="utf-8")
    rows, _ = _split(read_file_chunks(tmp_path, "*.csv", SourceFormat.CSV))
    assert [(f, p) for f, p, _row in rows] == [
        ("a.csv", 1),
        ("a.csv", 2),
        ("b.csv", 1),
        ("b.csv", 2),
    ]
    assert infer_format("x/会员.XLSX") is SourceFormat.EXCEL
    assert infer_format("orders.ndjson") is SourceFormat.JSONL
    assert infer_format("notes.docx") is None
    with pytest.raises(ValidationError, match="no source file matches"):
        list(read_file_chunks(tmp_path, "*.parquet", SourceFormat.PARQUET))
    with pytest.raises(ValidationError, match="not a file format"):
        list(read_file_chunks(tmp_path, "*.csv", SourceFormat.SQL))

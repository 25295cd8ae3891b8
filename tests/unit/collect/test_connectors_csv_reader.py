"""CSV reader: encodings (UTF-8, BOM, GBK/GB18030 detected or declared), broken rows kept for the
quarantine with their exact position, and the rest of the file loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.collect.csv_reader import read_csv_chunks
from custodia.collect.records import ReadProblem, RecordChunk
from custodia.collect.text_encoding import normalize_encoding, scan_encoding
from custodia.core.errors import ValidationError

HEADER = "会员编号,姓名,手机\n"


def _read(
    path: Path, **options: object
) -> tuple[list[tuple[int, dict[str, object]]], list[ReadProblem]]:
    rows: list[tuple[int, dict[str, object]]] = []
    problems: list[ReadProblem] = []
    for item in read_csv_chunks(path, path.name, **options):  # type: ignore[arg-type]
        if isinstance(item, RecordChunk):
            rows += [(r.position, r.data) for r in item.records()]
        else:
            problems.append(item)
    return rows, problems


def test_values_stay_text_and_empty_cells_are_null(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(HEADER + "M1,张伟,013912345678\nM2,,\n", encoding="utf-8")
    rows, problems = _read(path)
    assert problems == []
    assert rows == [
        (1, {"会员编号": "M1", "姓名": "张伟", "手机": "013912345678"}),
        (2, {"会员编号": "M2", "姓名": None, "手机": None}),
    ]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_encoding_is_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "members.csv"
    path.write_bytes((HEADER + "M1,欧阳娜娜,13912345678\n").encode(encoding))
    rows, problems = _read(path)
    assert problems == []
    assert rows == [(1, {"会员编号": "M1", "姓名": "欧阳娜娜", "手机": "13912345678"})]


def test_gbk_file_whose_first_megabytes_are_ascii_is_still_detected(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    ascii_rows = "".join(f"M{i},Name{i},139{i:08d}\n" for i in range(40_000))
    path.write_bytes((HEADER + ascii_rows + "M9,张伟,13900000000\n").encode("gbk"))
    assert scan_encoding(path).encoding == "gb18030"
    rows, problems = _read(path)
    assert problems == []
    assert rows[-1] == (40_001, {"会员编号": "M9", "姓名": "张伟", "手机": "13900000000"})


def test_a_row_with_more_or_fewer_fields_is_quarantined_and_the_rest_loads(tmp_path: Path) -> None:
    path = tmp_path / "pos.csv"
    path.write_text(
        HEADER + "M1,张伟,139\nM2,李娜\nM3,王芳,138,extra\nM4,赵强,137\n", encoding="utf-8"
    )
    rows, problems = _read(path)
    assert [position for position, _ in rows] == [1, 4]
    assert [(p.position, p.rule, p.raw) for p in problems] == [
        (2, "csv_missing_fields", "M2,李娜"),
        (3, "csv_extra_fields", "M3,王芳,138,extra"),
    ]
    assert problems[0].reason == "the row has 2 fields, the header has 3"
    assert "李娜" not in problems[0].reason


def test_positions_stay_exact_across_blocks_and_quoted_newlines(tmp_path: Path) -> None:
    lines = [
        f'M{i},"多行\n备注{i}",139' if i % 7 == 0 else f"M{i},名{i},139" for i in range(1, 3001)
    ]
    lines[1499] = "M1500,broken"
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    rows, problems = _read(path, block_bytes=4096)
    assert [(p.position, p.rule) for p in problems] == [(1500, "csv_missing_fields")]
    assert len(rows) == 2999
    by_position = dict(rows)
    assert by_position[1501]["会员编号"] == "M1501"
    assert by_position[7]["姓名"] == "多行\n备注7"
    assert by_position[3000]["会员编号"] == "M3000"


def test_undecodable_lines_are_quarantined_with_their_position(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    data = (HEADER + "M1,张伟,139\n").encode("gbk") + b"M2,\xff\xff\xff,138\n"
    data += "M3,李娜,137\n".encode("gbk")
    path.write_bytes(data)
    rows, problems = _read(path)
    assert [(position, row["姓名"]) for position, row in rows] == [(1, "张伟"), (3, "李娜")]
    assert [(p.position, p.rule) for p in problems] == [(2, "encoding")]
    assert problems[0].raw.startswith("M2,\\xff")
    assert "gb18030" in problems[0].reason


def test_a_declared_wrong_encoding_quarantines_the_lines_it_cannot_decode(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(("id,name\n1,Alice\n2,张伟\n").encode("gbk"))
    rows, problems = _read(path, encoding="utf-8")
    assert rows == [(1, {"id": "1", "name": "Alice"})]
    assert [(p.position, p.rule) for p in problems] == [(2, "encoding")]
    rows, problems = _read(path, encoding="GBK")
    assert problems == [] and rows[1] == (2, {"id": "2", "name": "张伟"})


def test_repeated_and_empty_header_names_get_suffixes(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id, name ,,id\n1,a,b,c\n", encoding="utf-8")
    rows, _ = _read(path)
    assert rows == [(1, {"id": "1", "name": "a", "column_3": "b", "id_2": "c"})]


def test_tab_separated_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text("id\tcity\n1\t上海, 静安\n", encoding="utf-8")
    rows, _ = _read(path, delimiter="\t")
    assert rows == [(1, {"id": "1", "city": "上海, 静安"})]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _read(empty) == ([], [])
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER, encoding="utf-8")
    assert _read(header_only) == ([], [])


def test_unknown_encoding_names_the_option(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="unknown encoding 'klingon'"):
        _read(path, encoding="klingon")
    assert normalize_encoding("GBK") == "gbk"
    assert normalize_encoding("utf8") == "utf-8"

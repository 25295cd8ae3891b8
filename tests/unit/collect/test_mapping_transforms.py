"""Declarative mapping transforms, compiled to SQL and run on DuckDB (and Arrow where SQL cannot):
dates in Chinese and English formats, casts, split and join, constants, lookups, defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError as PydanticValidationError

from custodia.collect.mapping_arrow import prepare_records
from custodia.collect.mapping_dialect import DUCKDB
from custodia.collect.mapping_spec import MappingFile, SourceMapping
from custodia.collect.mapping_transforms import (
    ColumnTransform,
    LookupTable,
    TemporalKind,
    compile_column,
)
from custodia.core.errors import ValidationError
from custodia.storage.transform import run_transform

LOOKUPS: dict[str, LookupTable] = {"gender": {"男": "M", "女": "F", "1": "M", "2": "F"}}


def evaluate(
    spec: dict[str, Any] | str,
    values: list[Any],
    *,
    temporal: TemporalKind | None = None,
    zone: str = "Asia/Shanghai",
    extra: dict[str, list[Any]] | None = None,
) -> list[Any]:
    """Run one compiled column over a records table whose field ``v`` holds ``values``."""
    column = ColumnTransform.model_validate(spec) if isinstance(spec, dict) else spec
    compiled = compile_column(column, lookups=LOOKUPS, temporal=temporal)
    records = pa.table({"v": values, **(extra or {})})
    source = SourceMapping(name="s", format="csv", entity="x", timezone=zone)
    records = prepare_records(records, source, compiled.arrow_steps)
    out = run_transform(
        f"SELECT {compiled.sql} AS out FROM records",
        relations={"records": records},
        setup=DUCKDB.macros(zone),
    )
    return out.column("out").to_pylist()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年3月5日", utc(2026, 3, 4, 16, 0)),
        ("2026年3月5日 14:03", utc(2026, 3, 5, 6, 3)),
        ("2026年3月5日14时03分", utc(2026, 3, 5, 6, 3)),
        ("２０２６年３月５日", utc(2026, 3, 4, 16, 0)),
        ("2026/3/5 14:03", utc(2026, 3, 5, 6, 3)),
        ("2026.3.5", utc(2026, 3, 4, 16, 0)),
        ("05-Mar-2026", utc(2026, 3, 4, 16, 0)),
        ("Mar 5, 2026", utc(2026, 3, 4, 16, 0)),
        ("March 5, 2026", utc(2026, 3, 4, 16, 0)),
        ("Mar 5, 2026 2:03 PM", utc(2026, 3, 5, 6, 3)),
        ("2026-03-05", utc(2026, 3, 4, 16, 0)),
        ("2026-03-05T14:03:00", utc(2026, 3, 5, 6, 3)),
        ("2026-03-05T14:03:00Z", utc(2026, 3, 5, 14, 3)),
        ("2026-03-05T14:03:00+08:00", utc(2026, 3, 5, 6, 3)),
        ("20260305", utc(2026, 3, 4, 16, 0)),
        ("1772719380", utc(2026, 3, 5, 14, 3)),
        ("1772719380000", utc(2026, 3, 5, 14, 3)),
        ("2026-02-30", None),
        ("2026年13月5日", None),
        ("next Tuesday", None),
        (None, None),
    ],
)
def test_auto_dates_chinese_english_iso_epoch(text: str | None, expected: datetime | None) -> None:
    assert evaluate({"field": "v", "parse_date": "auto"}, [text]) == [expected]


def test_dates_for_a_date_column_are_the_local_calendar_day() -> None:
    values = ["2026年3月5日", "2026-03-05T23:30:00Z", "1772719380"]
    got = evaluate({"field": "v", "parse_date": "auto"}, values, temporal="date")
    assert got == [date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 5)]  # 23:30Z is 07:30 +8
    assert evaluate({"field": "v", "cast": "date"}, ["05-Mar-2026"]) == [date(2026, 3, 5)]


def test_explicit_formats_and_the_source_time_zone() -> None:
    spec = {"field": "v", "parse_date": ["%d/%m/%Y %H:%M"]}
    assert evaluate(spec, ["03/05/2026 14:03"]) == [utc(2026, 5, 3, 6, 3)]
    assert evaluate(spec, ["2026年3月5日"]) == [None]  # only the listed formats
    london = evaluate(
        {"field": "v", "parse_date": "auto"}, ["2026-07-01 12:00"], zone="Europe/London"
    )
    assert london == [utc(2026, 7, 1, 11, 0)]


def test_numeric_and_boolean_casts_accept_what_exports_contain() -> None:
    amounts = ["¥1,299.00", "￥８９９", " 12.5 ", "$3", "abc", None]
    assert evaluate({"field": "v", "cast": "decimal(14,2)"}, amounts) == [
        Decimal("1299.00"), Decimal("899.00"), Decimal("12.50"), Decimal("3.00"), None, None,
    ]  # fmt: skip
    assert evaluate({"field": "v", "cast": "int"}, ["1,024", "x"]) == [1024, None]
    flags = ["是", "否", "Y", "no", "TRUE", "0", "maybe"]
    assert evaluate({"field": "v", "cast": "bool"}, flags) == [
        True, False, True, False, True, False, None,
    ]  # fmt: skip
    assert evaluate({"field": "v", "cast": "text"}, [42]) == ["42"]


def test_split_join_trim_const_default() -> None:
    regions = ["华东/上海/静安", "华北", None]
    assert evaluate({"field": "v", "split": {"sep": "/", "part": 2}}, regions) == [
        "上海",
        None,
        None,
    ]
    assert evaluate({"field": "v", "split": {"sep": "/", "part": -1}}, regions) == [
        "静安",
        "华北",
        None,
    ]
    joined = evaluate(
        {"join": ["v", "city", "street"], "sep": " "},
        ["上海市", None],
        extra={"city": [None, None], "street": ["南京西路2号", None]},
    )
    assert joined == ["上海市 南京西路2号", None]
    assert evaluate({"field": "v", "trim": True}, ["  张伟 ", "   "]) == ["张伟", None]
    assert evaluate({"const": "pos"}, [1, 2]) == ["pos", "pos"]
    assert evaluate({"const": 7}, [1]) == [7]
    assert evaluate({"field": "v", "default": "CNY"}, ["USD", None]) == ["USD", "CNY"]


def test_lookups_named_inline_and_unmatched() -> None:
    assert evaluate({"field": "v", "lookup": "gender"}, ["男", "女", "1", "X", None]) == [
        "M", "F", "M", None, None,
    ]  # fmt: skip
    keep = {"field": "v", "lookup": {"金卡": "gold"}, "keep_unmatched": True}
    assert evaluate(keep, ["金卡", "钻石卡"]) == ["gold", "钻石卡"]
    with pytest.raises(ValidationError, match="unknown lookup 'levels'"):
        evaluate({"field": "v", "lookup": "levels"}, ["x"])


def test_nested_fields_expressions_and_unicode_normalisation_in_arrow() -> None:
    got = evaluate({"field": "ship.city"}, [1], extra={"ship": [{"city": "上海"}]})
    assert got == ["上海"]
    assert evaluate({"expr": "upper(v)"}, ["abc"]) == ["ABC"]
    compiled = compile_column(ColumnTransform(field="v", normalize="NFKC"), lookups={})
    assert [s.output for s in compiled.arrow_steps] == ["__nfkc__v"]
    assert evaluate({"field": "v", "normalize": "NFKC"}, ["ＡＢＣ１２３", "张伟"]) == [
        "ABC123",
        "张伟",
    ]


def test_failure_rules_say_which_step_failed() -> None:
    def rule(spec: dict[str, Any]) -> str:
        return compile_column(ColumnTransform.model_validate(spec), lookups=LOOKUPS).failure_rule

    assert rule({"field": "v", "parse_date": "auto"}) == "date_format"
    assert rule({"field": "v", "cast": "int"}) == "cast"
    assert rule({"field": "v", "lookup": "gender"}) == "lookup"
    assert rule({"field": "v"}) == "cast"  # only the column's own type can fail it
    assert compile_column("upper(v)", lookups={}).failure_rule == "required"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"field": "a", "const": 1}, "exactly one of field, expr, const or join"),
        ({}, "exactly one of field, expr, const or join"),
        ({"field": "a", "cast": "money"}, "unknown cast type"),
        ({"field": "a", "cast": "decimal(40,2)"}, "out of range"),
        ({"expr": "a", "normalize": "NFKC"}, "normalize applies to a `field`"),
        ({"field": "a", "split": {"sep": "/", "part": 0}}, "part numbers start at 1"),
        ({"field": "a", "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_transforms_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(PydanticValidationError, match=message):
        ColumnTransform.model_validate(spec)


def test_lookup_keys_are_text_and_yaml_booleans_are_refused() -> None:
    data = {"lookups": {"codes": {1: "one", "2": "two"}}, "sources": []}
    assert MappingFile.model_validate(data).lookups == {"codes": {"1": "one", "2": "two"}}
    with pytest.raises(PydanticValidationError, match="quote keys"):
        MappingFile.model_validate({"lookups": {"yn": {True: "是"}}, "sources": []})

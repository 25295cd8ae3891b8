"""Each standardizer: the canonical form, values it cannot read (None), and idempotence."""

from __future__ import annotations

import pyarrow as pa
import pytest

from custodia.pipeline.cleansing_standardizers import STANDARDIZERS, standardizer

CASES = [
    ("cn_mobile", "+86 138-1234-5678", "13812345678"),
    ("cn_mobile", "0086 13812345678", "13812345678"),
    ("cn_mobile", "+86-13812345678", "13812345678"),
    ("cn_mobile", "１３８１２３４５６７８", "13812345678"),
    ("cn_mobile", "+44 20 7946 0958", "+442079460958"),
    ("cn_mobile", "1381234567", None),
    ("cn_mobile", "1381234567a", None),
    ("e164", "138 1234 5678", "+8613812345678"),
    ("email", "  Anna.Li@Example.COM ", "anna.li@example.com"),
    ("email", "ａｎｎａ＠ｘ．ｃｎ", "anna@x.cn"),
    ("email", "no-at-sign", None),
    ("name", "李\u3000娜", "李娜"),
    ("name", "  Mary   Lee ", "Mary Lee"),
    ("address", "广东省 深圳市 南山区 科技园１号", "广东省深圳市南山区科技园1号"),
    ("text", " 广东\u3000省 ", "广东 省"),
    ("city", "上海", "上海市"),
    ("city", "上海市", "上海市"),
    ("city", "延边朝鲜族自治州", "延边朝鲜族自治州"),
    ("city", " Shanghai ", "Shanghai"),
    ("gender", "男", "M"),
    ("gender", "Female", "F"),
    ("gender", "f", "F"),
    ("gender", "unknown", None),
]


@pytest.mark.parametrize(("name", "raw", "expected"), CASES)
def test_canonical_form(name: str, raw: str, expected: str | None) -> None:
    assert standardizer(name)(raw) == expected


@pytest.mark.parametrize(("name", "raw", "expected"), [c for c in CASES if c[2] is not None])
def test_canonical_form_is_stable(name: str, raw: str, expected: str) -> None:
    assert STANDARDIZERS[name](expected) == expected


def test_a_column_is_standardized_once_per_distinct_value_with_row_counts() -> None:
    from custodia.pipeline.cleanse_standardize import standardize_array

    column = pa.chunked_array(
        [["上海", None, "上海市", "上海"], ["北京", None, "Shanghai "]], pa.string()
    )
    done = standardize_array(column, "city")
    assert done.values.to_pylist() == [
        "上海市",
        None,
        "上海市",
        "上海市",
        "北京市",
        None,
        "Shanghai",
    ]
    assert done.changed.tolist() == [True, False, False, True, True, False, True]
    assert (done.present, done.nonstandard_before, done.nonstandard_after) == (5, 4, 0)


def test_values_that_cannot_be_read_stay_and_are_counted_after() -> None:
    from custodia.pipeline.cleanse_standardize import standardize_array

    done = standardize_array(pa.array(["+86 138-1234-5678", "1381234567", None]), "cn_mobile")
    assert done.values.to_pylist() == ["13812345678", "1381234567", None]
    assert done.changed.tolist() == [True, False, False]
    assert (done.nonstandard_before, done.nonstandard_after) == (2, 1)

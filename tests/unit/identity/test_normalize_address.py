"""Address parser: province / city / district for Chinese addresses, pass-through for English."""

from __future__ import annotations

import pytest

from custodia.identity.normalize import PROVINCES, AddressParts, parse_address

CASES = [
    (
        "广东省 深圳市 南山区 科技园1号",
        AddressParts("广东省", "深圳市", "南山区", "科技园1号", "广东省深圳市南山区科技园1号"),
    ),
    (
        "上海市浦东新区世纪大道100号",
        AddressParts(
            "上海市", "上海市", "浦东新区", "世纪大道100号", "上海市浦东新区世纪大道100号"
        ),
    ),
    (
        "北京朝阳区建国路1号",  # municipality by its short name
        AddressParts("北京市", "北京市", "朝阳区", "建国路1号", "北京朝阳区建国路1号"),
    ),
    (
        "浙江杭州市西湖区文三路１２号",  # short province name, full-width digits
        AddressParts("浙江省", "杭州市", "西湖区", "文三路12号", "浙江杭州市西湖区文三路12号"),
    ),
    (
        "山东省济南市市中区经十路",  # a district whose name starts with 市
        AddressParts("山东省", "济南市", "市中区", "经十路", "山东省济南市市中区经十路"),
    ),
    (
        "吉林市船营区",  # the city 吉林市, not the province 吉林省
        AddressParts(None, "吉林市", "船营区", None, "吉林市船营区"),
    ),
    (
        "新疆维吾尔自治区乌鲁木齐市天山区",
        AddressParts(
            "新疆维吾尔自治区", "乌鲁木齐市", "天山区", None, "新疆维吾尔自治区乌鲁木齐市天山区"
        ),
    ),
    (
        "广西南宁市青秀区民族大道",
        AddressParts("广西壮族自治区", "南宁市", "青秀区", "民族大道", "广西南宁市青秀区民族大道"),
    ),
    (
        "江苏省苏州市昆山市前进路",  # county-level city as the district
        AddressParts("江苏省", "苏州市", "昆山市", "前进路", "江苏省苏州市昆山市前进路"),
    ),
    (
        "云南省西双版纳傣族自治州景洪市",
        AddressParts(
            "云南省", "西双版纳傣族自治州", "景洪市", None, "云南省西双版纳傣族自治州景洪市"
        ),
    ),
    (
        "徐汇区漕溪北路88号",  # the demo's form: district first
        AddressParts(None, None, "徐汇区", "漕溪北路88号", "徐汇区漕溪北路88号"),
    ),
    ("南京东路100号", AddressParts(None, None, None, "南京东路100号", "南京东路100号")),
    (
        "  1 Main St,   Springfield ",
        AddressParts(None, None, None, "1 Main St, Springfield", "1 Main St, Springfield"),
    ),
    (
        "Ｆｌａｔ 3, 10 Downing St",
        AddressParts(None, None, None, "Flat 3, 10 Downing St", "Flat 3, 10 Downing St"),
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_parse_address(raw: str, expected: AddressParts) -> None:
    assert parse_address(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  \u3000"])
def test_empty_address_has_no_parts(raw: str | None) -> None:
    assert parse_address(raw) == AddressParts()


def test_every_province_is_recognised_by_full_and_short_name() -> None:
    assert len(PROVINCES) == 34
    for full in PROVINCES:
        assert parse_address(f"{full}某某路1号").province == full
    assert parse_address("内蒙古呼和浩特市新城区").province == "内蒙古自治区"
    assert parse_address("黑龙江哈尔滨市南岗区").city == "哈尔滨市"

"""``catalog.yaml``: owners, descriptions (Chinese included) and tags, checked against the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.catalog.overrides import load_overrides, parse_overrides
from custodia.core.errors import ValidationError

GOOD = """\
version: 1
tables:
  orders:
    owner: 交易数据组 trade-data@example.com
    description: 线上商城与门店的订单，一单一行
    tags: [finance, daily]
    columns:
      total_amount: 实付金额（元，含运费）
  profiles:
    owner: crm-team
"""


def test_a_good_file_gives_owners_descriptions_tags_and_columns() -> None:
    overrides = parse_overrides(GOOD)
    orders = overrides.tables["orders"]
    assert orders.owner == "交易数据组 trade-data@example.com"
    assert orders.description == "线上商城与门店的订单，一单一行"
    assert orders.tags == ["finance", "daily"]
    assert orders.columns == {"total_amount": "实付金额（元，含运费）"}
    assert overrides.tables["profiles"].description is None


def test_a_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "catalog.yaml").tables == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("  profiles:", "  profile:"),
            "catalog.yaml line 9: 'profile' is not a table",
        ),
        (
            GOOD.replace("total_amount:", "total:"),
            "catalog.yaml line 3: 'total' is not a column of orders",
        ),
        (
            GOOD.replace("    tags:", "    labels:"),
            "catalog.yaml line 3, table orders: tables.orders",
        ),
        (GOOD.replace("owner: crm-team", "owner: ''"), "line 9, table profiles"),
        ("tables:\n  orders: [unclosed\n", "catalog.yaml line 3"),
        ("- just\n- a list\n", "catalog.yaml: must be a mapping"),
    ],
)
def test_mistakes_name_the_line_and_the_table(text: str, expected: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_overrides(text, origin="catalog.yaml")
    assert expected in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_bytes("tables:\n  orders:\n    owner: 交易\n".encode("gb18030"))
    with pytest.raises(ValidationError, match="not UTF-8"):
        load_overrides(path)

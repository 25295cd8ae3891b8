"""Reading a cleansing file: the shipped one is valid, and each kind of mistake is named with the
file, the line and the section entry."""

from __future__ import annotations

import pytest

from custodia.core.errors import ValidationError
from custodia.pipeline.cleansing_spec import parse_cleansing, shipped_cleansing_text

VALID = """\
version: 1
deduplicate:
  - name: tickets
    table: interactions
    key: [kind, customer_ref, created_at]
    keep: [loaded_at desc]
standardize:
  - table: orders
    columns: {ship_to_phone: cn_mobile}
fill:
  columns: [email]
"""


def test_the_shipped_file_is_valid() -> None:
    spec = parse_cleansing(shipped_cleansing_text(), origin="shipped")
    assert [r.name for r in spec.deduplicate][-1] == "crm_second_signups"
    assert spec.fill is not None and "email" in spec.fill.columns


def test_a_valid_file() -> None:
    spec = parse_cleansing(VALID, origin="c.yaml")
    assert spec.deduplicate[0].action == "delete"
    assert spec.standardize[0].columns == {"ship_to_phone": "cn_mobile"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "key: [kind,",
            "key: [knid,",
            "c.yaml line 3, deduplicate #1 (tickets): key: 'knid' is not a column of interactions",
        ),
        (
            "keep: [loaded_at desc]",
            "keep: [loaded_at downwards]",
            "deduplicate #1 (tickets): keep: write 'column [asc|desc]'",
        ),
        ("table: interactions", "table: profiles", "cleansing changes staged tables only"),
        ("table: interactions", "table: nope", "unknown table 'nope'"),
        ("cn_mobile}", "phone_please}", "c.yaml line 8, standardize #1: ship_to_phone: unknown"),
        ("{ship_to_phone:", "{total_amount:", "total_amount is not a text column"),
        ("columns: [email]", "columns: [income_band]", "profiles do not hold income_band"),
        ("    keep:", '    where: "kind = "\n    keep:', "where is not a valid condition"),
        ("    keep:", "    where: \"knid = 'x'\"\n    keep:", "where: 'knid' is not a column"),
        ("version: 1", "version: 2", "c.yaml line 1, version"),
        ("fill:", "fill:\n  colour: red\n ", "line 11, fill"),
        ("deduplicate:", "deduplicate: [", "c.yaml line"),
    ],
)
def test_mistakes_name_file_line_and_entry(old: str, new: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_cleansing(VALID.replace(old, new, 1), origin="c.yaml")
    assert message in str(exc.value)

"""Tier files: first match wins, every score cell covered, errors name file, line and tier."""

from __future__ import annotations

import pytest

from custodia.analytics.rfm_tiers import cell_index, parse_tiers, shipped_tiers_text
from custodia.core.errors import ValidationError


def test_shipped_tiers_cover_every_cell_first_match_wins() -> None:
    tiers = parse_tiers(shipped_tiers_text(), origin="rfm_tiers.yaml")
    names = [t.name for t in tiers.tiers]
    assert names[0] == "高价值复购客户" and names[-1] == "已流失"
    by_cell = tiers.tier_of_cells()
    assert (by_cell >= 0).all()
    assert names[by_cell[cell_index(5, 5, 5)]] == "高价值复购客户"
    assert names[by_cell[cell_index(5, 1, 5)]] == "新客户"
    assert names[by_cell[cell_index(1, 1, 5)]] == "沉睡潜力客户"
    assert names[by_cell[cell_index(1, 1, 1)]] == "已流失"


def test_ranges_in_chinese_and_english_files() -> None:
    tiers = parse_tiers(
        "tiers:\n  - name: 重要客户\n    r: ' 4 - 5 '\n    m: 5\n  - name: others\n",
        origin="t.yaml",
    )
    assert (tiers.tiers[0].r, tiers.tiers[0].m) == ("4-5", "5")
    assert tiers.tier_of_cells()[cell_index(4, 1, 5)] == 0
    assert tiers.tier_of_cells()[cell_index(4, 1, 4)] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "tiers:\n  - name: a\n  - name: b\n    f: 5-4\n",
            "t.yaml line 3, tier b: f: a score range must run",
        ),
        ("tiers:\n  - name: a\n    r: 6\n  - name: z\n", "t.yaml line 2, tier a: r: a score range"),
        ("tiers:\n  - name: a\n    x: 1\n", "t.yaml line 2, tier a: x: Extra inputs"),
        ("tiers:\n  - r: 1\n", "t.yaml line 2, tier #1: name: Field required"),
        ("tiers:\n  - name: a\n    r: 5\n", "t.yaml: tiers: no tier holds scores r=1 f=1 m=1"),
        ("tiers:\n  - name: 新客户\n  - name: 新客户\n", "tier name 新客户 appears twice"),
        ("tiers: [\n", "t.yaml line 2"),
        ("tiers: []\n", "t.yaml: tiers: List should have at least 1 item"),
    ],
)
def test_errors_name_the_file_line_and_tier(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_tiers(text, origin="t.yaml")
    assert message in str(caught.value)

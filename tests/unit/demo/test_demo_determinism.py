"""Same seed and parameters give byte-identical files; the API refuses bad arguments."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from custodia.core.errors import ValidationError
from custodia.demo import background, generate_demo

SMALL = 120


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = generate_demo(tmp_path / "a", customers=SMALL, seed=3)
    second = generate_demo(tmp_path / "b", customers=SMALL, seed=3)
    assert first == second
    hashes_a, hashes_b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert len(hashes_a) > 20
    assert hashes_a == hashes_b


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", customers=SMALL, seed=3)
    generate_demo(tmp_path / "b", customers=SMALL, seed=4)
    hashes_a, hashes_b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    for name in ("crm/members.db", "ecommerce/orders.jsonl", "ground_truth.json"):
        assert hashes_a[name] != hashes_b[name]


def test_progress_reports_every_step_in_order(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    generate_demo(tmp_path / "p", customers=SMALL, seed=1, progress=lambda *a: calls.append(a))
    totals = {total for _, _, total in calls}
    assert len(totals) == 1
    assert [done for _, done, _ in calls] == list(range(1, totals.pop() + 1))
    assert calls[0][0] == "population"
    assert calls[-1][0] == "ground_truth"


def test_refuses_a_non_empty_output_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        generate_demo(tmp_path, customers=SMALL, seed=1)
    assert caught.value.field == "out_dir"
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(("customers", "seed", "field"), [(5, 1, "customers"), (SMALL, -1, "seed")])
def test_refuses_bad_parameters(tmp_path: Path, customers: int, seed: int, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        generate_demo(tmp_path / "x", customers=customers, seed=seed)
    assert caught.value.field == field


def test_forked_clickstream_writer_gives_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_demo(tmp_path / "inline", customers=SMALL, seed=5)
    monkeypatch.setattr(background, "PARALLEL_FROM_CUSTOMERS", 0)
    if not background.worth_forking(SMALL):
        pytest.skip("fork is unavailable or this process runs several threads")
    generate_demo(tmp_path / "forked", customers=SMALL, seed=5)
    assert _hashes(tmp_path / "inline") == _hashes(tmp_path / "forked")

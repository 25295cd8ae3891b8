"""Named RFM tiers: which (recency, frequency, monetary) score cells make a 高价值复购客户.

A tier file lists tiers in order; each profile gets the **first** tier whose score ranges all
hold (a range is ``4-5``, a single score ``3``, or left out: any score). The tiers together must
cover all 125 score cells, so every profile is named: a last tier without ranges catches the
rest. The shipped file is ``rfm_tiers.yaml`` in this package; a workspace overrides it with
``HOME/analytics/rfm_tiers.yaml``. Errors name the file, the line and the tier.

Example::

    tiers = parse_tiers(text, origin="rfm_tiers.yaml")
    tiers.tier_of_cells()[cell_index(5, 4, 4)]      # 0: the first tier, 高价值复购客户
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final

import numpy as np
import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from custodia.core.errors import ValidationError
from custodia.core.yaml_document import item_error, item_lines, load_yaml_mapping

__all__ = [
    "SCORE_LEVELS",
    "RfmTier",
    "RfmTierSet",
    "cell_index",
    "load_tiers_file",
    "parse_tiers",
    "shipped_tiers_text",
]

SCORE_LEVELS: Final = 5
"""Scores run from 1 (worst) to 5 (best)."""
_RANGE: Final = re.compile(r"\s*([1-5])\s*(?:-\s*([1-5])\s*)?")


def _score_range(value: Any) -> str | None:
    """``4-5``, ``3`` or ``None`` (any) -> the canonical text (``4-5``, ``3``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("a score range is a score 1-5 or a range such as 4-5")
    match = _RANGE.fullmatch(str(value))
    if match is None:
        raise ValueError("a score range is a score 1-5 or a range such as 4-5")
    lo = int(match.group(1))
    hi = int(match.group(2) or lo)
    if lo > hi:
        raise ValueError("a score range must run from low to high, e.g. 4-5")
    return str(lo) if lo == hi else f"{lo}-{hi}"


ScoreRange = Annotated[str | None, BeforeValidator(_score_range)]


class RfmTier(BaseModel):
    """One named tier: its name (any language), an optional English label, and score ranges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    label: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=500)
    r: ScoreRange = None
    f: ScoreRange = None
    m: ScoreRange = None

    @pydantic.field_validator("name")
    @classmethod
    def _name_shown(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a tier name must not be blank")
        return value.strip()

    def holds(self, r: int, f: int, m: int) -> bool:
        return all(_within(rng, score) for rng, score in ((self.r, r), (self.f, f), (self.m, m)))


def _within(rng: str | None, score: int) -> bool:
    if rng is None:
        return True
    lo, _, hi = rng.partition("-")
    return int(lo) <= score <= int(hi or lo)


def cell_index(r: int, f: int, m: int) -> int:
    """The position of a score cell (each score 1-5) in :meth:`RfmTierSet.tier_of_cells`."""
    return ((r - 1) * SCORE_LEVELS + (f - 1)) * SCORE_LEVELS + (m - 1)


class RfmTierSet(BaseModel):
    """The ordered tiers of a file; every score cell is named by exactly one (the first) tier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: list[RfmTier] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _names_unique_and_cells_covered(self) -> RfmTierSet:
        seen: set[str] = set()
        for tier in self.tiers:
            if tier.name in seen:
                raise ValueError(f"tier name {tier.name} appears twice")
            seen.add(tier.name)
        missing = np.flatnonzero(self.tier_of_cells() < 0)
        if missing.size:
            r, f, m = _cell_scores(int(missing[0]))
            raise ValueError(
                f"no tier holds scores r={r} f={f} m={m} ({missing.size} of 125 cells "
                "uncovered); add a last tier without ranges to catch the rest"
            )
        return self

    def tier_of_cells(self) -> np.ndarray:
        """For each of the 125 score cells (:func:`cell_index`), the first tier holding it
        (-1: none)."""
        out = np.full(SCORE_LEVELS**3, -1, dtype=np.int32)
        for cell in range(out.size):
            r, f, m = _cell_scores(cell)
            out[cell] = next((i for i, tier in enumerate(self.tiers) if tier.holds(r, f, m)), -1)
        return out


def _cell_scores(cell: int) -> tuple[int, int, int]:
    r, rest = divmod(cell, SCORE_LEVELS * SCORE_LEVELS)
    f, m = divmod(rest, SCORE_LEVELS)
    return r + 1, f + 1, m + 1


def shipped_tiers_text() -> str:
    return resources.files("custodia.analytics").joinpath("rfm_tiers.yaml").read_text("utf-8")


def parse_tiers(text: str, *, origin: str = "tiers") -> RfmTierSet:
    """Validate tier-file text; the first problem raises a ValidationError naming file, line
    and tier."""
    document, node = load_yaml_mapping(text, origin=origin, field="tiers")
    try:
        return RfmTierSet.model_validate(document)
    except pydantic.ValidationError as exc:
        raise item_error(
            exc, document, {"tiers": item_lines(node, "tiers")}, origin=origin, fallback="tiers"
        ) from None


def load_tiers_file(path: Path) -> RfmTierSet:
    """Read and validate a tier file (errors name the file and line, never its content)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise ValidationError("tiers", "exists", f"tier file {path.name} not found") from None
    except UnicodeDecodeError:
        raise ValidationError("tiers", "utf8", f"{path.name}: not UTF-8 text") from None
    return parse_tiers(text, origin=path.name)

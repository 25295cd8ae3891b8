"""A workspace settings file whose last valid version stays in force.

Used by the quality rules (``HOME/quality/rules.yaml``) and the cleansing steps
(``HOME/quality/cleansing.yaml``): a team edits the file; when a run reads it and it is valid, a
copy is kept beside it (``*.active.yaml``); when an edit breaks it, the error is reported and
the last valid copy stays in force (or the shipped defaults, when that copy is unreadable too,
e.g. written by an older version), so a typo never switches checks off. Reading never writes the
file itself: :meth:`FileInForce.ensure` (called by runs) writes the shipped version on first use.

Example::

    rules = FileInForce(home / "quality" / "rules.yaml", shipped_rules_text, parse_rules,
                        load_rule_file)
    value, origin, error = rules.in_force()
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from custodia.core.errors import ValidationError

__all__ = ["FileInForce", "InForce"]

T = TypeVar("T")


@dataclass(frozen=True)
class InForce(Generic[T]):
    value: T
    origin: str
    """The file's name, its active copy's name, or ``shipped``."""
    error: str | None = None
    """Why the file itself is not in force, when it is not."""


@dataclass(frozen=True)
class FileInForce(Generic[T]):
    path: Path
    shipped_text: Callable[[], str]
    parse: Callable[[str, str], T]
    """``parse(text, origin)``: the checked value, or a ValidationError naming file and line."""
    load: Callable[[Path], T]

    @property
    def active(self) -> Path:
        return self.path.with_name(self.path.stem + ".active" + self.path.suffix)

    def in_force(self) -> InForce[T]:
        """The file if valid (its active copy refreshed), else the fallbacks in order."""
        if not self.path.exists():
            return InForce(self.shipped(), "shipped")
        try:
            value = self.load(self.path)
        except ValidationError as exc:
            return self._fallback(str(exc))
        if not self.active.exists() or self.active.read_bytes() != self.path.read_bytes():
            shutil.copyfile(self.path, self.active)
        return InForce(value, self.path.name)

    def shipped(self) -> T:
        return self.parse(self.shipped_text(), "shipped")

    def ensure(self) -> None:
        """Write the shipped version if the workspace has no file yet."""
        if not self.path.exists():
            self.install(self.shipped_text(), origin="shipped")

    def install(self, text: str, *, origin: str) -> T:
        """Check ``text`` and, only if it is valid, make it the file (and its active copy)."""
        value = self.parse(text, origin)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path)
        shutil.copyfile(self.path, self.active)
        return value

    def _fallback(self, error: str) -> InForce[T]:
        if self.active.exists():
            try:
                return InForce(self.load(self.active), self.active.name, error)
            except ValidationError:
                pass
        return InForce(self.shipped(), "shipped", error)

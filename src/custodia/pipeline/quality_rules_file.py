"""Where the quality rules of a workspace live, and which rule set is in force.

``<home>/quality/rules.yaml`` is the file a team edits. When a run reads it and it is valid, a
copy is kept as ``<home>/quality/rules.active.yaml``; when an edit breaks it (a YAML syntax error,
an unknown column, a threshold of the wrong type), the error is reported with the file, line and
rule, and the last valid copy stays in force, so a typo never switches quality checks off. With
no file at all, the shipped rules for the canonical model (``quality_rules.yaml`` in this package)
are in force; the first quality run writes them to ``rules.yaml`` for the team to edit
(:func:`ensure_rules_file`). Reading the rules in force never creates the file, so read-only
callers (GET routes) leave the workspace as it was.

Example::

    in_force = rules_in_force(ws)
    in_force.ruleset.rules, in_force.origin, in_force.error
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from custodia.pipeline.file_in_force import FileInForce
from custodia.quality.models import RuleSet
from custodia.quality.rule_file import load_rule_file, parse_rules
from custodia.workspace import Workspace

__all__ = [
    "RulesInForce",
    "ensure_rules_file",
    "install_rules",
    "rules_in_force",
    "rules_path",
    "shipped_rules_text",
]


@dataclass(frozen=True)
class RulesInForce:
    ruleset: RuleSet
    origin: str
    """``rules.yaml``, ``rules.active.yaml`` (the last valid copy) or ``shipped``."""
    error: str | None = None
    """Why ``rules.yaml`` is not in force, when it is not."""


def rules_path(ws: Workspace) -> Path:
    return ws.home / "quality" / "rules.yaml"


def shipped_rules_text() -> str:
    return resources.files("custodia.pipeline").joinpath("quality_rules.yaml").read_text("utf-8")


def _rules_file(ws: Workspace) -> FileInForce[RuleSet]:
    return FileInForce(
        rules_path(ws), shipped_rules_text, lambda text, origin: parse_rules(text, origin=origin),
        load_rule_file,
    )  # fmt: skip


def rules_in_force(ws: Workspace) -> RulesInForce:
    """The rule set a run uses now (see the module docstring for the order)."""
    found = _rules_file(ws).in_force()
    return RulesInForce(found.value, found.origin, found.error)


def ensure_rules_file(ws: Workspace) -> None:
    """Write the shipped rules to ``rules.yaml`` if the workspace has no rule file yet."""
    _rules_file(ws).ensure()


def install_rules(ws: Workspace, text: str, *, origin: str = "rules") -> RuleSet:
    """Check rule text and, only if it is valid, make it the workspace's rule file."""
    return _rules_file(ws).install(text, origin=origin)

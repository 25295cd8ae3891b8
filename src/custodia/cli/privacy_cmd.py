"""``custodia privacy``: the workspace's privacy controls that are files, not records.

Commands::

    custodia --home H privacy classification [--json]     the policy in force
    custodia --home H privacy classification --check F    check a file, change nothing
    custodia --home H privacy classification --set F      check it and make it the workspace's

A broken file fails with one line naming the file, the line and the rule
(``F line 3: tiers.interactions.text: cannot lower the tier below L3``), never a value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from custodia.cli.context import state
from custodia.cli.output import print_json, print_rows
from custodia.core.tables import table_spec
from custodia.pipeline.staged_redaction import classification_file
from custodia.privacy.classification import ClassificationPolicy

privacy_app = typer.Typer(help="Privacy policy files: classification and free-text scanning.")


def register(app: typer.Typer) -> None:
    """Add ``classification`` to the ``privacy`` group (created if no one made it yet)."""
    group = next((g.typer_instance for g in app.registered_groups if g.name == "privacy"), None)
    if group is None:
        group = privacy_app
        app.add_typer(group, name="privacy")
    group.command("classification")(classification)


def classification(
    ctx: typer.Context,
    check: Annotated[Path | None, typer.Option("--check", help="Check FILE only.")] = None,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="Check FILE and install it in the workspace.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Show the classification policy in force, check a policy file, or install one."""
    if check is not None and set_file is not None:
        raise typer.BadParameter("give --check or --set, not both")
    if check is not None:
        policy = ClassificationPolicy.from_text(
            _read(check), origin=str(check), base=ClassificationPolicy.shipped()
        )
    else:
        with state(ctx).open_workspace() as ws:
            policies = classification_file(ws)
            policy = (
                policies.replace(_read(set_file), str(set_file))
                if set_file is not None
                else policies.current()
            )
    _show(policy, json_out)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {type(exc).__name__}") from None


def _show(policy: ClassificationPolicy, json_out: bool) -> None:
    rows = _rows(policy)
    if json_out:
        print_json(rows)
        return
    header = ["column", "tier_core", "tier", "scan", "action", "replace", "entities"]
    print_rows(header, [[row[h] for h in header] for row in rows], "Classification policy")


def _rows(policy: ClassificationPolicy) -> list[dict[str, Any]]:
    """One row per column the policy names: its tiers and its free-text rule, if any."""
    rows = []
    for name in sorted(set(policy.tiers) | set(policy.free_text)):
        table, _, column = name.partition(".")
        rule = policy.free_text.get(name)
        rows.append({
            "column": name,
            "tier_core": table_spec(table).column(column).tier.value,
            "tier": policy.tier(table, column).value,
            "scan": rule.scan if rule else None,
            "action": rule.action if rule else None,
            "replace": rule.replace if rule else None,
            "entities": dict(rule.entities) if rule and rule.entities else None,
        })  # fmt: skip
    return rows

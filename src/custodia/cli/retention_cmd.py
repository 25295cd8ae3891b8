"""``custodia retention``: the retention job and its policy file.

Commands::

    custodia --home H retention run [--dry-run] [--json]     enforce expiries and age limits
    custodia --home H retention runs [--limit N] [--json]    past runs with their receipts
    custodia --home H retention policy [--json]              the policy in force
    custodia --home H retention policy --check F             check a file, change nothing
    custodia --home H retention policy --set F               check it and install it

A broken policy file fails with one line naming the file, the line and the rule, never a value.
A run prints its receipt: counts per table and field, never a value.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from custodia.cli.context import os_user, state
from custodia.cli.output import print_json, print_rows, stderr_console
from custodia.cli.progress import progress_bar

if TYPE_CHECKING:
    from custodia.pipeline.retention_run import RetentionReceipt

retention_app = typer.Typer(help="The retention job: customers' expiries and age limits.")
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def run(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; change nothing.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Remove due customer expiries and rows past the policy's age limits; print the receipt."""
    from custodia.pipeline.retention_run import run_retention

    with state(ctx).open_workspace() as ws, progress_bar("retention", enabled=not json_out) as bar:
        receipt = run_retention(ws, actor=f"cli:{os_user()}", dry_run=dry_run, progress=bar)
    if json_out:
        print_json(receipt.model_dump(mode="json"))
        return
    _print_receipt(receipt)


@retention_app.command("runs")
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
    json_out: JsonFlag = False,
) -> None:
    """Past retention runs, newest first, with their receipts."""
    from custodia.pipeline.retention_run import retention_runs

    with state(ctx).open_workspace() as ws:
        found = retention_runs(ws, limit=limit)
    if json_out:
        print_json(found)
        return
    rows = [[r["run_id"], r["status"], r["started_at"], _dry(r), _total(r)] for r in found]
    print_rows(["run", "status", "started", "dry run", "removed"], rows, "Retention runs")


@retention_app.command("policy")
def policy(
    ctx: typer.Context,
    check: Annotated[Path | None, typer.Option("--check", help="Check FILE only.")] = None,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="Check FILE and install it in the workspace.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Show the retention policy in force, check a policy file, or install one."""
    from custodia.pipeline.retention_run import (
        install_retention_policy,
        retention_policy_in_force,
    )
    from custodia.privacy.retention import load_retention_file

    if check is not None and set_file is not None:
        raise typer.BadParameter("give --check or --set, not both")
    error = None
    if check is not None:
        found, origin = load_retention_file(check), str(check)
    elif set_file is not None:
        checked = load_retention_file(set_file)
        with state(ctx).open_workspace() as ws:
            text = set_file.read_text(encoding="utf-8")
            install_retention_policy(ws, text, origin=str(set_file), actor=f"cli:{os_user()}")
        found, origin = checked, str(set_file)
    else:
        with state(ctx).open_workspace() as ws:
            in_force = retention_policy_in_force(ws)
        found, origin, error = in_force.value, in_force.origin, in_force.error
    rows = found.as_rows()
    if json_out:
        print_json({"origin": origin, "error": error, "rules": rows})
        return
    if error:
        stderr_console().print(f"[bold red]retention.yaml is not in force[/]: {error}")
    header = ["rule", "table", "max_age_days", "columns", "purpose", "max_age_days_if_withdrawn"]
    print_rows(header, [[r[h] for h in header] for r in rows], f"Retention policy ({origin})")


def _print_receipt(receipt: RetentionReceipt) -> None:
    if receipt.policy_error:
        stderr_console().print(
            f"[bold red]retention.yaml is not in force[/]: {receipt.policy_error}\n"
            f"Using {receipt.policy} until it is fixed."
        )
    head = [["receipt", receipt.receipt_id], ["run", receipt.run_id],
            ["dry run", str(receipt.dry_run)], ["policy", receipt.policy],
            ["expiries enforced", str(len(receipt.expiries))]]  # fmt: skip
    counts = [[place, f"{n:,}"] for place, n in receipt.counts.items()]
    title = "Would remove (dry run)" if receipt.dry_run else "Removed"
    print_rows(["item", "value"], head + counts, title)


def _dry(run: dict[str, Any]) -> str:
    params = run.get("params") or {}
    return str(params.get("dry_run", "")) if isinstance(params, dict) else ""


def _total(run: dict[str, Any]) -> str:
    receipt = run.get("receipt") or {}
    counts = receipt.get("counts", {}) if isinstance(receipt, dict) else {}
    return f"{sum(v for k, v in counts.items() if k.startswith(('lake.', 'store.'))):,}"

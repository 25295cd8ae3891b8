"""``custodia plan``: set, show and clear the tracking plan of a collector source."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.collect.tracking_plan import load_plan_file, parse_plan
from custodia.core.errors import ValidationError
from custodia.storage.store_plans import TrackingPlanStore

plan_app = typer.Typer(help="Tracking plans: what events each collector source may send.")

SourceArg = Annotated[str, typer.Argument(help="Collector source name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")


@plan_app.command("set")
def set_plan(
    ctx: typer.Context,
    source: SourceArg,
    plan_file: Annotated[Path, typer.Argument(help="Tracking plan (JSON) to apply.")],
    json_out: JsonFlag = False,
) -> None:
    """Check a plan file and make it the source's plan (replaces the previous one)."""
    plan = load_plan_file(plan_file)
    with state(ctx).open_workspace() as ws:
        TrackingPlanStore(ws.store, ws.clock).set(
            source, plan.document(), actor="custodia plan set"
        )
    summary = {
        "source": source,
        "events": sorted(plan.spec.events),
        "unplanned_events": plan.spec.unplanned_events.value,
        "unplanned_properties": plan.spec.unplanned_properties.value,
        "schema_violations": plan.spec.schema_violations.value,
    }
    if json_out:
        print_json(summary)
        return
    stdout_console().print(
        f"[green]Tracking plan set[/] for {source}: {len(summary['events'])} event(s); "
        f"unplanned events: {summary['unplanned_events']}, unplanned properties: "
        f"{summary['unplanned_properties']}, schema violations: {summary['schema_violations']}"
    )


@plan_app.command("show")
def show_plan(ctx: typer.Context, source: SourceArg) -> None:
    """Print the source's plan as JSON (an error when it has none)."""
    with state(ctx).open_workspace() as ws:
        plans = TrackingPlanStore(ws.store, ws.clock)
        if not plans.exists(source):
            raise ValidationError("source", "exists", f"no collector source '{source}'")
        document = plans.get(source)
    if document is None:
        raise ValidationError("tracking_plan", "exists", f"source '{source}' has no tracking plan")
    print_json(parse_plan(document).document())


@plan_app.command("clear")
def clear_plan(ctx: typer.Context, source: SourceArg) -> None:
    """Remove the source's plan: its events are no longer checked."""
    with state(ctx).open_workspace() as ws:
        TrackingPlanStore(ws.store, ws.clock).set(source, None, actor="custodia plan clear")
    stdout_console().print(f"Tracking plan of {source} cleared")

"""``custodia identity`` and ``custodia profile``: resolve, explain, unmerge, look up.

Commands::

    custodia --home H identity resolve [--full] [--json]
    custodia --home H identity explain PROFILE [--json]
    custodia --home H identity unmerge PROFILE --record R [--reason TEXT] [--json]
    custodia --home H identity spec [--check FILE | --set FILE]
    custodia --home H profile show ID_TYPE:VALUE [--json]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.cli.progress import progress_bar

if TYPE_CHECKING:
    from custodia.pipeline.identity_resolve import ResolveReport
    from custodia.pipeline.identity_review import Explanation

identity_app = typer.Typer(help="Identity resolution: profiles, explanations and unmerges.")
profile_app = typer.Typer(help="Customer 360 profiles, found by any identifier.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(identity_app, name="identity")
    app.add_typer(profile_app, name="profile")


@identity_app.command("resolve")
def resolve(
    ctx: typer.Context,
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild every edge and cluster, retrain the model.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Resolve new records into profiles (incremental; --full to rebuild)."""
    from custodia.pipeline.identity_resolve import resolve_identities

    with state(ctx).open_workspace() as ws, progress_bar("identity", enabled=not json_out) as bar:
        report = resolve_identities(ws, full=full, progress=bar)
    if json_out:
        print_json(report.model_dump(mode="json"))
    else:
        _print_resolve(report)


def _print_resolve(report: ResolveReport) -> None:
    console = stdout_console()
    table = Table(title=f"Identity resolution {report.run_id}", show_header=False)
    table.add_row("records in scope", f"{report.records_in_scope:,}")
    table.add_row("records flagged", f"{report.records_flagged:,}")
    for reason, count in report.flags.items():
        table.add_row(f"  flag {reason}", f"{count:,}")
    for rule, count in report.edges_added.items():
        table.add_row(f"new edges {rule}", f"{count:,}")
    for reason, count in report.edges_refused.items():
        table.add_row(f"edges refused {reason}", f"{count:,}")
    table.add_row("profiles created", f"{report.profiles_created:,}")
    table.add_row("profiles merged", f"{report.profiles_merged:,}")
    table.add_row("profiles (total)", f"{report.profiles_total:,}")
    if report.probabilistic_skipped:
        table.add_row("probabilistic matching", f"skipped: {report.probabilistic_skipped}")
    console.print(table)


@identity_app.command("explain")
def explain(
    ctx: typer.Context,
    profile: Annotated[str, typer.Argument(help="Profile id (a merged id finds the survivor).")],
    json_out: JsonFlag = False,
) -> None:
    """Which records make up a profile, which edges joined them, and why."""
    from custodia.pipeline.identity_review import explain_profile

    with state(ctx).open_workspace() as ws:
        explanation = explain_profile(ws, profile)
    if json_out:
        print_json(explanation.model_dump(mode="json"))
    else:
        _print_explanation(explanation)


def _print_explanation(ex: Explanation) -> None:
    console = stdout_console()
    head = f"Profile {ex.profile_id}"
    if ex.requested != ex.profile_id:
        head += f" (asked for {ex.requested}, merged into it)"
    console.print(f"[bold]{head}[/bold]")
    if ex.aliases:
        console.print("Merged ids: " + ", ".join(ex.aliases))
    records = Table(title="Records")
    for column in ("record", "source", "identifiers", "flags"):
        records.add_column(column)
    for r in ex.records:
        idents = ", ".join(f"{i['type']}={i['value']}" for i in r["identifiers"])
        flags = ", ".join(f"{f['field']}: {f['reason']}" for f in r["flags"])
        records.add_row(r["record_id"], r["source"], idents, flags)
    console.print(records)
    edges = Table(title="Edges")
    for column in ("left", "right", "rule", "score", "status", "evidence"):
        edges.add_column(column)
    for e in ex.edges:
        edges.add_row(
            e["left_record"], e["right_record"], e["rule"], f"{e['score']:.3f}",
            e["status"], _short(e["evidence"]),
        )  # fmt: skip
    console.print(edges)


def _short(evidence: Any) -> str:
    if not evidence:
        return ""
    return ", ".join(f"{k}={v}" for k, v in evidence.items())


@identity_app.command("unmerge")
def unmerge(
    ctx: typer.Context,
    profile: Annotated[str, typer.Argument(help="The profile holding the record.")],
    record: Annotated[str, typer.Option("--record", help="Record id to split out.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the audit log).")
    ] = None,
    actor: Annotated[str, typer.Option("--actor", help="Who is doing it.")] = "cli",
    json_out: JsonFlag = False,
) -> None:
    """Split a record out of a profile; later runs keep it apart."""
    from custodia.pipeline.identity_review import unmerge_record

    with state(ctx).open_workspace() as ws:
        result = unmerge_record(ws, profile, record_id=record, actor=actor, reason=reason)
    if json_out:
        print_json(result.model_dump(mode="json"))
    else:
        stdout_console().print(
            f"Record {result.record_id} left {result.profile_id}; it is now in "
            f"{result.new_profile_id} ({result.edges_undone} edges undone)."
        )


@identity_app.command("spec")
def spec(
    ctx: typer.Context,
    check: Annotated[
        Path | None, typer.Option("--check", help="Validate a spec file without saving it.")
    ] = None,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="Validate and make this the workspace spec.")
    ] = None,
) -> None:
    """Print the workspace's identity spec (YAML), or check / install a new one."""
    from custodia.identity.spec_file import load_spec, save_spec
    from custodia.pipeline.identity_workspace import load_workspace_spec, spec_path

    console = stdout_console()
    if check is not None:
        load_spec(check)
        console.print(f"{check.name}: valid identity spec")
        return
    with state(ctx).open_workspace() as ws:
        if set_file is not None:
            save_spec(load_spec(set_file), spec_path(ws))
            console.print(f"Identity spec saved to {spec_path(ws)}")
            return
        load_workspace_spec(ws)
        typer.echo(spec_path(ws).read_text(encoding="utf-8"), nl=False)


@profile_app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="ID_TYPE:VALUE, e.g. phone:13812345678.")],
    json_out: JsonFlag = False,
) -> None:
    """Identity, behaviour, transactions, service history and tags of one person."""
    from custodia.pipeline.profile_view import ProfileView

    with state(ctx).open_workspace() as ws:
        view = ProfileView(ws)
        summary = view.summary(view.find(ref))
    if json_out:
        print_json(summary)
    else:
        _print_profile(summary)


def _print_profile(summary: dict[str, Any]) -> None:
    console = stdout_console()
    profile = summary["profile"]
    console.print(
        f"[bold]Profile {profile['profile_id']}[/bold]  records {profile['record_count']}  "
        f"seen {profile['first_seen'] or '?'} .. {profile['last_seen'] or '?'}"
    )
    traits = Table(title="Traits (golden record)")
    for column in ("attribute", "value", "source", "conflicts"):
        traits.add_column(column)
    for name, attr in sorted(profile["attributes"].items()):
        conflicts = ", ".join(f"{c['value']} ({c['source']})" for c in attr["conflicts"])
        traits.add_row(name, str(attr["value"]), attr["source"], conflicts)
    console.print(traits)
    idents = Table(title="Identities")
    for column in ("type", "value", "source"):
        idents.add_column(column)
    for item in summary["identities"]:
        idents.add_row(item["id_type"], item["value"], item["source"] or "")
    console.print(idents)
    for kind, columns in (
        ("orders", ("ordered_at", "channel", "total_amount", "status")),
        ("events", ("timestamp", "type", "event", "name")),
        ("interactions", ("created_at", "kind", "complaint_type", "sentiment")),
    ):
        page = summary[kind]
        table = Table(title=f"Latest {kind}" + (" (more available)" if page["has_more"] else ""))
        for column in columns:
            table.add_column(column)
        for item in page["items"]:
            table.add_row(*(str(item.get(c) if item.get(c) is not None else "") for c in columns))
        console.print(table)
    if summary["tags"]:
        console.print("Tags: " + "; ".join(
            f"{tag}: " + ", ".join(f"{v} {n}" for v, n in values.items())
            for tag, values in summary["tags"].items()
        ))  # fmt: skip

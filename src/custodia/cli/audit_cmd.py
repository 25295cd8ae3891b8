"""``custodia audit``: verify the tamper-evident audit chain and read it.

Commands::

    custodia --home H audit verify [--json]       exit 1 when the chain or its anchor is broken
    custodia --home H audit log [--subject PROFILE] [--action A] [--limit N] [--before SEQ] [--json]
    custodia --home H audit trail PROFILE [--limit N] [--before SEQ] [--json]
    custodia --home H audit anchor                 anchor the current head (after a review)

``verify`` recomputes the chain and checks it against the signed anchor in ``HOME/audit``; it
names the first broken entry. ``trail`` is a person's data-usage trail (who used which data for
what); ``PROFILE`` is any identifier (``phone:138…``) or a profile id. Entries hold names and
surrogate keys only, so everything here is safe to print.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated

import typer

from custodia.cli.context import state
from custodia.cli.output import fail, print_json, print_rows, stdout_console
from custodia.pipeline.data_usage import customer_usage, profile_ids_of
from custodia.storage.store import AuditLog

audit_app = typer.Typer(help="The audit chain: verify, log, a person's data-usage trail, anchor.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Limit = Annotated[int, typer.Option(min=1, max=500, help="How many entries (newest first).")]
Before = Annotated[
    int | None, typer.Option("--before", min=1, help="Only entries older than this seq (paging).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Recompute the chain, check it against the anchor, name the first broken entry."""
    with state(ctx).open_workspace() as ws:
        report = AuditLog(ws.store, ws.clock).verify()
    if json_out:
        print_json({**asdict(report), "summary": report.summary})
        if not report.ok:
            sys.exit(1)  # click drops typer.Exit's code outside standalone mode
        return
    if not report.ok:
        fail(report.summary)
    stdout_console().print(report.summary, markup=False, highlight=False)


@audit_app.command("log")
def log(
    ctx: typer.Context,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only entries about this person (PROFILE).")
    ] = None,
    action: Annotated[list[str] | None, typer.Option("--action", help="Only this action.")] = None,
    limit: Limit = 50,
    before: Before = None,
    json_out: JsonFlag = False,
) -> None:
    """Audit entries, newest first, optionally of one person or some actions."""
    with state(ctx).open_workspace() as ws:
        subjects = None if subject is None else profile_ids_of(ws, subject)
        entries = AuditLog(ws.store, ws.clock).entries(
            subject_refs=subjects, actions=action or None, limit=limit, before_seq=before
        )
    if json_out:
        print_json([asdict(e) for e in entries])
        return
    rows = [[e.seq, e.at, e.actor, e.action, e.resource, e.subject_ref, e.details] for e in entries]
    header = ["seq", "at", "actor", "action", "resource", "subject", "details"]
    print_rows(header, rows, "Audit log")


@audit_app.command("trail")
def trail(
    ctx: typer.Context,
    profile: Annotated[
        str, typer.Argument(help="ID_TYPE:VALUE of the person (phone:…) or a profile id.")
    ],
    limit: Limit = 100,
    before: Before = None,
    json_out: JsonFlag = False,
) -> None:
    """Who used which data of this person, for what and when (newest first)."""
    with state(ctx).open_workspace() as ws:
        found = customer_usage(ws, profile, limit=limit, before_seq=before)
    if json_out:
        print_json(asdict(found))
        return
    rows = [
        [u.seq, u.at, u.actor, u.action, u.purpose, ", ".join(u.fields), u.outcome]
        for u in found.uses
    ]
    header = ["seq", "at", "who", "action", "purpose", "fields", "outcome"]
    print_rows(header, rows, f"Data-usage trail of {', '.join(found.subject_refs)}")


@audit_app.command("anchor")
def anchor(ctx: typer.Context) -> None:
    """Anchor the chain's current head: after a crash left entries unanchored, or to adopt a
    log written before anchoring existed. Run ``audit verify`` first and review what it says."""
    with state(ctx).open_workspace() as ws:
        head = AuditLog(ws.store, ws.clock).anchor_head()
    message = "audit log is empty" if head is None else f"anchored entry {head.seq}"
    stdout_console().print(message, markup=False, highlight=False)

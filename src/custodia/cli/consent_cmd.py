"""``custodia consent``: record and read consent per purpose.

Commands::

    custodia --home H consent grant PROFILE --purpose P [--purpose P2] --notice V --channel C
                                    [--actor customer|guardian|agent:WHO] [--expires ISO]
    custodia --home H consent withdraw PROFILE --purpose P [--purpose P2] --channel C [--actor A]
    custodia --home H consent show PROFILE [--at ISO] [--history]
    custodia --home H consent allowed PURPOSE [--at ISO]

``PROFILE`` is any identifier of the person (``phone:138…``, ``member_id:M1``) or a profile id.
Purposes: marketing, personalization, analytics, risk, sharing, sensitive. Each purpose recorded
writes one ledger row and one audit entry; the entry's actor is ``cli:<OS user>``. Every command
takes ``--json``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from custodia.cli.context import os_user, state
from custodia.cli.output import print_json, print_rows
from custodia.privacy.consent import ConsentChoice

consent_app = typer.Typer(help="Consent per purpose: grant, withdraw, show, allowed.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
ProfileArg = Annotated[
    str, typer.Argument(help="ID_TYPE:VALUE of the person (phone:…, member_id:…) or a profile id.")
]
PurposeOption = Annotated[
    list[str],
    typer.Option("--purpose", "-p", help="marketing, personalization, analytics, risk, sharing, "
                 "sensitive (repeat for several)."),
]  # fmt: skip
ChannelOption = Annotated[
    str, typer.Option("--channel", help="Where the choice was made: web, app, store, portal, …")
]
ActorOption = Annotated[
    str, typer.Option("--actor", help="Whose choice: customer, guardian or agent:WHO.")
]
AtOption = Annotated[
    datetime | None,
    typer.Option("--at", help="As of this time (ISO 8601, UTC if no offset); default now."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")


@consent_app.command("grant")
def grant(
    ctx: typer.Context,
    profile: ProfileArg,
    purposes: PurposeOption,
    notice: Annotated[str, typer.Option("--notice", help="Version of the notice shown.")],
    channel: ChannelOption,
    actor: ActorOption = "customer",
    expires: Annotated[
        datetime | None, typer.Option("--expires", help="When the grant lapses (UTC).")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Record a grant of each purpose (a guardian's grant lets a minor be marketed to)."""
    _record(ctx, profile, json_out, lambda pid: [
        ConsentChoice.grant(pid, purpose, notice_version=notice, channel=channel, actor=actor,
                            expires_at=_aware(expires))
        for purpose in purposes
    ])  # fmt: skip


@consent_app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    profile: ProfileArg,
    purposes: PurposeOption,
    channel: ChannelOption,
    actor: ActorOption = "customer",
    json_out: JsonFlag = False,
) -> None:
    """Record a withdrawal of each purpose; the next use of the data already honours it."""
    _record(ctx, profile, json_out, lambda pid: [
        ConsentChoice.withdraw(pid, purpose, channel=channel, actor=actor) for purpose in purposes
    ])  # fmt: skip


@consent_app.command("show")
def show(
    ctx: typer.Context,
    profile: ProfileArg,
    at: AtOption = None,
    history: Annotated[bool, typer.Option("--history", help="Every record, oldest first.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Each purpose: allowed or not and why, the minor flag and the personalization switch."""
    from custodia.pipeline.consent_subjects import (
        consent_ledger,
        consent_profile,
        consent_record_view,
        consent_state_view,
    )

    with state(ctx).open_workspace() as ws:
        pid = consent_profile(ws, profile)
        ledger = consent_ledger(ws)
        view = consent_state_view(ledger.state(pid, _aware(at)))
        if history:
            view["history"] = [consent_record_view(row) for row in ledger.history(pid)]
    if json_out:
        print_json(view)
        return
    rows = [
        [
            purpose,
            "yes" if item["allowed"] else "no",
            item["reason"],
            *_record_cells(item["record"]),
        ]
        for purpose, item in view["purposes"].items()
    ]
    title = (
        f"Consents of {pid} (minor: {'yes' if view['minor'] else 'no'}, "
        f"personalization: {'on' if view['personalization'] else 'off'})"
    )
    print_rows(["purpose", "allowed", "reason", "recorded", "channel", "actor", "notice",
                "expires"], rows, title)  # fmt: skip


@consent_app.command("allowed")
def allowed(
    ctx: typer.Context,
    purpose: Annotated[str, typer.Argument(help="The purpose to check.")],
    at: AtOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Every profile whose data may be used for PURPOSE now (or at --at)."""
    from custodia.pipeline.consent_subjects import consent_ledger

    with state(ctx).open_workspace() as ws:
        profiles = sorted(consent_ledger(ws).allowed_profiles(purpose, _aware(at)))
    if json_out:
        print_json({"purpose": purpose.strip().lower(), "profiles": profiles})
        return
    print_rows(["profile"], [[p] for p in profiles], f"{len(profiles)} profiles allowed")


def _record(
    ctx: typer.Context,
    profile: str,
    json_out: bool,
    choices_of: Callable[[str], list[ConsentChoice]],
) -> None:
    """Validate every choice first (a refusal is audited), then record each (one ledger row and
    one audit entry each)."""
    from custodia.pipeline.consent_subjects import consent_ledger, consent_profile

    with state(ctx).open_workspace() as ws:
        pid = consent_profile(ws, profile)
        ledger = consent_ledger(ws)
        recorded_by = f"cli:{os_user()}"
        with ledger.refusals_audited(pid, recorded_by=recorded_by):
            choices = choices_of(pid)
        rows = [ledger.record(choice, recorded_by=recorded_by) for choice in choices]
    _print_records(rows, json_out)


def _aware(value: datetime | None) -> datetime | None:
    """Typer parses times without an offset: read them as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _record_cells(record: dict[str, Any] | None) -> list[Any]:
    if record is None:
        return [None] * 5
    keys = ("recorded_at", "channel", "actor", "notice_version", "expires_at")
    return [record[key] for key in keys]


def _print_records(rows: list[Any], json_out: bool) -> None:
    from custodia.pipeline.consent_subjects import consent_record_view

    views = [consent_record_view(row) for row in rows]
    if json_out:
        print_json(views)
        return
    print_rows(
        ["consent", "profile", "purpose", "status", "channel", "actor", "recorded"],
        [[v["consent_id"], v["profile_id"], v["purpose"], v["status"], v["channel"], v["actor"],
          v["recorded_at"]] for v in views],
        "Recorded",
    )  # fmt: skip

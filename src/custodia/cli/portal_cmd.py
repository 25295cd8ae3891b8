"""``custodia portal``: issue customer portal tokens and read the request queue.

Commands::

    custodia --home H portal token PROFILE [--days 30] [--json]
    custodia --home H portal requests [--status received] [--json]
    custodia --home H portal settle REQUEST_ID --status completed [--receipt RECEIPT_ID] [--json]

``PROFILE`` is any identifier of the person (``phone:138…``, ``member_id:M1``) or a profile id.
The token is printed once and reaches only ``/v1/portal/*`` for that person; it expires after
``--days`` (at most 90). Issuing writes one audit entry about the person (actor ``cli:<OS user>``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from custodia.cli.context import os_user, state
from custodia.cli.output import print_json, print_rows

portal_app = typer.Typer(help="Customer portal: tokens for customers, their requests.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(portal_app, name="portal")


@portal_app.command("token")
def token(
    ctx: typer.Context,
    profile: Annotated[str, typer.Argument(help="ID_TYPE:VALUE of the person or a profile id.")],
    days: Annotated[int, typer.Option("--days", min=1, max=90, help="Lifetime in days.")] = 30,
    json_out: JsonFlag = False,
) -> None:
    """Issue a portal token for one customer (shown once)."""
    from custodia.pipeline.consent_subjects import consent_profile
    from custodia.privacy.portal_tokens import issue_portal_token

    with state(ctx).open_workspace() as ws:
        pid = consent_profile(ws, profile)
        issued = issue_portal_token(ws.store, pid, f"cli:{os_user()}",
                                    expires_in=timedelta(days=days), clock=ws.clock)  # fmt: skip
    view = {
        "token": issued.token,
        "token_id": issued.record.token_id,
        "profile_id": pid,
        "expires_at": issued.record.expires_at.isoformat(),
    }
    if json_out:
        print_json(view)
        return
    print_rows(list(view), [list(view.values())], "Portal token (shown once)")


@portal_app.command("requests")
def requests(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Option("--status", help="received, in_progress, completed or rejected.")
    ] = "received",
    json_out: JsonFlag = False,
) -> None:
    """Customers' export and erasure requests in one status, oldest first."""
    from custodia.pipeline.portal import request_queue

    with state(ctx).open_workspace() as ws:
        views = request_queue(ws, status)
    if json_out:
        print_json(views)
        return
    header = ["request_id", "profile_id", "kind", "status", "channel", "created_at"]
    print_rows(header, [[v[k] for k in header] for v in views], f"{len(views)} requests")


@portal_app.command("settle")
def settle(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(help="The request (sreq_…).")],
    status: Annotated[str, typer.Option("--status", help="in_progress, completed or rejected.")],
    receipt: Annotated[
        str | None, typer.Option("--receipt", help="Receipt of the export or erasure done.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Move a customer's open request on (one audit entry, seen in their usage trail)."""
    from custodia.pipeline.portal import settle_request

    with state(ctx).open_workspace() as ws:
        row = settle_request(ws, request_id, status, actor=f"cli:{os_user()}", receipt_id=receipt)
    if json_out:
        print_json(row)
        return
    print_rows(list(row), [list(row.values())], "Request")

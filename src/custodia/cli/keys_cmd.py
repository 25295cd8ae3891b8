"""``custodia keys``: the workspace's master keys and per-customer data keys.

    custodia --home H keys status [--json]
    custodia --home H keys rotate [--keep-old] [--actor A] [--json]
    custodia --home H keys rewrap [--actor A] [--json]

``rotate`` adds a master key version, re-wraps every live data key under it and retires the
versions that wrap nothing any more (field ciphertexts are not touched); ``rewrap`` finishes a
rotation that stopped half-way. Nothing here prints key material. See docs/privacy-encryption.md.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from custodia.cli.context import state
from custodia.cli.output import print_json, print_rows, stdout_console

keys_app = typer.Typer(help="Master keys and per-customer data keys (encryption at rest).")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who runs it, for the audit log (default: OS user).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("status")
def status(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Active master key version, data keys each version wraps, keys shredded by erasures."""
    with state(ctx).open_workspace() as ws:
        report = ws.data_keys.status()
    if json_out:
        print_json(report)
        return
    keks = report["keks"]
    assert isinstance(keks, dict)
    rows = [[k, "active" if k == report["active_kek"] else "", n] for k, n in keks.items()]
    print_rows(["master key", "", "data keys wrapped"], rows, "master keys")
    stdout_console().print(
        f"{report['data_keys_live']} live data keys, {report['data_keys_shredded']} shredded"
    )


@keys_app.command("rotate")
def rotate(
    ctx: typer.Context,
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="Keep old master key versions (do not retire).")
    ] = False,
    actor: ActorOption = None,
    json_out: JsonOption = False,
) -> None:
    """New master key version; every live data key re-wrapped under it; old versions retired."""
    with state(ctx).open_workspace() as ws:
        report = ws.data_keys.rotate(actor=_actor(actor), retire=not keep_old)
    _print_rotation(report.active_kek, report.rewrapped, list(report.retired), json_out)


@keys_app.command("rewrap")
def rewrap(ctx: typer.Context, actor: ActorOption = None, json_out: JsonOption = False) -> None:
    """Finish a rotation: re-wrap data keys not yet under the active version (idempotent)."""
    with state(ctx).open_workspace() as ws:
        report = ws.data_keys.rewrap(actor=_actor(actor))
    _print_rotation(report.active_kek, report.rewrapped, list(report.retired), json_out)


def _actor(actor: str | None) -> str:
    return f"cli:{actor or getpass.getuser()}"


def _print_rotation(active: str, rewrapped: int, retired: list[str], json_out: bool) -> None:
    if json_out:
        print_json({"active_kek": active, "rewrapped": rewrapped, "retired": retired})
        return
    gone = ", ".join(retired) or "none"
    stdout_console().print(f"active {active}; {rewrapped} data keys re-wrapped; retired: {gone}")

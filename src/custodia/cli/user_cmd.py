"""``custodia user``: console users (people who log in with a username and a password).

Commands::

    custodia --home H user create NAME --role ROLE [--password-stdin] [--json]
    custodia --home H user list [--json]
    custodia --home H user disable NAME          (and ``user enable NAME``)
    custodia --home H user set-password NAME [--password-stdin]
    custodia --home H user set-role NAME --role ROLE

A password is never taken from the command line (it would land in the shell history and in
``ps``): it is asked for twice at a hidden prompt, or read from the first line of standard input
with ``--password-stdin`` (``printf '%s\\n' "$PW" | custodia user create ...``). Every change is
audited (actor ``cli:<OS user>``); disabling, a new role and a new password end the user's open
sessions.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from custodia.cli.context import os_user, state
from custodia.cli.output import print_json, print_rows, stdout_console
from custodia.privacy.roles import Role
from custodia.privacy.users import UserRecord

user_app = typer.Typer(help="Console users: create, list, disable, passwords and roles.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
NameArg = Annotated[str, typer.Argument(help="Username (any script, e.g. 张伟).")]
RoleOpt = Annotated[Role, typer.Option("--role", help="The user's role.", case_sensitive=False)]
StdinFlag = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


@user_app.command("create")
def create(
    ctx: typer.Context,
    name: NameArg,
    role: RoleOpt,
    password_stdin: StdinFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Create a user with a role; the password is prompted for (or read from stdin)."""
    from custodia.privacy.users import create_user

    password = _read_password(password_stdin)
    with state(ctx).open_workspace() as ws:
        user = create_user(ws.store, name, password, role, _actor(),
                           hashing=ws.password_hashing, clock=ws.clock)  # fmt: skip
    _show(user, json_out, "created")


@user_app.command("list")
def list_(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Every user with role, status and last login (never a password or its hash)."""
    from custodia.privacy.users import list_users

    with state(ctx).open_workspace() as ws:
        users = list_users(ws.store)
    if json_out:
        print_json([_view(user) for user in users])
        return
    header = ["username", "role", "status", "last_login_at", "created_at", "user_id"]
    rows = [[_view(user)[key] for key in header] for user in users]
    print_rows(header, rows, f"{len(users)} users")


@user_app.command("disable")
def disable(ctx: typer.Context, name: NameArg, json_out: JsonFlag = False) -> None:
    """Disable a user: its sessions end and its logins are refused."""
    _set_status(ctx, name, active=False, json_out=json_out)


@user_app.command("enable")
def enable(ctx: typer.Context, name: NameArg, json_out: JsonFlag = False) -> None:
    """Enable a disabled user again."""
    _set_status(ctx, name, active=True, json_out=json_out)


@user_app.command("set-password")
def set_password_cmd(
    ctx: typer.Context, name: NameArg, password_stdin: StdinFlag = False, json_out: JsonFlag = False
) -> None:
    """Give a user a new password (prompted for, or read from stdin); its sessions end."""
    from custodia.privacy.users import set_password

    password = _read_password(password_stdin)
    with state(ctx).open_workspace() as ws:
        user = set_password(ws.store, name, password, changed_by=_actor(),
                            hashing=ws.password_hashing, clock=ws.clock)  # fmt: skip
    _show(user, json_out, "password changed")


@user_app.command("set-role")
def set_role_cmd(
    ctx: typer.Context, name: NameArg, role: RoleOpt, json_out: JsonFlag = False
) -> None:
    """Give a user another role; its sessions end (they carry the old role)."""
    from custodia.privacy.users import set_role

    with state(ctx).open_workspace() as ws:
        user = set_role(ws.store, name, role, changed_by=_actor(), clock=ws.clock)
    _show(user, json_out, "role changed")


def _set_status(ctx: typer.Context, name: str, *, active: bool, json_out: bool) -> None:
    from custodia.privacy.users import set_user_status

    with state(ctx).open_workspace() as ws:
        user = set_user_status(ws.store, name, active=active, changed_by=_actor(), clock=ws.clock)
    _show(user, json_out, "enabled" if active else "disabled")


def _read_password(from_stdin: bool) -> str:
    """The password: first line of stdin, or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _actor() -> str:
    return f"cli:{os_user()}"


def _view(user: UserRecord) -> dict[str, str | None]:
    last = None if user.last_login_at is None else user.last_login_at.isoformat()
    return {
        "user_id": user.user_id,
        "username": user.username,
        "role": user.role.value,
        "status": user.status,
        "created_at": user.created_at.isoformat(),
        "created_by": user.created_by,
        "last_login_at": last,
    }


def _show(user: UserRecord, json_out: bool, what: str) -> None:
    if json_out:
        print_json(_view(user))
        return
    stdout_console().print(
        f"[green]User {what}:[/] {user.username} ({user.role.label}, {user.status}, "
        f"{user.user_id})",
        highlight=False,
    )

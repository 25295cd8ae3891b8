"""State shared by all commands of one CLI invocation."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path

import typer

from custodia.settings import Settings, load_settings
from custodia.workspace import Workspace


@dataclass
class CliState:
    """What the root callback parsed: the workspace location."""

    home: Path | None

    def settings(self) -> Settings:
        return load_settings(home=self.home)

    def open_workspace(self) -> Workspace:
        return Workspace.open(self.settings())


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj


def os_user() -> str:
    """The operating-system user, the actor CLI commands record by default."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"

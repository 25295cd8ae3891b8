"""The ``custodia`` command line: one Typer app, one module per command group.

Every command takes the workspace from ``--home`` (or ``CUSTODIA_HOME``, default ``./.custodia``).
Errors Custodia raises on purpose print as one red line on stderr and exit with status 1; usage
errors exit with 2 (Typer's convention).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from custodia.cli import (
    analyse_cmd,
    audit_cmd,
    catalog_cmd,
    cleanse_cmd,
    consent_cmd,
    demo_cmd,
    dp_cmd,
    identity_cmd,
    ingest_cmd,
    keys_cmd,
    lineage_cmd,
    load_cmd,
    plan_cmd,
    portal_cmd,
    privacy_cmd,
    privacy_request_cmd,
    quality_cmd,
    quarantine_cmd,
    retention_cmd,
    review_cmd,
    runs_cmd,
    serve_cmd,
    source_cmd,
    sql_cmd,
    text_cmd,
    user_cmd,
    workspace_cmd,
)
from custodia.cli.context import CliState
from custodia.cli.output import fail
from custodia.core.errors import CustodiaError

app = typer.Typer(
    name="custodia",
    help="Custodia: the open-source customer data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="CUSTODIA_HOME",
            help="Workspace directory (default ./.custodia).",
            show_default=False,
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(home=home)


workspace_cmd.register(app)
audit_cmd.register(app)
sql_cmd.register(app)
demo_cmd.register(app)
runs_cmd.register(app)
serve_cmd.register(app)
source_cmd.register(app)
load_cmd.register(app)
ingest_cmd.register(app)
plan_cmd.register(app)
quarantine_cmd.register(app)
lineage_cmd.register(app)
text_cmd.register(app)
identity_cmd.register(app)
quality_cmd.register(app)
catalog_cmd.register(app)
review_cmd.register(app)
cleanse_cmd.register(app)
dp_cmd.register(app)
consent_cmd.register(app)
portal_cmd.register(app)
privacy_cmd.register(app)
privacy_request_cmd.register(app)
retention_cmd.register(app)
user_cmd.register(app)
keys_cmd.register(app)
analyse_cmd.register(app)


def main() -> None:
    """Console entry point: run the app, turning Custodia errors into one-line failures."""
    try:
        app(standalone_mode=False)
    except CustodiaError as exc:
        fail(str(exc))
    except typer.Abort:
        fail("aborted")
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        import click

        if isinstance(exc, click.ClickException):  # usage errors carry their own exit code
            exc.show()
            sys.exit(exc.exit_code)
        if _debugging():
            raise
        # An unexpected error's message may quote data (a value in a cast error, say): show only
        # its type; CUSTODIA_DEBUG=1 shows the full traceback.
        fail(f"internal error ({type(exc).__name__}); run with CUSTODIA_DEBUG=1 for details", 2)


def _debugging() -> bool:
    """Whether CUSTODIA_DEBUG asks for full tracebacks (false when settings cannot load)."""
    from custodia.settings import load_settings

    try:
        return load_settings().debug
    except CustodiaError:
        return False

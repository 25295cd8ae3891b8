"""``custodia privacy export|erase``: access and erasure requests for one person.

Commands::

    custodia --home H privacy export REF [--out DIR] [--json]
    custodia --home H privacy erase REF --reason TEXT [--json]

``REF`` is any identifier of the person (``phone:138…``, ``member_id:M1``, ``profile_id:…``).
An export writes JSON and CSV per table plus ``schema.json`` (default under
``HOME/privacy/exports``); an erasure prints its receipt (counts per table, never values). Each
writes one audit entry whose actor is ``cli:<OS user>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from custodia.cli.context import os_user, state
from custodia.cli.output import print_json, print_rows

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
RefArg = Annotated[
    str, typer.Argument(help="ID_TYPE:VALUE of the person (phone:…, member_id:…, profile_id:…).")
]


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``erase`` to the ``privacy`` group (created if no one made it yet)."""
    group = next((g.typer_instance for g in app.registered_groups if g.name == "privacy"), None)
    if group is None:
        group = typer.Typer(help="Privacy controls and requests.")
        app.add_typer(group, name="privacy")
    group.command("export")(export)
    group.command("erase")(erase)


def export(
    ctx: typer.Context,
    ref: RefArg,
    out: Annotated[Path | None, typer.Option("--out", help="Directory to write.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Export everything held about the person (JSON + CSV + schema), audited."""
    from custodia.pipeline.privacy_export import export_person

    with state(ctx).open_workspace() as ws:
        bundle = export_person(ws, ref, actor=f"cli:{os_user()}", out=out)
    _show(bundle.as_dict(), "tables", json_out)


def erase(
    ctx: typer.Context,
    ref: RefArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (request number, legal basis).")],
    json_out: JsonFlag = False,
) -> None:
    """Erase the person from lake, Delta history, store, logs and exports; print the receipt."""
    from custodia.pipeline.privacy_erasure import erase_person

    with state(ctx).open_workspace() as ws:
        receipt = erase_person(ws, ref, actor=f"cli:{os_user()}", reason=reason)
    _show(receipt.as_dict(), "counts", json_out)


def _show(doc: dict[str, Any], counts_key: str, json_out: bool) -> None:
    if json_out:
        print_json(doc)
        return
    head = {k: v for k, v in doc.items() if k != counts_key}
    rows = [[k, str(v)] for k, v in head.items()] + [
        [k, str(n)] for k, n in doc[counts_key].items()
    ]
    print_rows(["item", "value"], rows, counts_key)

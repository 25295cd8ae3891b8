"""``custodia dp``: differentially private aggregates and analysts' epsilon budgets.

    custodia --home H dp query TABLE (count | sum MEASURE | mean MEASURE) [--by COL ...]
                      --epsilon E [--analyst NAME] [--json]
    custodia --home H dp budget [ANALYST] [--set EPSILON] [--actor A] [--json]

The analyst defaults to the operating-system user; the API uses the caller's token name.
Only noisy values leave, each with its 95% half-width (the policy's confidence).
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from pydantic import ValidationError as PydanticError

from custodia.cli.context import state
from custodia.cli.output import print_json, print_rows
from custodia.core.errors import ValidationError
from custodia.pipeline.dp_workspace import (
    budget_json,
    dp_budget,
    dp_grant,
    dp_query,
    release_json,
)
from custodia.privacy.dp_query import DpQuery

dp_app = typer.Typer(help="Differentially private aggregates and privacy budgets.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def register(app: typer.Typer) -> None:
    app.add_typer(dp_app, name="dp")


@dp_app.command("query")
def query(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="A table declared in the DP policy.")],
    aggregate: Annotated[str, typer.Argument(help="count, sum or mean.")],
    measure: Annotated[str | None, typer.Argument(help="Measure column (sum, mean).")] = None,
    by: Annotated[list[str] | None, typer.Option("--by", help="Public group key.")] = None,
    epsilon: Annotated[float, typer.Option(help="Epsilon this release spends.")] = 0.1,
    analyst: Annotated[str | None, typer.Option(help="Whose budget (default: OS user).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Release one noisy count, sum or mean per declared group, debiting the analyst's budget."""
    request = _request(table, aggregate, measure, by or [], epsilon)
    with state(ctx).open_workspace() as ws:
        release = dp_query(ws, request, analyst=analyst or getpass.getuser())
    if json_out:
        print_json(release_json(release))
        return
    header = [*request.group_by, aggregate, f"± ({release.confidence:.0%})"]
    rows = [[*g.key.values(), f"{g.value:.2f}", f"{g.half_width:.2f}"] for g in release.groups]
    title = (
        f"{release.release_id}: epsilon {release.epsilon:g}, {release.mechanism}; "
        f"budget left {release.budget.remaining:g} of {release.budget.total:g}"
    )
    print_rows(header, rows, title)


@dp_app.command("budget")
def budget(
    ctx: typer.Context,
    analyst: Annotated[str | None, typer.Argument(help="Analyst (default: OS user).")] = None,
    set_total: Annotated[
        float | None, typer.Option("--set", help="Grant this total epsilon (admin).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who grants (default: OS user).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Show (or, with --set, grant) an analyst's epsilon budget: total, spent, remaining."""
    name = analyst or getpass.getuser()
    with state(ctx).open_workspace() as ws:
        if set_total is None:
            status = dp_budget(ws, name)
        else:
            status = dp_grant(ws, name, set_total, actor=actor or getpass.getuser())
    if json_out:
        print_json(budget_json(status))
        return
    cells = [status.analyst, f"{status.total:g}", f"{status.spent:g}", f"{status.remaining:g}"]
    print_rows(["analyst", "total", "spent", "remaining"], [cells], "Privacy budget")


def _request(
    table: str, aggregate: str, measure: str | None, by: list[str], epsilon: float
) -> DpQuery:
    try:
        return DpQuery.model_validate(
            {
                "table": table,
                "aggregate": aggregate,
                "measure": measure,
                "group_by": by,
                "epsilon": epsilon,
            }
        )
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "query"
        raise ValidationError(field, "dp_query", f"{field}: {first['msg']}") from None

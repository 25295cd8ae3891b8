"""``custodia analyse``: the analyses of issue 8 (RFM, traits, clusters, funnels, paths, ...).

Each analysis has its own module ``cli/analyse_<kind>_cmd.py`` adding one command to
:data:`analyse_app`; they share the options and the printing here. Every run is recorded
(``custodia runs``) and stores its result tables (``custodia sql "select * from analysis_..."``).

    custodia --home H analyse <kind> ... [--name N] [--engine duckdb|spark] [--json]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from custodia.cli.context import state
from custodia.cli.output import print_json, stdout_console
from custodia.cli.progress import ProgressFn, progress_bar
from custodia.core.errors import ValidationError
from custodia.pipeline.analysis_runs import AnalysisRun
from custodia.workspace import Workspace

M = TypeVar("M", bound=BaseModel)

analyse_app = typer.Typer(help="Analyses on the unified profiles; results stored as tables.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
EngineOption = Annotated[
    str, typer.Option("--engine", help="duckdb (embedded) or spark (scale-out, local mode).")
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="Name of this analysis (its result rows are kept under it)."),
]


def register(app: typer.Typer) -> None:
    from custodia.cli import analyse_kinds

    analyse_kinds.register_all(analyse_app)
    app.add_typer(analyse_app, name="analyse")


def run_and_print(
    ctx: typer.Context,
    title: str,
    run: Callable[[Workspace, ProgressFn], AnalysisRun],
    render: Callable[[AnalysisRun], None],
    json_out: bool,
) -> None:
    """Run an analysis with a progress bar (stderr), then print JSON or ``render`` it."""
    with state(ctx).open_workspace() as ws, progress_bar(title, enabled=not json_out) as bar:
        result = run(ws, bar)
    if json_out:
        print_json(result.as_dict())
        return
    render(result)
    stdout_console().print(
        f"analysis {result.name} ({result.analysis_id}): "
        + ", ".join(f"{n} rows in {t}" for t, n in result.rows.items())
        + f"; {result.seconds:.2f} s"
    )


def validated(model: type[M], values: dict[str, Any]) -> M:
    """Parameters from options; a bad one is a ValidationError naming the option's field."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "parameters"
        message = first["msg"].removeprefix("Value error, ")
        raise ValidationError(field, first["type"], f"{field}: {message}") from None

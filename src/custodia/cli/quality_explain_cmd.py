"""``custodia quality explain METRIC``: drill from a metric that moved to the sources, files and
load runs behind it (registered on the ``quality`` group by :mod:`custodia.cli.quality_cmd`).

Example::

    custodia --home H quality explain repurchase_rate_by_region
    custodia --home H quality explain pos_store_monthly_volume --json
    custodia --home H quality explain --list
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import fail, print_json, stdout_console

if TYPE_CHECKING:
    from custodia.pipeline.quality_explain import Explanation

__all__ = ["explain"]

_DEPTH = {"metric": 0, "segment": 1, "table": 2, "group": 3, "source": 3, "files": 4}
_STYLE = {"metric": "bold", "segment": "bold red", "table": "cyan", "group": "yellow",
          "source": "magenta", "files": "green"}  # fmt: skip


def explain(
    ctx: typer.Context,
    metric: Annotated[
        str | None,
        typer.Argument(help="A metric of quality/metrics.yaml or a volume rule."),
    ] = None,
    list_names: Annotated[
        bool, typer.Option("--list", help="List the metrics and rules that can be explained.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Where METRIC moved against its history, which rows are missing, and the source files
    and load runs behind them."""
    from custodia.pipeline.quality_explain import explain_metric, explainable_names
    from custodia.pipeline.quality_metrics_file import install_shipped_metrics

    with state(ctx).open_workspace() as ws:
        install_shipped_metrics(ws)
        if list_names or metric is None:
            names = explainable_names(ws)
            if metric is None and not list_names:
                fail("give a METRIC; known: " + ", ".join(sorted(names)), code=2)
            _print_names(names, json_out)
            return
        explanation = explain_metric(ws, metric)
    if json_out:
        print_json(explanation.model_dump(mode="json"))
        return
    print_explanation(stdout_console(), explanation)


def _print_names(names: dict[str, str], json_out: bool) -> None:
    if json_out:
        print_json(names)
        return
    table = Table(title="Metrics and volume rules quality explain can follow")
    table.add_column("name")
    table.add_column("description", overflow="fold")
    for name, description in sorted(names.items()):
        table.add_row(name, description)
    stdout_console().print(table)


def print_explanation(console: Console, explanation: Explanation) -> None:
    """The chain, one indented line per step, then the segment's periods and the other
    segments that moved."""
    for step in explanation.chain:
        indent = "  " * _DEPTH.get(step.level, 0)
        style = _STYLE.get(step.level, "")
        console.print(f"{indent}[{style}]{step.level}[/] ", end="", highlight=False)
        console.print(step.text, markup=False, highlight=False)
    if explanation.change is not None:
        console.print(_periods_table(explanation))
    for other in explanation.other_changes:
        name = ", ".join(f"{k}={v}" for k, v in other.segment.items())
        flag = "significant" if other.significant else "not significant"
        console.print(f"also: {name} {other.change:+.0%} since {other.since} ({flag}, "
                      f"p={other.p_value:.2g})", markup=False, highlight=False)  # fmt: skip


def _periods_table(explanation: Explanation) -> Table:
    change = explanation.change
    assert change is not None
    name = ", ".join(f"{k}={v}" for k, v in change.segment.items())
    table = Table(title=f"{explanation.metric}, {name}, per {explanation.grain}")
    for col in ("period", "value", "expected"):
        table.add_column(col, justify="right")
    rate = any(f.denominator is not None for f in change.figures)
    for figure in change.figures:
        table.add_row(
            figure.period.isoformat(), _value(figure.value, rate), _value(figure.expected, rate)
        )
    return table


def _value(value: float | None, rate: bool) -> str:
    if value is None:
        return ""
    return f"{value:.1%}" if rate else f"{value:,.0f}"

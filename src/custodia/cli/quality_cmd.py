"""``custodia quality``: run the quality rules, read scores and alerts, manage the rule file.

Commands::

    custodia --home H quality run [--engine duckdb|spark] [--json]
    custodia --home H quality rules [--check FILE | --set FILE]
    custodia --home H quality scores [--table T] [--by column|source|day] [--json]
    custodia --home H quality alerts [--status open|resolved|all] [--json]
    custodia --home H quality explain METRIC [--json]    (quality_explain_cmd)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from custodia.cli.context import state
from custodia.cli.output import print_json, stderr_console, stdout_console
from custodia.cli.progress import progress_bar
from custodia.cli.quality_explain_cmd import explain

if TYPE_CHECKING:
    from custodia.pipeline.quality_run import QualityReport

quality_app = typer.Typer(help="Data quality: rules, scorecards, thresholds and alerts.")
quality_app.command("explain")(explain)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
_STATUS_STYLE = {"pass": "green", "fail": "yellow", "breach": "bold red", "error": "red",
                 "not_run": "dim"}  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(quality_app, name="quality")


EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Where the rules run: duckdb (embedded) or spark (local Spark; pip install "
        "'custodia[spark]', Java 17+).",
    ),
]


@quality_app.command("run")
def run(ctx: typer.Context, json_out: JsonFlag = False, engine: EngineOption = "duckdb") -> None:
    """Run every rule in force, store results and scores, raise or resolve alerts."""
    from custodia.pipeline.quality_run import run_quality

    with state(ctx).open_workspace() as ws, progress_bar("quality", enabled=not json_out) as bar:
        report = run_quality(ws, progress=bar, engine=engine)
    if json_out:
        print_json(report.model_dump(mode="json"))
        return
    print_scorecard(report)


def print_scorecard(report: QualityReport) -> None:
    """The rule table, the table scores and the alert changes of one run."""
    console = stdout_console()
    if report.rules_error:
        stderr_console().print(
            f"[bold red]rules.yaml is not in force[/]: {report.rules_error}\n"
            f"Using {report.rules_origin} until it is fixed."
        )
    rules = Table(title=f"Quality rules, run {report.run_id}")
    for col in (
        "rule",
        "table.column",
        "check",
        "dimension",
        "checked",
        "failed",
        "rate",
        "status",
    ):
        rules.add_column(col, overflow="fold")
    for r in report.rules:
        style = _STATUS_STYLE.get(r.status, "")
        rules.add_row(
            r.rule, f"{r.table}{'.' + r.column if r.column else ''}", r.check, r.dimension,
            f"{r.checked:,}", f"{r.failed:,}", _pct(r.failure_rate),
            f"[{style}]{r.status}[/]" + (f" {r.detail}" if r.detail else ""),
        )  # fmt: skip
    console.print(rules)
    rows = [
        {"table_name": x.table, "column_name": x.column, "source": x.source, "day": x.day,
         "dimension": x.dimension, "score": x.score}
        for x in report.scores
    ]  # fmt: skip
    console.print(_score_table(rows, "Scorecard (0-100)"))
    if report.customer_completeness is not None:
        console.print(_completeness_table(report))
    changes = (("opened", report.alerts_opened), ("still open", report.alerts_continued),
               ("resolved", report.alerts_resolved))  # fmt: skip
    for label, listed in changes:
        for change in listed:
            console.print(f"alert {label}: {change.alert_id} {change.summary}")


def _completeness_table(report: QualityReport) -> Table:
    view = report.customer_completeness
    assert view is not None
    table = Table(title="Customer attributes filled: as delivered, curated, golden profiles")
    filled = view.filled or {}
    headers = (f"as delivered ({view.record_count:,})", "gaps filled (curated)",
               f"profiles ({view.profile_count:,})")  # fmt: skip
    for col in ("attribute", *headers):
        table.add_column(col)
    for name in view.attributes:
        table.add_row(name, f"{view.records[name]:.1%}", _pct(filled.get(name)),
                      f"{view.profiles[name]:.1%}")  # fmt: skip
    table.add_row("[bold]all[/]", f"[bold]{view.records_overall:.1%}[/]",
                  _pct(view.filled_overall), f"[bold]{view.profiles_overall:.1%}[/]")  # fmt: skip
    return table


def _score_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Rows: scopes (table_name, column_name, source, day); columns: dimensions, 0-100."""
    dims = ["completeness", "validity", "uniqueness", "consistency", "timeliness", "overall"]
    scopes: dict[tuple[str, str, str, str], dict[str, float]] = {}
    for row in rows:
        key = (row["table_name"], row["column_name"], row["source"], str(row["day"] or ""))
        scopes.setdefault(key, {})[row["dimension"]] = float(row["score"])
    table = Table(title=title)
    for col in ("table", "column", "source", "day", *dims):
        table.add_column(col, overflow="fold")
    for (name, column, source, day), values in sorted(scopes.items()):
        table.add_row(name, column, source, day,
                      *[f"{values[d] * 100:.1f}" if d in values else "" for d in dims])  # fmt: skip
    return table


@quality_app.command("scores")
def scores(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Option("--table", help="Only this table.")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Break down by column, source or day.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """The latest run's scores (table level, or broken down by column, source or day)."""
    from custodia.quality.scores import breakdown_of
    from custodia.storage.store_quality import QualityLedger

    if by not in (None, "column", "source", "day"):
        raise typer.BadParameter("--by must be column, source or day")
    with state(ctx).open_workspace() as ws:
        ledger = QualityLedger(ws.store)
        run_id = ledger.latest_run_id()
        rows = [] if run_id is None else ledger.scores(run_id, table=table, per_day=by == "day")
    wanted = by or "table"
    rows = [r for r in rows if breakdown_of(r["column_name"], r["source"], r["day"]) == wanted]
    if json_out:
        print_json({"run_id": run_id, "scores": rows})
        return
    if run_id is None:
        stdout_console().print("No quality run yet: run `custodia quality run`.")
        return
    stdout_console().print(_score_table(rows, f"Quality scores, run {run_id} (0-100)"))


@quality_app.command("alerts")
def alerts(
    ctx: typer.Context,
    status: Annotated[str, typer.Option("--status", help="open, resolved or all.")] = "open",
    json_out: JsonFlag = False,
) -> None:
    """Quality alerts: open ones by default."""
    from custodia.storage.store_quality import QualityLedger

    if status not in ("open", "resolved", "all"):
        raise typer.BadParameter("--status must be open, resolved or all")
    with state(ctx).open_workspace() as ws:
        rows = QualityLedger(ws.store).alerts(status=None if status == "all" else status)
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"Quality alerts ({status})")
    for col in ("alert", "status", "severity", "rule", "summary", "seen", "opened", "deliveries"):
        table.add_column(col, overflow="fold")
    for a in rows:
        deliveries = ", ".join(f"{d.get('kind')}:{d.get('status')}" for d in a["deliveries"] or [])
        table.add_row(
            a["alert_id"], a["status"], a["severity"], a["rule"], a["summary"],
            str(a["occurrences"]), a["opened_at"].isoformat(timespec="seconds"), deliveries,
        )  # fmt: skip
    stdout_console().print(table)


@quality_app.command("rules")
def rules(
    ctx: typer.Context,
    check: Annotated[
        Path | None, typer.Option("--check", help="Validate a rule file without installing it.")
    ] = None,
    set_file: Annotated[
        Path | None, typer.Option("--set", help="Validate and make this the workspace's rules.")
    ] = None,
) -> None:
    """Print the workspace's rule file, or check / install a new one."""
    from custodia.pipeline.quality_rules_file import (
        install_rules,
        rules_in_force,
        rules_path,
        shipped_rules_text,
    )
    from custodia.quality.rule_file import load_rule_file

    console = stdout_console()
    if check is not None:
        ruleset = load_rule_file(check)
        console.print(f"{check.name}: valid, {len(ruleset.rules)} rules")
        return
    with state(ctx).open_workspace() as ws:
        if set_file is not None:
            ruleset = load_rule_file(set_file)
            install_rules(ws, set_file.read_text(encoding="utf-8"), origin=set_file.name)
            console.print(f"{len(ruleset.rules)} rules installed in {rules_path(ws)}")
            return
        in_force = rules_in_force(ws)
        if in_force.error:
            stderr_console().print(f"[bold red]not in force[/]: {in_force.error}")
        path = rules_path(ws)
        text = path.read_text(encoding="utf-8") if path.exists() else shipped_rules_text()
        typer.echo(text, nl=False)


def _pct(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1%}"

"""``custodia review``: the data stewards' queue of anomalies on high-value customers.

Commands::

    custodia --home H review list [--status pending|approved|corrected|rejected|all] [--rule R]
    custodia --home H review show TASK [--reveal]
    custodia --home H review approve TASK [--note N] [--actor A]
    custodia --home H review correct TASK (--value V | --clear) [--note N] [--actor A]
    custodia --home H review reject TASK [--note N] [--actor A]
    custodia --home H review scan RULE [--max-tasks N]
    custodia --home H review corrections [--table T] [--reveal]

Every command takes ``--json``. The actor defaults to the operating-system user.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from custodia.cli.context import os_user, state
from custodia.cli.output import print_json, stdout_console

review_app = typer.Typer(help="Review queue: approve, correct or reject anomalies.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why (kept with the task).")]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who decides (default: the OS user).")
]
RevealFlag = Annotated[
    bool, typer.Option("--reveal", help="Show personal values unmasked (stewards only).")
]
TaskArg = Annotated[str, typer.Argument(help="Task id (rt_...), from `review list`.")]


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


@review_app.command("list")
def list_tasks(
    ctx: typer.Context,
    status: Annotated[
        str, typer.Option("--status", help="pending, approved, corrected, rejected or all.")
    ] = "pending",
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's tasks.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 200,
    json_out: JsonFlag = False,
) -> None:
    """Tasks, newest first (pending ones by default)."""
    from custodia.pipeline.review_records import jsonable
    from custodia.storage.store_review import TASK_STATUSES, ReviewQueue

    if status != "all" and status not in TASK_STATUSES:
        raise typer.BadParameter(
            f"use one of {', '.join(TASK_STATUSES)} or all", param_hint="--status"
        )
    with state(ctx).open_workspace() as ws:
        rows = ReviewQueue(ws.store).tasks(
            status=None if status == "all" else status, rule=rule, limit=limit
        )
    if json_out:
        print_json([{k: jsonable(v) for k, v in row.items()} for row in rows])
        return
    table = Table(title=f"Review tasks ({status})")
    for col in ("task", "status", "rule", "table", "column", "record", "profile", "created"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            row["task_id"], row["status"], row["rule"], row["table_name"], row["column_name"],
            row["record_key"], row["profile_id"] or "",
            row["created_at"].isoformat(timespec="seconds"),
        )  # fmt: skip
    stdout_console().print(table)


@review_app.command("show")
def show(
    ctx: typer.Context, task: TaskArg, reveal: RevealFlag = False, json_out: JsonFlag = False
) -> None:
    """One task with the record's current value (masked unless --reveal)."""
    from custodia.pipeline.review_decisions import task_view

    with state(ctx).open_workspace() as ws:
        view = task_view(ws, task, reveal=reveal)
    if json_out:
        print_json(view)
        return
    _print_fields(view)


def _closing_command(decision: str, help_text: str) -> None:
    """Register ``review approve`` / ``review reject``: they differ only in the decision."""

    def command(
        ctx: typer.Context,
        task: TaskArg,
        note: NoteOption = None,
        actor: ActorOption = None,
        json_out: JsonFlag = False,
    ) -> None:
        _decide(ctx, task, decision, note=note, actor=actor, json_out=json_out)

    review_app.command(decision, help=help_text)(command)


_closing_command(
    "approve", "The flagged value is right as it is: close the task (no new task for this record)."
)
_closing_command(
    "reject", "The value is wrong but cannot be fixed here (fix it at the source): close the task."
)


@review_app.command("correct")
def correct(
    ctx: typer.Context,
    task: TaskArg,
    value: Annotated[str | None, typer.Option("--value", help="The right value.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Set the value to empty.")] = False,
    note: NoteOption = None,
    actor: ActorOption = None,
    json_out: JsonFlag = False,
) -> None:
    """Set the right value; it is applied now and after every later load."""
    if (value is None) == (not clear):
        raise typer.BadParameter("give --value V or --clear", param_hint="--value")
    _decide(ctx, task, "correct", note=note, actor=actor, json_out=json_out, value=value)


def _decide(
    ctx: typer.Context,
    task: str,
    decision: Any,
    *,
    note: str | None,
    actor: str | None,
    json_out: bool,
    **value: Any,
) -> None:
    from custodia.pipeline.review_decisions import decide_task

    with state(ctx).open_workspace() as ws:
        result = decide_task(ws, task, decision, actor=actor or os_user(), note=note, **value)
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    line = f"Task {task} {result.task['status']} by {result.task['decided_by']}."
    if result.applied is not None:
        applied = result.applied
        line += f" Correction applied to {applied.rows_changed} row(s) of {applied.table}."
    if result.rule_passes is False:
        line += f" Note: the record still fails rule {result.task['rule']}."
    stdout_console().print(line)


@review_app.command("scan")
def scan(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="A row rule in force, e.g. customer_phone_format.")],
    max_tasks: Annotated[int, typer.Option("--max-tasks", min=1, max=10_000)] = 200,
    json_out: JsonFlag = False,
) -> None:
    """Open tasks now for the rule's failing rows of high-value customers."""
    from custodia.pipeline.review_tasks import scan_rule

    with state(ctx).open_workspace() as ws:
        result = scan_rule(ws, rule, max_tasks=max_tasks)
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    stdout_console().print(
        f"{rule}: {result.failing_rows} failing row(s), {result.high_value} of high-value "
        f"customers, {result.opened} new task(s) (run {result.run_id})."
    )


@review_app.command("corrections")
def corrections(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Option("--table", help="Only this table.")] = None,
    reveal: RevealFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Active corrections: the values stewards set that every load re-applies."""
    from custodia.pipeline.review_records import jsonable, reviewable_table, shown_value
    from custodia.storage.store_review import ReviewQueue

    with state(ctx).open_workspace() as ws:
        rows = ReviewQueue(ws.store).corrections(table=table)
    shown = [
        {**{k: jsonable(v) for k, v in row.items()},
         "value": shown_value(reviewable_table(row["table_name"]), row["column_name"],
                              row["value"], reveal=reveal)}
        for row in rows
    ]  # fmt: skip
    if json_out:
        print_json(shown)
        return
    out = Table(title="Active corrections")
    for col in ("correction", "table", "record", "column", "value", "by", "at", "task"):
        out.add_column(col, overflow="fold")
    for row in shown:
        out.add_row(
            row["correction_id"], row["table_name"], row["record_key"], row["column_name"],
            str(row["value"]), row["created_by"], row["created_at"], row["task_id"] or "",
        )  # fmt: skip
    stdout_console().print(out)


def _print_fields(view: dict[str, Any]) -> None:
    out = Table(show_header=False, title=f"Review task {view['task_id']}")
    out.add_column("field", style="bold")
    out.add_column("value", overflow="fold")
    for name, value in view.items():
        out.add_row(name, "" if value is None else str(value))
    stdout_console().print(out)

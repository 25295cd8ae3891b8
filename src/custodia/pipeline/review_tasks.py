"""Opening review tasks: anomalies on high-value customers wait for a data steward.

A rule with a ``review`` action opens tasks when its alert opens (:func:`review_action`, one of
the alert actions in :mod:`custodia.pipeline.quality_actions`); ``custodia review scan RULE``
opens them on demand (:func:`scan_rule`). Either way:

1. the keys of the rows the rule fails on are read (:func:`~custodia.quality.rule_sql.
   failing_rows_sql`, at most ``scan_limit`` rows; only the alert's source when the alert is per
   source);
2. each row's customer is found: a ``profiles`` row is its own profile, a ``customer_records``
   row's profile comes from identity resolution (``identity_records``), and an order,
   interaction or touchpoint is looked up by its ``customer_ref``;
3. only customers the rule file's ``high_value`` condition selects (SQL on ``profiles``, e.g.
   ``member_level IN ('金卡会员', '钻石会员')``) are kept;
4. one task per record is opened (at most ``max_tasks``), unless the record already has a pending
   task for the rule or a steward approved its value.

A task's reason names the rule, its check and the column, never the value. Counts go to the run
log as a ``review.open`` step.

Example::

    scan = scan_rule(ws, "customer_phone_format")
    scan.failing_rows, scan.high_value, scan.opened
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from pydantic import BaseModel

from custodia.core.errors import NotFoundError, ValidationError
from custodia.core.sql_text import quote_literal
from custodia.core.tables import PROFILES, TableSpec
from custodia.pipeline.profile_view import ProfileView
from custodia.pipeline.quality_rules_file import rules_in_force
from custodia.pipeline.review_records import key_column, reviewable_table, rows_by_key
from custodia.quality.models import ActionSpec, HighValueSpec
from custodia.quality.rule_sql import failing_rows_sql
from custodia.storage.store_identity import IdentityGraphStore
from custodia.storage.store_review import ReviewQueue
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["MAX_TASKS", "SCAN_LIMIT", "ReviewScan", "failing_keys", "open_review_tasks",
           "review_action", "scan_rule"]  # fmt: skip

SCAN_LIMIT: Final = 10_000
"""Failing rows read per rule and scan (keys only: cheap)."""
MAX_TASKS: Final = 200
"""Tasks one rule opens per scan, so a broken feed cannot bury the stewards."""
RUN_KIND: Final = "review_scan"
_CHUNK: Final = 1000


class ReviewScan(BaseModel):
    """What one look at a rule's failing rows found and opened."""

    run_id: str
    rule: str
    table: str
    column: str
    failing_rows: int
    """Failing rows read (at most the scan limit)."""
    with_profile: int
    """Of those, rows whose customer is known."""
    high_value: int
    """Of those, rows of high-value customers."""
    opened: int
    task_ids: list[str]


def open_review_tasks(
    ws: Workspace,
    rule: Any,
    high_value: HighValueSpec,
    *,
    run_id: str,
    alert_id: str | None = None,
    source: str | None = None,
    scan_limit: int = SCAN_LIMIT,
    max_tasks: int = MAX_TASKS,
) -> ReviewScan:
    """Open tasks for the rows ``rule`` fails on that belong to high-value customers."""
    spec = reviewable_table(rule.table)
    started = ws.clock.now()
    in_source = source is not None and "source" in spec.column_names
    scope = f"source = {quote_literal(source)}" if in_source and source else None
    keys = failing_keys(ws, rule, scope=scope, limit=scan_limit)
    profiles = profiles_of_rows(ws, spec, keys)
    valuable = high_value_profiles(ws, high_value, profiles.values())
    chosen = [k for k in keys if profiles.get(k) in valuable]
    rows = [_task_row(rule, k, profiles[k], run_id, alert_id) for k in chosen[:max_tasks]]
    task_ids = ReviewQueue(ws.store).open_tasks(rows, at=ws.clock.now())
    scan = ReviewScan(
        run_id=run_id, rule=rule.name, table=rule.table, column=rule.column,
        failing_rows=len(keys), with_profile=len(profiles), high_value=len(chosen),
        opened=len(task_ids), task_ids=task_ids,
    )  # fmt: skip
    RunLog(ws.store, ws.clock).record_step(
        run_id, "review.open", source=rule.table, rows_in=len(keys), rows_stored=len(task_ids),
        started_at=started, detail=scan.model_dump(exclude={"run_id", "task_ids"}),
    )  # fmt: skip
    return scan


def review_action(
    ws: Workspace, action: ActionSpec, rule: Any, alert: Mapping[str, Any], run_id: str
) -> dict[str, Any]:
    """The ``review`` alert action: open tasks for the alert's rule (and source, if per source)."""
    scan = open_review_tasks(
        ws, rule, rules_in_force(ws).ruleset.high_value, run_id=run_id,
        alert_id=alert.get("alert_id"), source=alert.get("source") or None,
    )  # fmt: skip
    return {"failing_rows": scan.failing_rows, "high_value": scan.high_value,
            "opened": scan.opened}  # fmt: skip


def scan_rule(ws: Workspace, rule_name: str, *, max_tasks: int = MAX_TASKS) -> ReviewScan:
    """Open tasks for one rule in force now, in a recorded run (kind ``review_scan``)."""
    ruleset = rules_in_force(ws).ruleset
    try:
        rule = ruleset.rule(rule_name)
    except KeyError:
        raise NotFoundError(f"rule {rule_name} is not in the rules in force") from None
    runs = RunLog(ws.store, ws.clock)
    run_id = runs.start_run(RUN_KIND, {"rule": rule_name})
    try:
        scan = open_review_tasks(ws, rule, ruleset.high_value, run_id=run_id, max_tasks=max_tasks)
    except Exception as exc:
        runs.fail_run(run_id, exc)
        raise
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats={"opened": scan.opened})
    return scan


def profiles_of_rows(ws: Workspace, spec: TableSpec, keys: Sequence[str]) -> dict[str, str]:
    """Row key -> the profile of the customer the row is about (rows with none left out)."""
    if spec.name == PROFILES.name:
        return {k: k for k in keys}
    if {"customer_ref_type", "customer_ref"} <= set(spec.column_names):
        return _by_reference(ws, spec, keys)
    found = IdentityGraphStore(ws.store).profiles_of(list(keys)) if keys else {}
    return {k: p for k, p in found.items() if p}


def high_value_profiles(
    ws: Workspace, high_value: HighValueSpec, profile_ids: Iterable[str]
) -> set[str]:
    """The profiles among ``profile_ids`` that the ``high_value`` condition selects."""
    wanted = sorted(set(profile_ids))
    out: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        listed = ", ".join(quote_literal(p) for p in wanted[start : start + _CHUNK])
        sql = (
            f"SELECT profile_id FROM {high_value.table} "
            f"WHERE ({high_value.where}) AND profile_id IN ({listed})"
        )
        out.update(str(p) for p in ws.query(sql).column("profile_id").to_pylist())
    return out


def failing_keys(ws: Workspace, rule: Any, *, scope: str | None = None, limit: int) -> list[str]:
    """Keys of the rows ``rule`` fails on, optionally only where the SQL ``scope`` holds."""
    spec = reviewable_table(rule.table)
    if scope is not None:
        where = f"({rule.where}) AND ({scope})" if rule.where else scope
        rule = rule.model_copy(update={"where": where})
    sql = failing_rows_sql(rule, limit=limit)
    if sql is None:
        raise ValidationError(
            "rule", "row_check",
            f"rule {rule.name}: {rule.check} judges sets of rows; review needs a row rule",
        )  # fmt: skip
    key = key_column(spec)
    return [str(row[key]) for row in ws.query(sql).to_pylist()]


def _by_reference(ws: Workspace, spec: TableSpec, keys: Sequence[str]) -> dict[str, str]:
    """Profiles of orders, interactions and touchpoints, looked up by their customer_ref."""
    view = ProfileView(ws)
    cache: dict[tuple[str, str], str | None] = {}
    out: dict[str, str] = {}
    for key, row in rows_by_key(ws, spec, keys, ["customer_ref_type", "customer_ref"]).items():
        ref = (str(row["customer_ref_type"] or ""), str(row["customer_ref"] or ""))
        if ref not in cache:
            cache[ref] = _find(view, *ref)
        if cache[ref]:
            out[key] = str(cache[ref])
    return out


def _find(view: ProfileView, id_type: str, value: str) -> str | None:
    try:
        return view.find(f"{id_type}:{value}")
    except (NotFoundError, ValidationError):
        return None


def _task_row(
    rule: Any, record_key: str, profile_id: str, run_id: str, alert_id: str | None
) -> dict[str, Any]:
    about = f": {rule.description}" if rule.description else ""
    return {
        "rule": rule.name, "table_name": rule.table, "record_key": record_key,
        "column_name": rule.column, "profile_id": profile_id, "run_id": run_id,
        "alert_id": alert_id,
        "reason": f"{rule.check} rule {rule.name} failed on {rule.table}.{rule.column}{about}",
    }  # fmt: skip

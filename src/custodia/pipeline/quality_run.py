"""Pipeline step: run the quality rules, store results and scores, and raise or resolve alerts.

One recorded run (kind ``quality``): the rules in force
(:mod:`custodia.pipeline.quality_rules_file`) are compiled to as few queries as possible (one
scan per table for all its row rules), run on the workspace's engine, evaluated, stored as a time
series (``quality_results``, ``quality_scores``) and judged against their thresholds. A new
breach opens an alert, calls the rule file's webhook and runs the rule's actions
(:mod:`custodia.pipeline.quality_actions`); a breach that continues updates its open alert; a
measurement back under the threshold resolves it (and calls the webhook again). A rule whose
query fails (e.g. a custom SQL error) is reported with its reason and does not stop the others.

Example::

    report = run_quality(ws)
    report.scores[0].score, [a.rule for a in report.alerts_opened]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from custodia.core.errors import CustodiaError
from custodia.core.ids import new_id
from custodia.core.sql_text import quote_ident
from custodia.core.tables import table_spec
from custodia.pipeline.quality_actions import deliver_alert_event, run_actions
from custodia.pipeline.quality_completeness import CustomerCompleteness, customer_completeness
from custodia.pipeline.quality_engines import RuleSession, rule_session
from custodia.pipeline.quality_rules_file import ensure_rules_file, rules_in_force
from custodia.quality.alerts import Breach, judge_thresholds, plan_alerts
from custodia.quality.evaluate import RuleResult, evaluate
from custodia.quality.models import RuleSet
from custodia.quality.rule_sql import CompiledQuery, compile_rules
from custodia.quality.scores import Score, score_results
from custodia.storage.store_quality import QualityLedger
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["QualityReport", "RuleSummary", "run_quality"]

Progress = Callable[[str, int, int], None]
RUN_KIND = "quality"


class RuleSummary(BaseModel):
    """One rule's totals in a run."""

    rule: str
    table: str
    column: str
    check: str
    dimension: str
    severity: str
    checked: int
    failed: int
    failure_rate: float | None
    status: str
    """``pass``, ``fail`` (some rows failed, under the threshold), ``breach`` (over it),
    ``not_run`` (its table is empty) or ``error``."""
    detail: str = ""


class AlertChange(BaseModel):
    alert_id: str
    rule: str
    source: str
    summary: str


class QualityReport(BaseModel):
    run_id: str
    measured_at: datetime
    rules_origin: str
    rules_error: str | None
    rules: list[RuleSummary]
    scores: list[Score]
    """Table-level and workspace-level scores (all days); per-column/source/day are stored."""
    alerts_opened: list[AlertChange]
    alerts_continued: list[AlertChange]
    alerts_resolved: list[AlertChange]
    queries: int
    customer_completeness: CustomerCompleteness | None = None
    """Customer attributes filled: source records as delivered against golden profiles."""


def run_quality(
    ws: Workspace, *, progress: Progress | None = None, engine: str = "duckdb", spark: Any = None
) -> QualityReport:
    """Run every rule in force once, in one recorded run, on ``engine`` (``duckdb`` or
    ``spark``; ``spark`` may be a running SparkSession, see :mod:`.quality_engines`)."""
    runs = RunLog(ws.store, ws.clock)
    ensure_rules_file(ws)
    in_force = rules_in_force(ws)
    run_id = runs.start_run(RUN_KIND, {"rules": in_force.origin, "engine": engine})
    try:
        with rule_session(ws, _tables_read(ws, in_force.ruleset.rules), engine=engine,
                          spark=spark) as session:  # fmt: skip
            report = _run(ws, session, runs, run_id, in_force.ruleset, progress or _silent)
    except Exception as exc:
        runs.fail_run(run_id, exc)
        raise
    report = report.model_copy(
        update={"rules_origin": in_force.origin, "rules_error": in_force.error}
    )
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats=_stats(report))
    return report


def _run(
    ws: Workspace,
    session: RuleSession,
    runs: RunLog,
    run_id: str,
    ruleset: RuleSet,
    progress: Progress,
) -> QualityReport:
    now = ws.clock.now()
    present = [r for r in ruleset.rules if _has_rows(ws, r.table)]
    results: list[RuleResult] = []
    errors: dict[str, str] = {}
    # one session for every compiled query: each table's snapshot is opened once
    queries = compile_rules(present, latest_days=_latest_days(session, present))
    for n, query in enumerate(queries):
        progress(f"checking {query.table}", n, len(queries))
        started = ws.clock.now()
        got, error = _measure(session, query, now)
        results.extend(got)
        errors.update({rule.name: error for rule in query.rules if error})
        runs.record_step(
            run_id, f"quality.{query.kind}", source=query.table, rows_in=len(query.rules),
            rows_stored=len(got), started_at=started,
            detail={"rules": [r.name for r in query.rules], "error": error},
        )  # fmt: skip
    progress("checked all rules", len(queries), len(queries))
    ledger = QualityLedger(ws.store)
    ledger.save_results(run_id, now, [_result_row(r) for r in results])
    scores = score_results(results, ruleset.dimension_weights)
    ledger.save_scores(run_id, now, [_score_row(s) for s in scores])
    breaches, measured = judge_thresholds(ruleset.rules, results)
    changes = _apply_alerts(ws, ledger, ruleset, run_id, now, breaches, measured)
    return QualityReport(
        run_id=run_id, measured_at=now, rules_origin="", rules_error=None,
        rules=_summaries(ruleset, results, errors, {b.rule for b in breaches}, present),
        scores=[s for s in scores if not s.column and not s.source and s.day is None],
        alerts_opened=changes[0], alerts_continued=changes[1], alerts_resolved=changes[2],
        queries=len(queries), customer_completeness=customer_completeness(ws),
    )  # fmt: skip


def _measure(
    session: RuleSession, query: CompiledQuery, now: datetime
) -> tuple[list[RuleResult], str | None]:
    """Run one query: ours on the shared session, a user's custom SQL through the read-only
    guard (:meth:`RuleSession.run_custom`)."""
    try:
        run = session.run_custom if query.kind == "custom_sql" else session.run
        rows = run(query.sql).to_pylist()
        return evaluate(query, rows, now=now), None
    except (CustodiaError, KeyError, ValueError, TypeError) as exc:
        name = type(exc).__name__
        return [], str(exc) if isinstance(exc, CustodiaError) else f"{name}: query result unusable"


def _has_rows(ws: Workspace, table: str) -> bool:
    spec = table_spec(table)
    return spec.home.value == "lake" and ws.lake.exists(spec.zone.value, spec.name)


def _tables_read(ws: Workspace, rules: Sequence[Any]) -> list[str]:
    """The lake tables the compiled queries read (rule tables and the tables they refer to)."""
    names = {rule.table for rule in rules}
    for rule in rules:
        for attr in ("references", "other"):
            target = getattr(rule, attr, None)
            if target:
                names.add(target.split(".", 1)[0])
    return sorted(n for n in names if _has_rows(ws, n))


def _latest_days(session: RuleSession, rules: Sequence[Any]) -> dict[str, date]:
    """The latest day of data of each table a volume rule counts (its judged window ends there)."""
    out: dict[str, date] = {}
    for rule in rules:
        if rule.check != "volume" or rule.table in out:
            continue
        column: str = rule.column or table_spec(rule.table).time_column or "loaded_at"
        row = session.run(
            f"SELECT max(CAST({quote_ident(column)} AS DATE)) AS d FROM {quote_ident(rule.table)}"
        ).to_pylist()
        if row and row[0]["d"] is not None:
            out[rule.table] = row[0]["d"]
    return out


def _apply_alerts(
    ws: Workspace,
    ledger: QualityLedger,
    ruleset: RuleSet,
    run_id: str,
    now: datetime,
    breaches: list[Breach],
    measured: set[str],
) -> tuple[list[AlertChange], list[AlertChange], list[AlertChange]]:
    open_alerts = ledger.open_alerts()
    plan = plan_alerts(open_alerts, breaches, measured)
    opened, continued, resolved = [], [], []
    for breach in plan.opened:
        alert_id = new_id("qa")
        ledger.open_alert({**_alert_values(breach, run_id, now), "alert_id": alert_id,
                           "opened_at": now, "opened_run_id": run_id})  # fmt: skip
        alert = ledger.alert(alert_id) or {}
        deliver_alert_event(ledger, ruleset.alerts, "alert.opened", alert, at=now)
        run_actions(ws, ledger, ruleset, ruleset.rule(breach.rule), alert, run_id)
        opened.append(AlertChange(alert_id=alert_id, rule=breach.rule, source=breach.source,
                                  summary=breach.summary()))  # fmt: skip
    for breach in plan.continued:
        alert_id = open_alerts[breach.key]["alert_id"]
        ledger.continue_alert(alert_id, _alert_values(breach, run_id, now))
        continued.append(AlertChange(alert_id=alert_id, rule=breach.rule, source=breach.source,
                                     summary=breach.summary()))  # fmt: skip
    for key in plan.resolved:
        alert = open_alerts[key]
        ledger.resolve_alert(alert["alert_id"], at=now, run_id=run_id)
        deliver_alert_event(ledger, ruleset.alerts, "alert.resolved",
                            ledger.alert(alert["alert_id"]) or alert, at=now)  # fmt: skip
        resolved.append(
            AlertChange(
                alert_id=alert["alert_id"],
                rule=alert["rule"],
                source=alert["source"],
                summary="back under its threshold",
            )
        )
    return opened, continued, resolved


def _alert_values(breach: Breach, run_id: str, now: datetime) -> dict[str, Any]:
    return {
        "alert_key": breach.key, "rule": breach.rule, "table_name": breach.table,
        "column_name": breach.column, "source": breach.source, "severity": breach.severity.value,
        "summary": breach.summary(), "checked": breach.checked, "failed": breach.failed,
        "failure_rate": breach.failure_rate, "threshold": breach.threshold,
        "last_seen_at": now, "last_run_id": run_id,
    }  # fmt: skip


def _summaries(
    ruleset: RuleSet,
    results: Sequence[RuleResult],
    errors: Mapping[str, str],
    breached: set[str],
    present: Sequence[Any],
) -> list[RuleSummary]:
    ran = {r.name for r in present}
    totals: dict[str, list[int]] = {}
    anomalies: dict[str, int] = {}
    for result in results:
        tally = totals.setdefault(result.rule, [0, 0])
        tally[0] += result.checked
        tally[1] += result.failed
        anomalies[result.rule] = anomalies.get(result.rule, 0) + len(result.anomalies)
    out = []
    for rule in ruleset.rules:
        checked, failed = totals.get(rule.name, [0, 0])
        status, detail = _status(rule.name, ran, errors, breached, failed)
        out.append(RuleSummary(
            rule=rule.name, table=rule.table, column=rule.scored_column, check=rule.check,
            dimension=rule.measured_dimension.value, severity=rule.severity.value,
            checked=checked, failed=failed,
            failure_rate=None if not checked else failed / checked, status=status,
            detail=detail or _anomaly_note(anomalies.get(rule.name, 0)),
        ))  # fmt: skip
    return out


def _anomaly_note(count: int) -> str:
    return f"{count} anomalies" if count else ""


def _status(
    name: str, ran: set[str], errors: Mapping[str, str], breached: set[str], failed: int
) -> tuple[str, str]:
    if name not in ran:
        return "not_run", "table has no data yet"
    if name in errors:
        return "error", errors[name]
    if name in breached:
        return "breach", ""
    return ("fail" if failed else "pass"), ""


def _result_row(result: RuleResult) -> dict[str, Any]:
    return {
        "rule": result.rule, "table_name": result.table, "column_name": result.column,
        "dimension": result.dimension.value, "source": result.source, "day": result.day,
        "checked": result.checked, "failed": result.failed,
        "anomalies": [a.model_dump(mode="json") for a in result.anomalies] or None,
    }  # fmt: skip


def _score_row(score: Score) -> dict[str, Any]:
    return {
        "table_name": score.table, "column_name": score.column, "source": score.source,
        "day": score.day, "dimension": score.dimension, "score": score.score,
        "rules": score.rules, "checked": score.checked, "failed": score.failed,
    }  # fmt: skip


def _stats(report: QualityReport) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for rule in report.rules:
        statuses[rule.status] = statuses.get(rule.status, 0) + 1
    return {"rules": statuses, "alerts_opened": len(report.alerts_opened),
            "alerts_resolved": len(report.alerts_resolved), "queries": report.queries}  # fmt: skip


def _silent(_label: str, _done: int, _total: int) -> None:
    return None

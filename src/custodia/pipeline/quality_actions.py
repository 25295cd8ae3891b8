"""What happens when a quality alert opens or resolves: the webhook call and the rule's actions.

The rule file's ``alerts.webhook`` receives a JSON POST for every alert that opens
(``alert.opened``) or resolves (``alert.resolved``). The body holds the alert's rule, table,
column, source, counts, threshold and summary: no personal data, since alerts hold none. A rule
may list further ``actions``, run when its alert opens:

- ``webhook``: the same POST to the action's own ``url``;
- ``review``: open review tasks for the failing rows of high-value customers
  (:mod:`custodia.pipeline.review_tasks`);
- ``rerun_load``: run the last load of ``source`` again (:mod:`custodia.pipeline.load_rerun`).

Every delivery and action outcome (status, HTTP code or error, time) is appended to the alert's
``deliveries``, so an unreachable webhook is visible, not silent; it never fails the run.

Example::

    deliver_alert_event(ledger, ruleset.alerts, "alert.opened", alert)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from custodia.core.errors import CustodiaError
from custodia.pipeline.load_rerun import rerun_load_action
from custodia.pipeline.review_tasks import review_action
from custodia.quality.models import ActionSpec, AlertSettings, RuleSet
from custodia.storage.store_quality import QualityLedger
from custodia.workspace import Workspace

__all__ = ["ACTIONS", "AlertAction", "deliver_alert_event", "post_json", "run_actions"]

AlertAction = Callable[[Workspace, ActionSpec, Any, Mapping[str, Any], str], dict[str, Any]]
"""(workspace, action spec, rule, alert row, run id) -> outcome detail (JSON)."""

_ALERT_FIELDS = ("alert_id", "rule", "table_name", "column_name", "source", "severity", "status",
                 "summary", "checked", "failed", "failure_rate", "threshold", "occurrences",
                 "opened_at", "last_seen_at", "resolved_at")  # fmt: skip


def post_json(url: str, body: Mapping[str, Any], *, timeout: float) -> dict[str, Any]:
    """POST a JSON body; the outcome as a record (never raises for network trouble).

    Only http(s) URLs are sent: the rule file already refuses others, and checking here too keeps
    ``file:`` or custom schemes from reaching ``urlopen`` through any other caller."""
    if not url.startswith(("http://", "https://")):
        return {"status": "failed", "error": "UnsupportedScheme"}
    data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return {"status": "delivered", "http_status": response.status}
    except urllib.error.HTTPError as exc:
        return {"status": "failed", "http_status": exc.code}
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return {"status": "failed", "error": type(reason).__name__}


def alert_body(event: str, alert: Mapping[str, Any]) -> dict[str, Any]:
    return {"event": event, "alert": {f: _jsonable(alert.get(f)) for f in _ALERT_FIELDS}}


def deliver_alert_event(
    ledger: QualityLedger,
    settings: AlertSettings,
    event: str,
    alert: Mapping[str, Any],
    *,
    at: datetime,
) -> None:
    """Call the rule file's webhook, if any, and record the outcome on the alert."""
    if not settings.webhook:
        return
    outcome = post_json(
        settings.webhook, alert_body(event, alert), timeout=settings.timeout_seconds
    )
    ledger.add_delivery(alert["alert_id"], {"kind": "webhook", "event": event, **outcome,
                                            "at": at.isoformat()})  # fmt: skip


def run_actions(
    ws: Workspace,
    ledger: QualityLedger,
    ruleset: RuleSet,
    rule: Any,
    alert: Mapping[str, Any],
    run_id: str,
) -> None:
    """Run the rule's actions for a newly opened alert; each outcome is recorded on it."""
    for action in rule.actions:
        handler = ACTIONS[action.type]  # the rule file's ActionSpec admits only these types
        try:
            outcome = {"status": "done", **handler(ws, action, rule, alert, run_id)}
        except CustodiaError as exc:
            outcome = {"status": "failed", "error": str(exc)}
        at = ws.clock.now().isoformat()
        ledger.add_delivery(alert["alert_id"], {"kind": action.type, **outcome, "at": at})


def _webhook_action(
    ws: Workspace, action: ActionSpec, rule: Any, alert: Mapping[str, Any], run_id: str
) -> dict[str, Any]:
    return post_json(action.url or "", alert_body("alert.opened", alert), timeout=5.0)


ACTIONS: dict[str, AlertAction] = {
    "webhook": _webhook_action,
    "review": review_action,
    "rerun_load": rerun_load_action,
}
"""Action handlers by type."""


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value

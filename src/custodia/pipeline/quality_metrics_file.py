"""Where a workspace's business metrics live: ``<home>/quality/metrics.yaml``.

With no file, the shipped metrics for the canonical model (``quality_metrics.yaml`` in this
package) are in force; the CLI writes them there for the team to edit
(:func:`install_shipped_metrics`), the API only reads. A broken file is an error naming the
file, the line and the metric (explain has nothing sensible to fall back on for a metric it
cannot read).

Example::

    metrics = metrics_in_force(ws)
    metrics.metric("repurchase_rate_by_region").dimensions     # ('region',)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from custodia.core.errors import ValidationError
from custodia.quality.metrics import MetricSet, parse_metrics
from custodia.workspace import Workspace

__all__ = ["install_shipped_metrics", "metrics_in_force", "metrics_path", "shipped_metrics_text"]


def metrics_path(ws: Workspace) -> Path:
    return ws.home / "quality" / "metrics.yaml"


def shipped_metrics_text() -> str:
    return resources.files("custodia.pipeline").joinpath("quality_metrics.yaml").read_text("utf-8")


def install_shipped_metrics(ws: Workspace) -> Path:
    """Write the shipped metrics to the workspace's metric file unless it exists."""
    path = metrics_path(ws)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shipped_metrics_text(), encoding="utf-8")
    return path


def metrics_in_force(ws: Workspace) -> MetricSet:
    """The workspace's metrics: its file, or the shipped ones when it has none."""
    path = metrics_path(ws)
    if not path.exists():
        return parse_metrics(shipped_metrics_text(), origin="shipped metrics")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError("metrics", "utf8", f"{path.name}: not UTF-8 text") from None
    return parse_metrics(text, origin=path.name)

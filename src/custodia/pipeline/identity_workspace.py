"""Where identity resolution keeps its files in a workspace: the spec and the trained model.

``<home>/identity/spec.yaml`` holds the rules (written with the defaults on first use, so a team
can review and edit it); ``<home>/identity/model.json`` holds the trained Fellegi-Sunter model, so
a later run scores with the same parameters and results can be reproduced.

Example::

    spec = load_workspace_spec(ws)
"""

from __future__ import annotations

from pathlib import Path

from custodia.identity.models import IdentitySpec
from custodia.identity.spec_file import load_spec, save_spec
from custodia.workspace import Workspace

__all__ = ["load_workspace_spec", "model_path", "spec_path"]


def spec_path(ws: Workspace) -> Path:
    """The workspace's identity spec file."""
    return ws.home / "identity" / "spec.yaml"


def model_path(ws: Workspace) -> Path:
    """The workspace's trained probabilistic model (Splink JSON)."""
    return ws.home / "identity" / "model.json"


def load_workspace_spec(ws: Workspace) -> IdentitySpec:
    """The workspace's spec; the default one is written there first if none exists."""
    path = spec_path(ws)
    if not path.exists():
        save_spec(IdentitySpec(), path)
    return load_spec(path)

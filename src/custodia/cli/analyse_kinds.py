"""The analysis commands under ``custodia analyse``: one line per analysis module."""

from __future__ import annotations

import typer


def register_all(analyse_app: typer.Typer) -> None:
    """Add every analysis command to ``analyse_app`` (each module has ``register``)."""
    del analyse_app  # analyses register here as they are added

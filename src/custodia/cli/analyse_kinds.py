"""The analysis commands under ``custodia analyse``: one line per analysis module."""

from __future__ import annotations

import typer


def register_all(analyse_app: typer.Typer) -> None:
    """Add every analysis command to ``analyse_app`` (each module has ``register``)."""
    from custodia.cli import (
        analyse_attribution_cmd,
        analyse_clusters_cmd,
        analyse_funnel_cmd,
        analyse_heatmap_cmd,
        analyse_paths_cmd,
        analyse_retention_cmd,
        analyse_rfm_cmd,
        analyse_traits_cmd,
    )

    analyse_funnel_cmd.register(analyse_app)
    analyse_paths_cmd.register(analyse_app)
    analyse_heatmap_cmd.register(analyse_app)
    analyse_retention_cmd.register(analyse_app)
    analyse_traits_cmd.register(analyse_app)
    analyse_rfm_cmd.register(analyse_app)
    analyse_clusters_cmd.register(analyse_app)
    analyse_attribution_cmd.register(analyse_app)

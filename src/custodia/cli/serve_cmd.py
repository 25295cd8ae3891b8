"""``custodia serve``: the HTTP API (FastAPI app from ``create_app(settings)``) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from custodia.cli.context import state
from custodia.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1, CUSTODIA_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default 8000, CUSTODIA_PORT).")
    ] = None,
) -> None:
    """Start the HTTP server: /health, /openapi.json, /docs and the /v1 API."""
    with state(ctx).open_workspace() as ws:  # fails early, with one line, on a bad --home
        settings = ws.settings
    run_server(settings, host or settings.host, port or settings.port)


def run_server(settings: Settings, host: str, port: int) -> None:
    """Serve the workspace's API until interrupted."""
    import uvicorn

    from custodia.api.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")

"""``custodia serve``: the HTTP API (FastAPI app from ``create_app(settings)``) under uvicorn."""

from __future__ import annotations

import os
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
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Server processes (default 1, CUSTODIA_WORKERS)."),
    ] = None,
) -> None:
    """Start the HTTP server: /health, /openapi.json, /docs, the /v1 API and the collector."""
    with state(ctx).open_workspace() as ws:  # fails early, with one line, on a bad --home
        settings = ws.settings
    if workers is not None:
        settings = settings.model_copy(update={"workers": workers})
    run_server(settings, host or settings.host, port or settings.port)


def run_server(settings: Settings, host: str, port: int) -> None:
    """Serve the workspace's API until interrupted.

    With several workers, uvicorn starts each process from an import string, so the settings
    travel to them as ``CUSTODIA_*`` environment variables; the event loader then runs in a
    process of its own rather than as a thread of one worker (so loading does not slow that
    worker's requests).
    """
    import uvicorn

    from custodia.api.app import create_server_app
    from custodia.api.http_protocol import PROTOCOL  # one socket write per response

    access_log = settings.access_log
    if settings.workers == 1:
        app = create_server_app(settings)
        uvicorn.run(
            app, host=host, port=port, log_level="info", access_log=access_log, http=PROTOCOL
        )
        return
    from custodia.pipeline.loader_process import LoaderProcess

    os.environ.update(settings.as_environment())
    loader = None
    if settings.loader_interval_seconds > 0:
        loader = LoaderProcess.start(interval=settings.loader_interval_seconds)
        os.environ["CUSTODIA_LOADER_INTERVAL_SECONDS"] = "0"  # the workers leave it to the loader
    try:
        uvicorn.run(
            "custodia.api.app:create_app_from_environment",
            factory=True,
            workers=settings.workers,
            host=host,
            port=port,
            log_level="info",
            access_log=access_log,
            http=PROTOCOL,
        )
    finally:
        if loader is not None:
            loader.stop()

"""The collector's routes are answered before FastAPI's own per-request work; the rest of the
API still goes through it (app middleware included)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.testclient import TestClient
from starlette.middleware.base import RequestResponseEndpoint

from custodia.api.app import create_app
from custodia.settings import load_settings

Cli = Callable[..., Any]


def test_collector_requests_skip_app_middleware_and_other_routes_do_not(
    tmp_path: Path, cli: Cli
) -> None:
    home = tmp_path / "ws"
    assert cli("--home", home, "init", "--json").code == 0
    key = cli("--home", home, "source", "create", "web", "--json").json()["write_key"]
    app = create_app(load_settings(home=home, loader_interval_seconds=0))
    seen: list[str] = []

    @app.middleware("http")
    async def record(request: Request, call_next: RequestResponseEndpoint) -> Response:
        seen.append(request.url.path)
        return await call_next(request)

    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    with TestClient(app) as client:
        body = {"userId": "u1", "event": "浏览", "messageId": "first-1"}
        assert client.post("/v1/track", json=body, headers=auth).status_code == 200
        assert client.get("/v1/track").status_code == 405
        assert client.get("/health").status_code == 200
    assert seen == ["/health"]

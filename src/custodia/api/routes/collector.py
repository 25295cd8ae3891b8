"""The Segment-compatible collector routes: ``POST /v1/track`` ... ``/v1/batch``, ``/v1/import``.

These routes are answered by a small ASGI middleware rather than FastAPI path operations: it reads
the raw body (with a size cap, before any parsing), hands it to
:class:`custodia.collect.collector.Collector` and sends back its reply. Skipping routing, request
models and dependency injection roughly doubles the requests per second a process can take; all
the rules live in ``collect/``. FastAPI does not know these routes, so :func:`register` merges
their description (:mod:`custodia.collect.segment_openapi`) into the app's ``/openapi.json``:
documented there, validated only by the collector.

A lifespan starts the collector runtime (event log, write-key cache, continuous loader) with the
app and closes it on shutdown.

Example::

    collector.register(app)
    # curl -u "$WRITE_KEY:" -d '{"userId": "u1", "event": "Signed Up"}' localhost:8000/v1/track
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from custodia.collect.collector import CollectorReply, accepted_kinds
from custodia.collect.segment_openapi import add_collector_paths
from custodia.pipeline.collector_runtime import CollectorRuntime
from custodia.workspace import Workspace


@asynccontextmanager
async def collector_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the collector runtime for the app's workspace; close it on shutdown."""
    workspace = app.state.workspace
    assert isinstance(workspace, Workspace)
    runtime = CollectorRuntime.start(workspace)
    app.state.collector = runtime
    try:
        yield
    finally:
        runtime.close()


class CollectorRoutes:
    """ASGI middleware that answers ``POST /v1/<kind>`` for the collector's routes itself and
    hands every other request to the app.

    Answering here, before FastAPI's routing and per-request machinery, is what lets one server
    process take tens of thousands of single events per second; the rules are all in
    :class:`custodia.collect.collector.Collector`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = _ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            reply = CollectorReply.error(405, "method_not_allowed", f"/v1/{kind}: use POST")
        else:
            reply = await _collect(kind, scope, receive)
        await send({"type": "http.response.start", "status": reply.status,
                    "headers": reply.http_headers()})  # fmt: skip
        await send({"type": "http.response.body", "body": reply.body})


async def _collect(kind: str, scope: Scope, receive: Receive) -> CollectorReply:
    runtime: CollectorRuntime = scope["app"].state.collector
    collector = runtime.collector
    headers = _headers(scope)
    limit = collector.max_request_bytes
    if _declared_length(headers) > limit:
        return _too_large(limit)
    body = await _read_body(receive, limit)
    if body is None:
        return _too_large(limit)
    return await collector.collect(
        kind,
        body,
        authorization=headers.get(b"authorization", b"").decode("latin-1") or None,
        content_encoding=headers.get(b"content-encoding", b"").decode("latin-1"),
    )


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope["headers"]}


def _declared_length(headers: dict[bytes, bytes]) -> int:
    try:
        return int(headers.get(b"content-length", b"0"))
    except ValueError:
        return 0


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large(limit: int) -> CollectorReply:
    return CollectorReply.error(
        413, "payload_too_large", f"request body: larger than {limit} bytes"
    )


_ROUTES = {f"/v1/{kind}": kind for kind in accepted_kinds()}
_lifespan = APIRouter(lifespan=collector_lifespan)


def register(app: FastAPI) -> None:
    """Add the collector to ``app``: its routes, their OpenAPI description, and its runtime
    started with the app."""
    app.include_router(_lifespan)
    app.add_middleware(CollectorRoutes)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's, cached on the app after the first call
        if "/v1/track" not in schema.get("paths", {}):
            add_collector_paths(schema, prefix="/v1")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

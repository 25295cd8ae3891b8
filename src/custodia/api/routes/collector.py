"""The Segment-compatible collector routes: ``POST /v1/track`` ... ``/v1/batch``, ``/v1/import``.

These routes are answered by :class:`CollectorFirstAPI`, a FastAPI application that looks at the
path before any of FastAPI's own per-request work (telemetry hooks, the middleware stack,
routing, request models, dependency injection): it reads the raw body (with a size cap, before
any parsing), hands it to :class:`custodia.collect.collector.Collector` and sends back its reply.
Skipping all of that is what lets one server process take tens of thousands of single events per
second; all the rules live in ``collect/``. FastAPI does not know these routes, so
:func:`register` merges their description (:mod:`custodia.collect.segment_openapi`) into the
app's ``/openapi.json``: documented there, validated only by the collector.

A lifespan starts the collector runtime (event log, write-key cache, continuous loader) with the
app and closes it on shutdown.

Example::

    app = CollectorFirstAPI(title="Custodia")
    collector.register(app)
    # curl -u "$WRITE_KEY:" -d '{"userId": "u1", "event": "Signed Up"}' localhost:8000/v1/track
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import Receive, Scope, Send

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


class CollectorFirstAPI(FastAPI):
    """A FastAPI application that answers ``/v1/<kind>`` for the collector's routes itself,
    before FastAPI's own per-request work, and hands every other request to FastAPI.

    FastAPI's ``__call__`` and Starlette's middleware stack cost a single-event request about
    a tenth of its CPU (the telemetry check alone reads the environment three times); the
    collector's answer needs none of it. Its requests therefore skip app middleware too.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = _ROUTES.get(scope["path"]) if scope["type"] == "http" else None
        if kind is None:
            await super().__call__(scope, receive, send)
            return
        if scope["method"] != "POST":
            reply = CollectorReply.error(405, "method_not_allowed", f"/v1/{kind}: use POST")
        else:
            reply = await _collect(self.state.collector, kind, scope, receive)
        await send({"type": "http.response.start", "status": reply.status,
                    "headers": reply.http_headers()})  # fmt: skip
        await send({"type": "http.response.body", "body": reply.body})


async def _collect(
    runtime: CollectorRuntime, kind: str, scope: Scope, receive: Receive
) -> CollectorReply:
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


def register(app: CollectorFirstAPI) -> None:
    """Add the collector to ``app``: its runtime started with the app (the routes are answered
    by the app's class) and their OpenAPI description."""
    app.include_router(_lifespan)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI's, cached on the app after the first call
        if "/v1/track" not in schema.get("paths", {}):
            add_collector_paths(schema, prefix="/v1")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

"""The Segment-compatible collector routes: ``POST /v1/track`` ... ``/v1/batch``, ``/v1/import``.

These routes are plain ASGI endpoints rather than FastAPI path operations: they read the raw body
(with a size cap, before any parsing), hand it to :class:`custodia.collect.collector.Collector`
and send back its reply. Skipping request models and dependency injection roughly doubles the
requests per second a process can take; all the rules live in ``collect/``.

The router's lifespan starts the collector runtime (event log, write-key cache, continuous
loader) and closes it on shutdown.

Example::

    app.include_router(collector.router)
    # curl -u "$WRITE_KEY:" -d '{"userId": "u1", "event": "Signed Up"}' localhost:8000/v1/track
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from custodia.collect.collector import CollectorReply, accepted_kinds
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


class CollectEndpoint:
    """ASGI endpoint for one collector route (``kind`` is the route's last path segment)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime: CollectorRuntime = scope["app"].state.collector
        collector = runtime.collector
        headers = _headers(scope)
        limit = collector.max_request_bytes
        if _declared_length(headers) > limit:
            reply = _too_large(limit)
        else:
            body = await _read_body(receive, limit)
            if body is None:
                reply = _too_large(limit)
            else:
                reply = await collector.collect(
                    self.kind,
                    body,
                    authorization=headers.get(b"authorization", b"").decode("latin-1") or None,
                    content_encoding=headers.get(b"content-encoding", b"").decode("latin-1"),
                )
        await send({"type": "http.response.start", "status": reply.status,
                    "headers": list(reply.headers)})  # fmt: skip
        await send({"type": "http.response.body", "body": reply.body})


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


router = APIRouter(lifespan=collector_lifespan)
for _kind in accepted_kinds():
    router.routes.append(
        Route(f"/v1/{_kind}", CollectEndpoint(_kind), methods=["POST"], name=f"collect_{_kind}")
    )

"""The ceiling for the collector benchmark: an ASGI app that only reads the body and parses it
with orjson, then answers 200 (no auth, no validation, no durability).

Run by ``bench_collector.py`` as ``uvicorn bare_asgi:app --workers 2``.
"""

from __future__ import annotations

from typing import Any

import orjson

OK = b'{"success":true}'
HEADERS = [(b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    try:
        orjson.loads(b"".join(chunks))
        status, body = 200, OK
    except orjson.JSONDecodeError:
        status, body = 400, b'{"code":"invalid_json"}'
    await send({"type": "http.response.start", "status": status, "headers": HEADERS})
    await send({"type": "http.response.body", "body": body})

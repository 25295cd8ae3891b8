"""``custodia serve``'s HTTP protocol: a response leaves in one socket write, large ones at once.

uvicorn's own httptools protocol runs on a real event loop with a transport that records what
reaches it; the app sends its headers and body as two ASGI messages, as the collector does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from custodia.api.http_protocol import (
    MAX_GATHERED_BYTES,
    PROTOCOL,
    GatheringHttpToolsProtocol,
)


class RecordingTransport(asyncio.Transport):
    """A socket stand-in: records each write call and ``close``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(("writelines", b"".join(list_of_data)))

    def close(self) -> None:
        self.closed = True
        self.calls.append(("close", b""))

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        info = {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}
        return info.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _serve(chunks: list[bytes], *, close: bool = False) -> list[tuple[str, bytes]]:
    """One request to an app answering with ``chunks`` as its body; the transport's calls."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        length = [(b"content-length", b"%d" % sum(map(len, chunks)))]
        await send({"type": "http.response.start", "status": 200, "headers": length})
        for n, chunk in enumerate(chunks, start=1):
            await send({"type": "http.response.body", "body": chunk,
                        "more_body": n < len(chunks)})  # fmt: skip

    async def run() -> list[tuple[str, bytes]]:
        config = Config(app=app, http=PROTOCOL, lifespan="off", log_level="warning")
        config.load()
        assert config.http_protocol_class is GatheringHttpToolsProtocol
        protocol = GatheringHttpToolsProtocol(config=config, server_state=ServerState(),
                                              app_state={})  # fmt: skip
        transport = RecordingTransport()
        protocol.connection_made(transport)
        connection = b"close" if close else b"keep-alive"
        protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: " + connection
                               + b"\r\n\r\n")  # fmt: skip
        for _ in range(20):
            await asyncio.sleep(0)
        return transport.calls

    return asyncio.run(run())


def test_headers_and_body_leave_in_one_write() -> None:
    calls = _serve([b'{"success":true}'])
    assert [kind for kind, _ in calls] == ["writelines"]
    head, _, body = calls[0][1].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and body == b'{"success":true}'


def test_a_closing_connection_sends_the_response_before_it_closes() -> None:
    calls = _serve([b"ok"], close=True)
    assert [kind for kind, _ in calls] == ["writelines", "close"]
    assert calls[0][1].endswith(b"\r\n\r\nok")


def test_large_responses_are_not_held_back() -> None:
    big = b"x" * MAX_GATHERED_BYTES
    calls = _serve([b"a" * 100, big, b"z" * 10])
    # head + 100 bytes gathered until the large chunk arrives, then all of it at once;
    # the tail goes at the end of the loop pass
    assert [(kind, len(data)) for kind, data in calls][1:] == [("writelines", 10)]
    assert calls[0][0] == "writelines" and calls[0][1].endswith(b"a" * 100 + big)
    assert b"".join(data for _, data in calls).endswith(b"a" * 100 + big + b"z" * 10)

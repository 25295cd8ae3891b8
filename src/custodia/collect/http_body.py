"""Request bodies for the collector: size limits and gzip, with gzip-bomb protection.

Tracking SDKs may gzip their batches (``Content-Encoding: gzip``). The body is limited twice:
as it arrives (``max_bytes`` of compressed bytes) and after decompression (``max_bytes`` of
JSON): decompression stops as soon as the output would pass the limit, so a few kilobytes
that inflate to gigabytes cost no more than the limit in memory and time.

Example::

    body = decode_body(raw, content_encoding="gzip", max_bytes=500 * 1024)
"""

from __future__ import annotations

import zlib
from typing import Final

IDENTITY_ENCODINGS: Final = frozenset({"", "identity"})
GZIP_ENCODINGS: Final = frozenset({"gzip", "x-gzip"})
_GZIP_WINDOW: Final = 16 + zlib.MAX_WBITS  # gzip header and trailer
_DEFLATE_WINDOW: Final = zlib.MAX_WBITS  # zlib-wrapped deflate


class CollectRequestError(Exception):
    """A request the collector refuses as a whole: an HTTP status and a JSON error body.

    ``message`` names the field or limit involved and never echoes a value.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def too_large(what: str, limit: int) -> CollectRequestError:
    return CollectRequestError(413, "payload_too_large", f"{what}: larger than {limit} bytes")


def decode_body(raw: bytes, *, content_encoding: str | None, max_bytes: int) -> bytes:
    """The request's JSON bytes: ``raw`` itself, or ``raw`` decompressed (gzip or deflate)."""
    if len(raw) > max_bytes:
        raise too_large("request body", max_bytes)
    encoding = (content_encoding or "").strip().lower()
    if encoding in IDENTITY_ENCODINGS:
        return raw
    if encoding in GZIP_ENCODINGS:
        return _inflate(raw, _GZIP_WINDOW, "gzip", max_bytes)
    if encoding == "deflate":
        return _inflate(raw, _DEFLATE_WINDOW, "deflate", max_bytes)
    raise CollectRequestError(
        415,
        "unsupported_encoding",
        "Content-Encoding: only gzip, deflate and identity are accepted",
    )


def _inflate(raw: bytes, window: int, name: str, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(window)
    try:
        body = inflater.decompress(raw, max_bytes + 1)
        if len(body) > max_bytes or inflater.unconsumed_tail:
            raise too_large(f"decompressed {name} body", max_bytes)
        body += inflater.flush()
    except zlib.error:
        raise CollectRequestError(400, "invalid_encoding", f"body: not valid {name} data") from None
    if len(body) > max_bytes:
        raise too_large(f"decompressed {name} body", max_bytes)
    if not inflater.eof:
        raise CollectRequestError(400, "invalid_encoding", f"body: truncated {name} data")
    return body

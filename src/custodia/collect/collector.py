"""The HTTP collector's logic, independent of any web framework: a request in, a reply out.

Order of work for one request (cheapest refusals first):

1. body: decompress (gzip/deflate) within the size limits -> 413 / 400 / 415;
2. decode the JSON and split it into messages -> 400 (not JSON, not an object, ``batch`` not an
   array) / 413 (an event over 32 KB on a single-message route, more than 2,500 events);
3. write key, from HTTP Basic (user name, with or without the trailing colon), the body's
   ``writeKey`` or a Bearer token -> 401;
4. validate every message -> 400 on single-message routes; in a batch the invalid messages are
   counted and stored with the rest, and the loader puts them in the quarantine with the reason;
   then the quality rules marked ``at_entry`` (:mod:`custodia.collect.entry_screen`) -> 400
   ``rule_violation`` when a single message breaks a ``reject`` rule; in a batch the messages
   the loader will keep out or flag are counted in the reply;
5. the source's rate limit -> 429 with ``Retry-After``;
6. append to the event log and wait until it is durable -> 200 ``{"success": true, ...}``.

Nothing here raises for bad input: every refusal is a :class:`CollectorReply` with a 4xx
status and a ``{"code", "message"}`` body that names the field, never a value.

Example::

    collector = Collector(registry, event_log)
    reply = await collector.collect("track", body, authorization="Basic d2tf...")
    reply.status, reply.body
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import msgspec

from custodia.collect.durable_append import LoopAppender
from custodia.collect.entry_screen import EntryRules, EntryScreen, screen_messages
from custodia.collect.http_body import CollectRequestError, decode_body
from custodia.collect.rate_limit import RateLimiter
from custodia.collect.segment_wire import (
    COLLECT_KINDS,
    MAX_REQUEST_BYTES,
    SINGLE_KINDS,
    WireItems,
    check_messages,
    split_request,
)
from custodia.collect.sources import CollectorSource, SourceRegistry
from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import StorageError, ValidationError
from custodia.storage.event_log import EventLog, LogEntry

JSON_HEADERS: Final = ((b"content-type", b"application/json"),)
_ENCODER: Final = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class CollectorReply:
    """Status, JSON body and extra headers of the answer to one request."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = JSON_HEADERS

    def http_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers to send, with the body's length (no chunked encoding needed)."""
        return [*self.headers, (b"content-length", b"%d" % len(self.body))]

    @classmethod
    def error(
        cls, status: int, code: str, message: str, *, retry_after: int | None = None
    ) -> CollectorReply:
        body = _ENCODER.encode({"code": code, "message": message})
        headers: tuple[tuple[bytes, bytes], ...] = JSON_HEADERS
        if retry_after is not None:
            headers = (*headers, (b"retry-after", str(retry_after).encode()))
        if status == 401:
            headers = (*headers, (b"www-authenticate", b'Basic realm="custodia"'))
        return cls(status, body, headers)


def write_key_from(authorization: str | None, body_key: str | None) -> str | None:
    """The write key of a request: Basic user name, else the body's ``writeKey``, else Bearer.

    >>> write_key_from("Basic " + base64.b64encode(b"wk_x:").decode(), None)
    'wk_x'
    """
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "basic" and credentials:
        user = _basic_user(credentials)
        if user:
            return user
    if body_key:
        return body_key
    if scheme == "bearer" and credentials:
        return credentials
    return None


def _basic_user(credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded.partition(":")[0] or None


class Collector:
    """Validates requests, applies source limits and appends to the event log."""

    def __init__(
        self,
        sources: SourceRegistry,
        log: EventLog,
        *,
        clock: Clock | None = None,
        limiter: RateLimiter | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        entry_rules: EntryRules | None = None,
    ) -> None:
        self._sources = sources
        self._entry_rules = entry_rules
        self._appender = LoopAppender(log)
        self._clock = clock or SystemClock()
        self._limiter = limiter or RateLimiter()
        self.max_request_bytes = max_request_bytes

    async def collect(
        self,
        kind: str,
        raw: bytes,
        *,
        authorization: str | None = None,
        content_encoding: str | None = None,
    ) -> CollectorReply:
        """Answer one request to ``/v1/<kind>``; never raises for bad input."""
        received_at = self._clock.now()
        try:
            return await self._collect(kind, raw, authorization, content_encoding, received_at)
        except CollectRequestError as problem:
            return CollectorReply.error(problem.status, problem.code, problem.message)
        except ValidationError as exc:
            return CollectorReply.error(400, "validation_error", str(exc))

    async def _collect(
        self,
        kind: str,
        raw: bytes,
        authorization: str | None,
        content_encoding: str | None,
        received_at: datetime,
    ) -> CollectorReply:
        if kind not in COLLECT_KINDS:
            return CollectorReply.error(404, "not_found", f"/v1/{kind}: no such route")
        body = decode_body(raw, content_encoding=content_encoding, max_bytes=self.max_request_bytes)
        wire = split_request(kind, body)
        source = self._authenticate(authorization, wire)
        if source is None:
            return CollectorReply.error(
                401, "unauthorized", "write key: missing, unknown or disabled"
            )
        check = check_messages(kind, wire, received_at=received_at)
        problems = check.problems
        if kind in SINGLE_KINDS and problems:
            raise problems[0].error
        screen = EntryScreen()
        if self._entry_rules is not None:
            screen = screen_messages(
                self._entry_rules, kind, wire, problems, source=source.name,
                message_types=check.types,
            )  # fmt: skip
            if kind in SINGLE_KINDS and screen.rejection is not None:
                return CollectorReply.error(400, "rule_violation", screen.rejection)
        wait = self._limiter.admit(
            source.name, events=len(wire.items), rate=source.rate_limit_per_second
        )
        if wait is not None:
            return CollectorReply.error(
                429, "rate_limited", f"source {source.name}: rate limit exceeded",
                retry_after=wait,
            )  # fmt: skip
        entry = LogEntry.new(
            source.name, kind, body, received_at=received_at,
            events=len(wire.items), invalid=len(problems),
        )  # fmt: skip
        return await self._append(entry, len(wire.items), len(problems), screen)

    def _authenticate(self, authorization: str | None, wire: WireItems) -> CollectorSource | None:
        key = write_key_from(authorization, wire.write_key)
        return None if key is None else self._sources.resolve(key)

    async def _append(
        self, entry: LogEntry, events: int, invalid: int, screen: EntryScreen
    ) -> CollectorReply:
        try:
            await self._appender.append(entry)
        except StorageError:
            return CollectorReply.error(
                503, "unavailable", "event log: not writable now; retry later", retry_after=1
            )
        held = invalid + screen.held
        body = _ENCODER.encode(
            {"success": True, "received": events, "accepted": events - held,
             "quarantined": held, "rejected": screen.rejected, "flagged": screen.flagged}
        )  # fmt: skip
        return CollectorReply(200, body)


def accepted_kinds() -> Sequence[str]:
    """The routes the collector answers, in the order they are documented."""
    return ("track", "identify", "page", "screen", "group", "alias", "batch", "import")

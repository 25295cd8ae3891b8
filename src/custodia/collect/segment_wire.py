"""Segment requests on the wire: decode a request body and validate every message in it, fast.

The collector must validate every event before it answers, at hundreds of thousands of events
per second, so it does not build Python objects for what it does not check. It decodes the body
with msgspec into typed structs (a batch into one raw slice per message, a message into the
fields the Segment spec constrains; properties, traits and context stay raw bytes) and checks
the spec's rules on those (:mod:`custodia.collect.wire_check`: a common batch as a whole, other
batches message by message). The rules are :func:`custodia.collect.segment.normalize_message`'s:
whenever the fast check finds a message invalid, the verdict (field, rule, message) comes from
``normalize_message`` itself, so both always agree on what is wrong.

Rules that apply before the spec, to every message:

- a message is at most ``MAX_EVENT_BYTES`` of JSON and nests at most ``MAX_DEPTH``
  levels of objects and arrays;
- numbers must fit a 64-bit float (``1e400`` is refused).

Request-level problems (not JSON, not an object, ``batch`` not an array, too many events, a
batch-level ``context`` that is not an object) raise :class:`CollectRequestError`; problems of
single messages are reported per message, so the rest of a batch can be stored.

Example::

    parsed = parse_request("batch", body, received_at=now)
    parsed.events, [p.error.field for p in parsed.problems], parsed.write_key
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import msgspec

from custodia.collect.http_body import CollectRequestError, too_large
from custodia.collect.segment import MESSAGE_TYPES, normalize_message
from custodia.collect.wire_check import (
    MAX_DEPTH,
    MAX_EVENT_BYTES,
    batch_types,
    limits_problem,
    message_valid,
    nesting_depth,
    shared_sent_at,
)
from custodia.core.errors import ValidationError

MAX_REQUEST_BYTES: Final = 500 * 1024
MAX_BATCH_EVENTS: Final = 2_500
SINGLE_KINDS: Final = MESSAGE_TYPES
BATCH_KINDS: Final = frozenset({"batch", "import"})
COLLECT_KINDS: Final = SINGLE_KINDS | BATCH_KINDS

_NO_RAW: Final = msgspec.Raw()
_NULL: Final = b"null"


class AnyObject(msgspec.Struct):
    """Any JSON object, checked to be one and otherwise skipped (no fields are kept)."""


class WireMessage(msgspec.Struct):
    """The fields of a message the spec constrains; anything else is skipped undecoded."""

    type: str | None = None
    userId: str | int | float | None = None  # noqa: N815 - Segment's wire names
    anonymousId: str | int | float | None = None  # noqa: N815
    previousId: str | int | float | None = None  # noqa: N815
    groupId: str | int | float | None = None  # noqa: N815
    messageId: str | int | float | None = None  # noqa: N815
    event: str | None = None
    name: str | None = None
    timestamp: str | None = None
    originalTimestamp: str | None = None  # noqa: N815
    sentAt: str | None = None  # noqa: N815
    traits: AnyObject | None = None
    properties: AnyObject | None = None
    context: AnyObject | None = None
    integrations: AnyObject | None = None
    writeKey: str | None = None  # noqa: N815


class WireBatch(msgspec.Struct):
    """A batch body: one raw slice per message; the shared fields stay raw until looked at."""

    batch: list[msgspec.Raw] | None = None
    context: msgspec.Raw = _NO_RAW
    integrations: msgspec.Raw = _NO_RAW
    sentAt: msgspec.Raw = _NO_RAW  # noqa: N815
    writeKey: msgspec.Raw = _NO_RAW  # noqa: N815


class RawBatch(msgspec.Struct):
    """A batch body of unexpected shape, to say what is wrong with it."""

    batch: msgspec.Raw = _NO_RAW


class TypedBatch(msgspec.Struct):
    """A batch body with every message decoded (fails if any message has a wrong type)."""

    batch: list[WireMessage]


_MESSAGE_DECODER: Final = msgspec.json.Decoder(WireMessage)
_BATCH_DECODER: Final = msgspec.json.Decoder(WireBatch)
_RAW_BATCH_DECODER: Final = msgspec.json.Decoder(RawBatch)
_ITEMS_DECODER: Final = msgspec.json.Decoder(list[msgspec.Raw])
_TYPED_BATCH_DECODER: Final = msgspec.json.Decoder(TypedBatch)
_ANY_DECODER: Final = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class MessageProblem:
    """Why one message of a request cannot be stored as an event."""

    index: int
    error: ValidationError


@dataclass(frozen=True, slots=True)
class BatchFields:
    """A batch's shared fields, applied to each of its messages."""

    context: Mapping[str, Any] | None = None
    integrations: Mapping[str, Any] | None = None
    sent_at: str | None = None
    sent_at_instant: datetime | None = field(init=False, default=None)
    sent_at_valid: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        instant, valid = shared_sent_at(self.sent_at)
        object.__setattr__(self, "sent_at_instant", instant)
        object.__setattr__(self, "sent_at_valid", valid)


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A decoded request: how many messages, which are invalid, and the key in the body."""

    kind: str
    events: int
    write_key: str | None
    problems: list[MessageProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MessageCheck:
    """What :func:`check_messages` found about the messages of a request."""

    problems: list[MessageProblem]
    """The messages that cannot be stored, with the reason for each."""
    types: frozenset[str] | None = None
    """The message types of the request when known: the route's type, or every type of a batch
    whose messages are all valid and of a type spelled in lower case (``None`` otherwise)."""


@dataclass(frozen=True, slots=True)
class WireItems:
    """The messages of a request as raw JSON slices, with the batch's shared fields.

    ``decoded`` holds the single message of a single-message route, already decoded (``None``
    when its shape needs the full check).
    """

    items: list[bytes]
    shared: BatchFields
    write_key: str | None
    decoded: WireMessage | None = None
    batch: bytes | None = None
    """The whole batch body, for decoding every message in one call."""


def parse_request(kind: str, body: bytes, *, received_at: datetime) -> ParsedRequest:
    """Decode and validate a request for route ``kind`` (``track`` ... ``batch``, ``import``).

    Raises :class:`CollectRequestError` (400/413) when the request as a whole is unusable, and a
    single message's :class:`ValidationError` for the single-message routes.
    """
    wire = split_request(kind, body)
    problems = find_problems(kind, wire, received_at=received_at)
    if kind in SINGLE_KINDS and problems:
        raise problems[0].error
    return ParsedRequest(kind, len(wire.items), wire.write_key, problems)


def split_request(
    kind: str, body: bytes, *, max_events: int | None = MAX_BATCH_EVENTS
) -> WireItems:
    """The raw messages of a request and its batch-level fields (one item for single routes).

    Raises :class:`CollectRequestError` when the body is not JSON, not an object, too large or has
    a ``batch`` that is not an array. ``max_events``: the most messages a batch may hold
    (``None``: any number, for batch files).
    """
    if kind in SINGLE_KINDS:
        return _split_single(body)
    wire = _decode_request(_BATCH_DECODER, body)
    if wire is None or wire.batch is None:  # another shape: let the raw path say what is wrong
        raw = _decode_request(_RAW_BATCH_DECODER, body)
        if raw is None:
            raise CollectRequestError(400, "invalid_request", "body: must be a JSON object")
        _batch_items(raw.batch)  # raises: missing, or not an array
        raise CollectRequestError(400, "validation_error", "batch: must be an array")
    if max_events is not None and len(wire.batch) > max_events:
        raise CollectRequestError(413, "payload_too_large", f"batch: more than {max_events} events")
    shared = BatchFields(
        context=_shared_object(wire.context, "context"),
        integrations=_shared_object(wire.integrations, "integrations"),
        sent_at=_shared_sent_at(wire.sentAt),
    )
    write_key = _decode_raw(wire.writeKey)
    key = write_key if isinstance(write_key, str) else None
    return WireItems([bytes(item) for item in wire.batch], shared, key, batch=body)


def _split_single(body: bytes) -> WireItems:
    if len(body) > MAX_EVENT_BYTES:
        raise too_large("event", MAX_EVENT_BYTES)
    message = _decode_request(_MESSAGE_DECODER, body)
    if isinstance(message, WireMessage):
        return WireItems([body], BatchFields(), message.writeKey, message)
    value = decode_value(body)  # JSON (checked above), of a shape the full check must judge
    key = value.get("writeKey") if isinstance(value, dict) else None
    return WireItems([body], BatchFields(), key if isinstance(key, str) else None)


def find_problems(kind: str, wire: WireItems, *, received_at: datetime) -> list[MessageProblem]:
    """The messages of ``wire`` that cannot be stored as events, with the reason for each."""
    return check_messages(kind, wire, received_at=received_at).problems


def check_messages(kind: str, wire: WireItems, *, received_at: datetime) -> MessageCheck:
    """:func:`find_problems`, and the message types of the request when they come for free."""
    if kind in SINGLE_KINDS:
        error = check_item(wire.items[0], kind, wire.shared, received_at, decoded=wire.decoded)
        return MessageCheck([] if error is None else [MessageProblem(0, error)], frozenset({kind}))
    typed = _typed_batch(wire)
    if typed is not None:  # the common batch is judged as a whole (wire_check.batch_types)
        types = batch_types(wire.items, typed, wire.shared, received_at)
        if types is not None:
            return MessageCheck([], types)
    messages = typed if typed is not None else [_decode_message(i) for i in wire.items]
    return MessageCheck(_problems_one_by_one(wire, messages, received_at))


def _problems_one_by_one(
    wire: WireItems, messages: Sequence[WireMessage | None], received_at: datetime
) -> list[MessageProblem]:
    problems = []
    shared = wire.shared
    for index, (item, message) in enumerate(zip(wire.items, messages, strict=True)):
        # The common case inline (this loop runs for every event): within the limits,
        # decodable and valid. Anything else gets the full check and its verdict.
        if (
            message is not None
            and len(item) <= MAX_EVENT_BYTES
            and item.count(b"{") + item.count(b"[") <= MAX_DEPTH
            and message_valid(message, None, shared, received_at)
        ):
            continue
        error = check_item(item, None, shared, received_at)
        if error is not None:
            problems.append(MessageProblem(index, error))
    return problems


def _typed_batch(wire: WireItems) -> list[WireMessage] | None:
    """Every message of a batch decoded into :class:`WireMessage` in one call; ``None`` when
    some message does not decode (those are then decoded one by one)."""
    if wire.batch is None:
        return None
    try:
        return _TYPED_BATCH_DECODER.decode(wire.batch).batch
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


def check_item(
    item: bytes,
    kind: str | None,
    shared: BatchFields,
    received_at: datetime,
    *,
    decoded: WireMessage | None = None,
) -> ValidationError | None:
    """``None`` when the message may be stored, else what is wrong with it.

    ``kind`` is the route's message type (it overrides the message's own ``type``), ``None``
    for batch items.
    """
    error = limits_problem(item)
    if error is not None:
        return error
    message = decoded if decoded is not None else _decode_message(item)
    if message is not None and message_valid(message, kind, shared, received_at):
        return None
    return verdict(item, kind, shared, received_at)


def verdict(
    item: bytes, kind: str | None, shared: BatchFields, received_at: datetime
) -> ValidationError | None:
    """What ``normalize_message`` says about the message (``None``: it is valid)."""
    try:
        message = decode_value(item)
    except ValidationError as exc:
        return exc
    if kind is not None and isinstance(message, dict):
        message = {**message, "type": kind}
    try:
        normalize_message(
            message,
            received_at=received_at,
            source="-",
            batch_context=shared.context,
            batch_integrations=shared.integrations,
            batch_sent_at=shared.sent_at,
        )
    except ValidationError as exc:
        return exc
    return None


def decode_value(item: bytes) -> Any:
    """Any JSON value as Python objects; numbers beyond a 64-bit float are refused."""
    try:
        return _ANY_DECODER.decode(item)
    except msgspec.ValidationError:
        raise ValidationError(
            "message", "number_range", "message: a number is out of range"
        ) from None
    except UnicodeDecodeError:
        raise ValidationError("message", "invalid_utf8", "message: not valid UTF-8") from None
    except (msgspec.DecodeError, RecursionError):
        raise ValidationError("message", "invalid_json", "message: not valid JSON") from None


# -- request-level decoding ---------------------------------------------------------------------


def _decode_request(decoder: msgspec.json.Decoder[Any], body: bytes) -> Any:
    """The body decoded by ``decoder``; ``None`` when it is JSON of another shape."""
    if not body.strip():
        raise CollectRequestError(400, "invalid_json", "body: is empty")
    _require_utf8(body)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError:
        _require_json(body)
        return None
    except UnicodeDecodeError:
        raise CollectRequestError(400, "invalid_json", "body: not valid UTF-8") from None
    except msgspec.DecodeError:
        raise CollectRequestError(400, "invalid_json", "body: not valid JSON") from None
    except RecursionError:
        raise CollectRequestError(
            400, "invalid_json", f"body: nested deeper than {MAX_DEPTH} levels"
        ) from None


def _require_utf8(body: bytes) -> None:
    """JSON is UTF-8. msgspec checks the strings it decodes but not those it skips, so check the
    whole body once (ASCII, the common case, is checked without decoding)."""
    if body.isascii():
        return
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise CollectRequestError(400, "invalid_json", "body: not valid UTF-8") from None


def _require_json(body: bytes) -> None:
    """Tell a body of another shape from one that is not JSON at all."""
    try:
        decode_value(body)
    except ValidationError as exc:
        raise CollectRequestError(
            400, "invalid_json", str(exc).replace("message:", "body:", 1)
        ) from None


def _decode_message(item: bytes) -> WireMessage | None:
    try:
        return _MESSAGE_DECODER.decode(item)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return None


def _batch_items(raw: msgspec.Raw) -> list[bytes]:
    if not raw or bytes(raw) == _NULL:
        raise CollectRequestError(400, "validation_error", "batch: is required")
    try:
        items = _ITEMS_DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        raise CollectRequestError(400, "validation_error", "batch: must be an array") from None
    if len(items) > MAX_BATCH_EVENTS:
        raise CollectRequestError(
            413, "payload_too_large", f"batch: more than {MAX_BATCH_EVENTS} events"
        )
    return [bytes(item) for item in items]


def _shared_object(raw: msgspec.Raw, name: str) -> Mapping[str, Any] | None:
    if not raw or bytes(raw) == _NULL:
        return None
    if memoryview(raw)[:1].tobytes() != b"{" or nesting_depth(bytes(raw)) > MAX_DEPTH:
        raise CollectRequestError(400, "validation_error", f"{name}: must be a JSON object")
    value = _decode_raw(raw)
    if not isinstance(value, dict):
        raise CollectRequestError(400, "validation_error", f"{name}: must be a JSON object")
    return value


def _shared_sent_at(raw: msgspec.Raw) -> str | None:
    """The batch's ``sentAt``; a value that is not a string makes it unusable ("")."""
    value = _decode_raw(raw)
    if value is None:
        return None
    return value if isinstance(value, str) else ""


def _decode_raw(raw: msgspec.Raw) -> Any:
    if not raw:
        return None
    try:
        return _ANY_DECODER.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        raise CollectRequestError(
            400, "invalid_json", "body: a batch field cannot be decoded"
        ) from None

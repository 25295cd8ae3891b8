"""Rows of the ``events`` table from what the collector logged: one request body at a time.

The loader calls :func:`entry_events` for every event-log entry. Each message of the body
becomes an ``events`` row exactly as :func:`custodia.collect.segment.normalize_message` would
make it, or a :class:`RejectedMessage` with the reason. Two things make a re-read of the same
entry give the same result, which is what lets the loader retry after a crash:

- a message without ``messageId`` gets one derived from the entry's id and the message's
  position (a UUID5), never a random one;
- ``received_at`` is the time the collector logged with the entry.

Speed: rows are built by a fast path that decodes each message with msgspec into the fields a
row needs and keeps ``traits``, ``properties``, ``context`` and ``integrations`` as the JSON text
the client sent (a batch-level ``context`` or ``integrations`` is merged in and re-encoded, and
so are ``context`` and ``traits`` when a top-level ``category``/``channel`` is kept in ``context``
or an identify call's ``context.traits`` are promoted).
Anything unusual (a wrong type, a bad timestamp) takes the full path, ``normalize_message``
itself, which either produces the row or names the problem. JSON columns hold the same values
either way; only their text may differ (key order and number formatting: ``normalize_message``
sorts keys).

Example::

    result = entry_events(kind="batch", payload=body, source="web",
                          received_at=at, entry_id="4f1c...")
    result.rows, [(r.position, r.error.rule) for r in result.rejected]
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from custodia.collect.http_body import CollectRequestError
from custodia.collect.segment import (
    MAX_MESSAGE_ID_LENGTH,
    MESSAGE_TYPES,
    EventRow,
    normalize_message,
    promoted_traits,
    with_top_level,
)
from custodia.collect.segment_wire import (
    MAX_BATCH_EVENTS,
    SINGLE_KINDS,
    BatchFields,
    decode_value,
    split_request,
)
from custodia.collect.wire_check import MAX_DEPTH, MAX_EVENT_BYTES, limits_problem
from custodia.core.errors import ValidationError
from custodia.core.tables import EVENTS

_ENCODER: Final = msgspec.json.Encoder(order="sorted")
_ANY: Final = msgspec.json.Decoder()
_MESSAGE_IDS: Final = uuid.UUID("5c1e3f0a-7d2b-4c1e-9a8f-0c0ffee0da7a")


@dataclass(frozen=True, slots=True)
class RejectedMessage:
    """A message that cannot become an event: its text, position (1-based) and the reason."""

    position: int
    payload: str
    error: ValidationError


EVENT_COLUMNS: Final = tuple(
    c.name for c in EVENTS.columns if c.name not in ("run_id", "loaded_at")
)
"""The ``events`` columns a message fills, in the order of :data:`EventTuple` values."""
JSON_COLUMNS: Final = frozenset({"traits", "properties", "context", "integrations"})
_JSON_POSITIONS: Final = tuple(i for i, name in enumerate(EVENT_COLUMNS) if name in JSON_COLUMNS)
_PICK: Final = operator.itemgetter(*EVENT_COLUMNS)

_TIME_POSITIONS: Final = tuple(
    i
    for i, name in enumerate(EVENT_COLUMNS)
    if name in ("timestamp", "original_timestamp", "sent_at", "received_at")
)

EventTuple = tuple[Any, ...]
"""One ``events`` row as values in :data:`EVENT_COLUMNS` order. For speed on the way to Arrow,
JSON columns are UTF-8 bytes (not decoded and encoded again) and times are naive UTC datetimes
(Arrow converts those without a time-zone call per value)."""


@dataclass(slots=True)
class EntryEvents:
    """What one logged request yields."""

    rows: list[EventTuple] = field(default_factory=list)
    rejected: list[RejectedMessage] = field(default_factory=list)

    def row_dicts(self) -> list[EventRow]:
        """The rows as ``normalize_message`` makes them (JSON columns as text)."""
        return [as_row_dict(row) for row in self.rows]


def as_row_dict(row: EventTuple) -> EventRow:
    """An :data:`EventTuple` as an ``events`` row dict, JSON columns as text."""
    values = list(row)
    for position in _JSON_POSITIONS:
        if values[position] is not None:
            values[position] = values[position].decode("utf-8")
    for position in _TIME_POSITIONS:
        if values[position] is not None:
            values[position] = values[position].replace(tzinfo=UTC)
    return dict(zip(EVENT_COLUMNS, values, strict=True))


def as_event_tuple(row: Mapping[str, Any]) -> EventTuple:
    """An ``events`` row dict (``normalize_message``'s) as an :data:`EventTuple`."""
    values = list(_PICK(row))
    for position in _JSON_POSITIONS:
        if isinstance(values[position], str):
            values[position] = values[position].encode("utf-8")
    for position in _TIME_POSITIONS:
        value = values[position]
        if value is not None and value.tzinfo is not None:
            values[position] = value.astimezone(UTC).replace(tzinfo=None)
    return tuple(values)


def derived_message_id(entry_id: str, position: int) -> str:
    """The ``messageId`` given to the message at ``position`` of an entry that had none.

    >>> derived_message_id("abc", 1) == derived_message_id("abc", 1)
    True
    """
    return str(uuid.uuid5(_MESSAGE_IDS, f"{entry_id}:{position}"))


def entry_events(
    *,
    kind: str,
    payload: bytes,
    source: str,
    received_at: datetime,
    entry_id: str,
    validated: bool = False,
    max_events: int | None = MAX_BATCH_EVENTS,
) -> EntryEvents:
    """Every message of one logged request as an ``events`` row or a rejected message.

    ``validated``: the collector found every message of the request valid (the log says so).
    A batch is then decoded in one call, without the per-message size and nesting checks; any
    message that still needs a closer look sends the whole request down the general path.
    ``max_events``: the most messages a batch may hold (``None`` for batch files).
    """
    if validated and kind not in SINGLE_KINDS:
        rows = _validated_batch(payload, source, received_at, entry_id)
        if rows is not None:
            return EntryEvents(rows=rows)
    result = EntryEvents()
    try:
        wire = split_request(kind, payload, max_events=max_events)
    except (CollectRequestError, ValidationError) as exc:
        text = payload.decode("utf-8", "replace")
        result.rejected.append(RejectedMessage(1, text, _request_error(exc)))
        return result
    single = kind if kind in SINGLE_KINDS else None
    received = received_at.astimezone(UTC)
    shared = _Shared.of(wire.shared, received)
    for position, item in enumerate(wire.items, start=1):
        _add(result, item, position, single, shared, source, entry_id)
    return result


def _request_error(exc: CollectRequestError | ValidationError) -> ValidationError:
    if isinstance(exc, ValidationError):
        return exc
    return ValidationError("body", exc.code, exc.message)


@dataclass(frozen=True, slots=True)
class _Shared:
    """A batch's shared fields (its ``sentAt`` parsed once) and the entry's receive time, also
    as naive UTC datetimes for the fast path."""

    fields: BatchFields
    received: datetime
    received_naive: datetime
    sent_at_naive: datetime | None

    @classmethod
    def of(cls, fields: BatchFields, received: datetime) -> _Shared:
        sent_at = fields.sent_at_instant
        return cls(
            fields,
            received,
            received.astimezone(UTC).replace(tzinfo=None),
            None if sent_at is None else sent_at.astimezone(UTC).replace(tzinfo=None),
        )


def _add(
    result: EntryEvents,
    item: bytes,
    position: int,
    single: str | None,
    shared: _Shared,
    source: str,
    entry_id: str,
) -> None:
    if len(item) <= MAX_EVENT_BYTES and item.count(b"{") + item.count(b"[") <= MAX_DEPTH:
        row = _fast_row(item, single, shared, source, entry_id, position)
        if row is not None:
            result.rows.append(row)
            return
    error = limits_problem(item)
    message: Any = None
    if error is None:
        try:
            message = decode_value(item)
        except ValidationError as exc:
            error = exc
    if error is None:
        message = _completed(message, single, entry_id, position)
        error = _full_row(message, shared, source, result)
        if error is None:
            return
    result.rejected.append(RejectedMessage(position, _payload_text(item, message, shared), error))


def _completed(message: Any, single: str | None, entry_id: str, position: int) -> Any:
    """The message with the route's type and, when it has none, its derived messageId."""
    if not isinstance(message, dict):
        return message
    if single is not None:
        message["type"] = single
    if message.get("messageId") in (None, ""):
        message["messageId"] = derived_message_id(entry_id, position)
    return message


def _full_row(
    message: Any, shared: _Shared, source: str, result: EntryEvents
) -> ValidationError | None:
    try:
        row = normalize_message(
            message,
            received_at=shared.received,
            source=source,
            batch_context=shared.fields.context,
            batch_integrations=shared.fields.integrations,
            batch_sent_at=shared.fields.sent_at,
        )
    except ValidationError as exc:
        return exc
    except RecursionError:
        return ValidationError("message", "max_depth", "message: nested too deeply")
    result.rows.append(as_event_tuple(row))
    return None


def _payload_text(item: bytes, message: Any, shared: _Shared) -> str:
    """What the quarantine keeps: the message with its batch's shared fields folded in (so a
    replay needs nothing else), or the raw text when it is not a usable JSON object."""
    if not isinstance(message, dict):
        return item.decode("utf-8", "replace")
    folded = dict(message)
    fields = shared.fields
    for name, value in (("context", fields.context), ("integrations", fields.integrations)):
        own = folded.get(name)
        if value is not None and (own is None or isinstance(own, dict)):
            folded[name] = {**value, **(own or {})}
    if shared.fields.sent_at is not None and folded.get("sentAt") in (None, ""):
        folded["sentAt"] = shared.fields.sent_at
    try:
        return _ENCODER.encode(folded).decode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return item.decode("utf-8", "replace")


# -- the fast path: typed decoding, the row normalize_message would make ----------------------


class _RowMessage(msgspec.Struct):
    """The fields an ``events`` row takes from a message; JSON objects stay raw text."""

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
    traits: msgspec.Raw = msgspec.Raw()
    properties: msgspec.Raw = msgspec.Raw()
    context: msgspec.Raw = msgspec.Raw()
    integrations: msgspec.Raw = msgspec.Raw()
    category: msgspec.Raw = msgspec.Raw()
    channel: msgspec.Raw = msgspec.Raw()


class _RowBatch(msgspec.Struct):
    """A batch body with its messages decoded for rows; shared fields stay raw."""

    batch: list[_RowMessage] = msgspec.field(default_factory=list)
    context: msgspec.Raw = msgspec.Raw()
    integrations: msgspec.Raw = msgspec.Raw()
    sentAt: str | None = None  # noqa: N815


_ROW_DECODER: Final = msgspec.json.Decoder(_RowMessage)
_ROW_BATCH_DECODER: Final = msgspec.json.Decoder(_RowBatch)


def _validated_batch(
    payload: bytes, source: str, received_at: datetime, entry_id: str
) -> list[EventTuple] | None:
    """All rows of a batch the collector validated, or ``None`` to take the general path (shared
    ``context``/``integrations`` to merge, or a message the fast path cannot decide)."""
    try:
        body = _ROW_BATCH_DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return None
    if (body.context and bytes(body.context) != b"null") or (
        body.integrations and bytes(body.integrations) != b"null"
    ):
        return None
    shared = _Shared.of(BatchFields(sent_at=body.sentAt), received_at.astimezone(UTC))
    try:
        return [
            _row(message, None, shared, source, entry_id, position)
            for position, message in enumerate(body.batch, start=1)
        ]
    except (_NeedsFullCheckError, ValueError, OverflowError):
        return None


class _NeedsFullCheckError(Exception):
    """The message needs ``normalize_message`` to judge it."""


def _fast_row(
    item: bytes, single: str | None, shared: _Shared, source: str, entry_id: str, position: int
) -> EventTuple | None:
    try:
        message = _ROW_DECODER.decode(item)
        return _row(message, single, shared, source, entry_id, position)
    except (
        _NeedsFullCheckError, msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError,
        ValueError, OverflowError, RecursionError,
    ):  # fmt: skip
        return None


def _row(
    m: _RowMessage, single: str | None, shared: _Shared, source: str, entry_id: str, position: int
) -> EventTuple:
    kind = _kind(single or m.type)
    user_id, anonymous_id = _id(m.userId), _id(m.anonymousId)
    previous_id, group_id = _id(m.previousId), _id(m.groupId)
    event = m.event or None
    _check_identity(kind, user_id, anonymous_id, previous_id, group_id, event)
    original = _instant(m.originalTimestamp or m.timestamp)  # "" counts as absent
    sent_at = _instant(m.sentAt) if m.sentAt else None
    if sent_at is None:
        if not shared.fields.sent_at_valid:
            raise _NeedsFullCheckError
        sent_at = shared.sent_at_naive
    received = shared.received_naive
    timestamp = received if original is None else original
    if original is not None and sent_at is not None:
        timestamp = received - (sent_at - original)
    message_id = _id(m.messageId) or derived_message_id(entry_id, position)
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise _NeedsFullCheckError
    traits, context = _object(m.traits), _merged(shared.fields.context, m.context)
    if (
        _present(m.category)
        or _present(m.channel)
        or (kind == "identify" and context is not None and b'"traits"' in context)
    ):
        traits, context = _folded(kind, traits, context, m)
    # In EVENT_COLUMNS order.
    return (
        message_id,
        kind,
        event,
        m.name or None,
        user_id,
        anonymous_id,
        previous_id,
        group_id,
        traits,
        _object(m.properties),
        context,
        _merged(shared.fields.integrations, m.integrations),
        timestamp,
        original,
        sent_at,
        received,
        timestamp.date(),
        source,
    )


def _kind(value: str | None) -> str:
    if value is None:
        raise _NeedsFullCheckError
    if value in MESSAGE_TYPES:
        return value
    lowered = value.lower()
    if lowered not in MESSAGE_TYPES:
        raise _NeedsFullCheckError
    return lowered


def _id(value: str | float | None) -> str | None:
    if value is None or value == "":
        return None
    return value if type(value) is str else str(value)


def _check_identity(
    kind: str,
    user_id: str | None,
    anonymous_id: str | None,
    previous_id: str | None,
    group_id: str | None,
    event: str | None,
) -> None:
    if kind == "alias":
        ok = user_id is not None and previous_id is not None
    elif user_id is None and anonymous_id is None:
        ok = False
    else:
        ok = (kind != "track" or event is not None) and (kind != "group" or group_id is not None)
    if not ok:
        raise _NeedsFullCheckError


def _instant(value: str | None) -> datetime | None:
    """The instant as a naive UTC datetime (see :data:`EventTuple`)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if "Z" in value else value)
    zone = parsed.tzinfo
    if zone is None:
        return parsed
    if zone is not UTC:
        parsed = parsed.astimezone(UTC)
    return parsed.replace(tzinfo=None)


def _object(raw: msgspec.Raw) -> bytes | None:
    """The object's JSON text as sent; ``None`` for absent or null."""
    if not raw:
        return None
    text = bytes(raw)
    if text[0] == 0x7B:  # {
        return text
    if text == b"null":
        return None
    raise _NeedsFullCheckError


def _present(raw: msgspec.Raw) -> bool:
    return bool(raw) and bytes(raw) != b"null"


def _folded(
    kind: str, traits: bytes | None, context: bytes | None, m: _RowMessage
) -> tuple[bytes | None, bytes | None]:
    """``traits`` and ``context`` as ``normalize_message`` makes them when the message has
    top-level fields to keep in ``context`` or identify traits inside ``context``."""
    try:
        fields = {
            name: _ANY.decode(raw)
            for name, raw in (("category", m.category), ("channel", m.channel))
            if _present(raw)
        }
        context_value = with_top_level(None if context is None else _ANY.decode(context), fields)
        traits_value = promoted_traits(
            kind, None if traits is None else _ANY.decode(traits), context_value
        )
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        raise _NeedsFullCheckError from None
    return _encoded(traits_value), _encoded(context_value)


def _encoded(value: Mapping[str, Any] | None) -> bytes | None:
    return None if value is None else _ENCODER.encode(value)


def _merged(shared: Mapping[str, Any] | None, own: msgspec.Raw) -> bytes | None:
    if shared is None:
        return _object(own)
    own_text = _object(own)
    own_value = {} if own_text is None else _ANY.decode(own_text)
    return _ENCODER.encode({**shared, **own_value})

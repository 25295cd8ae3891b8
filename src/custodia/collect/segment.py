"""Segment tracking spec: validate one message and shape it as a row of the ``events`` table.

Used by the event batch file loader now and by the HTTP collector. Rules follow the Segment HTTP
tracking API: ``userId`` or ``anonymousId`` on every type except alias; ``event`` for track;
``groupId`` for group; ``userId`` and ``previousId`` for alias. Batch-level ``context`` and
``integrations`` are merged into each message (the message's own keys win). Timestamps are
corrected for client clock skew: ``timestamp = receivedAt - (sentAt - originalTimestamp)``.

Nothing a client sends at the top level is lost for want of a column: ``category`` (Segment's page
and screen category) and ``channel`` (RudderStack's ``"server"``, ``"web"``, ...) are kept in
``context`` under :data:`TOP_LEVEL_KEY` (``context.top_level.category``). An identify call's
``context.traits`` (where RudderStack's SDKs put identify traits) are promoted to ``traits``, the
message's own ``traits`` winning key by key; ``context`` keeps them as sent.

Example::

    row = normalize_message({"type": "track", "event": "Signed Up", "userId": "u1"},
                            received_at=now, source="web")
    row["message_id"]  # generated when absent
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from custodia.core.errors import ValidationError

MESSAGE_TYPES = frozenset({"track", "identify", "page", "screen", "group", "alias"})
MAX_MESSAGE_ID_LENGTH = 100
TOP_LEVEL_KEY = "top_level"
"""The ``context`` key that keeps top-level message fields ``events`` has no column for."""
TOP_LEVEL_FIELDS = ("category", "channel")
"""Top-level message fields kept in ``context[TOP_LEVEL_KEY]`` (any JSON value but null)."""

EventRow = dict[str, Any]


def normalize_message(
    message: Mapping[str, Any],
    *,
    received_at: datetime,
    source: str,
    batch_context: Mapping[str, Any] | None = None,
    batch_integrations: Mapping[str, Any] | None = None,
    batch_sent_at: str | None = None,
    type_hint: str | None = None,
) -> EventRow:
    """Validate a Segment message and return it as an ``events`` row (JSON fields as text).

    Raises :class:`ValidationError` naming the field and the rule; the value is never echoed.
    """
    if not isinstance(message, Mapping):
        raise ValidationError("message", "must_be_object", "message: must be a JSON object")
    kind = _message_type(message, type_hint)
    user_id = _optional_id(message, "userId")
    anonymous_id = _optional_id(message, "anonymousId")
    _check_identity(kind, message, user_id, anonymous_id)
    received = received_at.astimezone(UTC)
    original = _parse_time(message, "originalTimestamp") or _parse_time(message, "timestamp")
    sent_at = _parse_time(message, "sentAt") or _parse_iso("sentAt", batch_sent_at)
    timestamp = _corrected_timestamp(received, original, sent_at)
    row: EventRow = {
        "message_id": _message_id(message),
        "type": kind,
        "event": _optional_text(message, "event"),
        "name": _optional_text(message, "name"),
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "previous_id": _optional_id(message, "previousId"),
        "group_id": _optional_id(message, "groupId"),
    }
    traits = _object_field(message, "traits")
    properties = _json_field(message, "properties")
    context = with_top_level(
        _merged(batch_context, message.get("context"), "context"),
        {name: message[name] for name in TOP_LEVEL_FIELDS if message.get(name) is not None},
    )
    return {
        **row,
        "traits": _dump(promoted_traits(kind, traits, context)),
        "properties": properties,
        "context": _dump(context),
        "integrations": _dump(
            _merged(batch_integrations, message.get("integrations"), "integrations")
        ),
        "timestamp": timestamp,
        "original_timestamp": original,
        "sent_at": sent_at,
        "received_at": received,
        "event_date": timestamp.date(),
        "source": source,
    }


def _message_type(message: Mapping[str, Any], type_hint: str | None) -> str:
    kind = message.get("type", type_hint)
    if kind is None:
        raise ValidationError("type", "required", "type: is required in a batch item")
    if not isinstance(kind, str) or kind.lower() not in MESSAGE_TYPES:
        raise ValidationError("type", "one_of", f"type: must be one of {sorted(MESSAGE_TYPES)}")
    return kind.lower()


def _check_identity(
    kind: str, message: Mapping[str, Any], user_id: str | None, anonymous_id: str | None
) -> None:
    if kind == "alias":
        if user_id is None:
            raise ValidationError("userId", "required", "userId: is required for alias")
        if _optional_id(message, "previousId") is None:
            raise ValidationError("previousId", "required", "previousId: is required for alias")
        return
    if user_id is None and anonymous_id is None:
        raise ValidationError(
            "userId", "user_or_anonymous_id", "userId or anonymousId: one of them is required"
        )
    if kind == "track" and _optional_text(message, "event") is None:
        raise ValidationError("event", "required", "event: is required for track")
    if kind == "group" and _optional_id(message, "groupId") is None:
        raise ValidationError("groupId", "required", "groupId: is required for group")


def _optional_id(message: Mapping[str, Any], field: str) -> str | None:
    """Ids may arrive as numbers (clients stringify them); empty strings count as absent."""
    value = message.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationError(field, "must_be_string", f"{field}: must be a string")
    return str(value)


def _optional_text(message: Mapping[str, Any], field: str) -> str | None:
    value = message.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must_be_string", f"{field}: must be a string")
    return value


def _message_id(message: Mapping[str, Any]) -> str:
    given = _optional_id(message, "messageId")
    if given is None:
        return str(uuid.uuid4())
    if len(given) > MAX_MESSAGE_ID_LENGTH:
        raise ValidationError(
            "messageId", "max_length", f"messageId: longer than {MAX_MESSAGE_ID_LENGTH} characters"
        )
    return given


def _json_field(message: Mapping[str, Any], field: str) -> str | None:
    return _dump(_object_field(message, field))


def _object_field(message: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    value = message.get(field)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must_be_object", f"{field}: must be a JSON object")
    return value


def with_top_level(
    context: Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """``context`` with the message's top-level ``fields`` under :data:`TOP_LEVEL_KEY` (merged
    into a sender's own ``context.top_level`` object, the message's fields winning).

    >>> with_top_level({"ip": "1.2.3.4"}, {"category": "Docs"})
    {'ip': '1.2.3.4', 'top_level': {'category': 'Docs'}}
    """
    if not fields:
        return context
    own = (context or {}).get(TOP_LEVEL_KEY)
    kept = {**own, **fields} if isinstance(own, Mapping) else dict(fields)
    return {**(context or {}), TOP_LEVEL_KEY: kept}


def promoted_traits(
    kind: str, traits: Mapping[str, Any] | None, context: Mapping[str, Any] | None
) -> Mapping[str, Any] | None:
    """An identify call's traits: ``context.traits`` (RudderStack's SDKs send them there) with
    the message's own ``traits`` winning key by key. Other types keep their ``traits``.

    >>> promoted_traits("identify", None, {"traits": {"email": "a@b.cn"}})
    {'email': 'a@b.cn'}
    """
    if kind != "identify" or context is None:
        return traits
    nested = context.get("traits")
    if not isinstance(nested, Mapping):
        return traits
    return {**nested, **(traits or {})}


def _merged(batch: Mapping[str, Any] | None, own: Any, field: str) -> dict[str, Any] | None:
    if own is not None and not isinstance(own, Mapping):
        raise ValidationError(field, "must_be_object", f"{field}: must be a JSON object")
    if batch is None and own is None:
        return None
    return {**(batch or {}), **(own or {})}


def _dump(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _parse_time(message: Mapping[str, Any], field: str) -> datetime | None:
    value = message.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "iso8601", f"{field}: must be an ISO-8601 string")
    return _parse_iso(field, value)


def _parse_iso(field: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValidationError(field, "iso8601", f"{field}: not an ISO-8601 timestamp") from None


def _corrected_timestamp(
    received: datetime, original: datetime | None, sent_at: datetime | None
) -> datetime:
    if original is None:
        return received
    if sent_at is None:
        return original
    try:
        return received - (sent_at - original)
    except OverflowError:
        raise ValidationError(
            "timestamp", "out_of_range", "timestamp: corrected for clock skew it is out of range"
        ) from None

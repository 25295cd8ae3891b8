"""The collector's fast checks of Segment messages on the wire: limits, one message, a whole batch.

:mod:`custodia.collect.segment_wire` decodes a request into :class:`WireMessage` structs; the
checks here say whether those messages may be stored, without building Python objects for what
they do not judge. They accept exactly what :func:`custodia.collect.segment.normalize_message`
accepts: whenever a check says "invalid" (or cannot tell), the caller asks ``normalize_message``
for the verdict (field, rule, message), so the two always agree on what is wrong.

- :func:`limits_problem`: the size and nesting limits every message must respect;
- :func:`message_valid`: one message, field by field (about 0.8 µs in Python);
- :func:`batch_types`: every message of a batch at once, for the common batch (plain types, ids
  present, no message-level ``sentAt``, timestamps that parse): one pass per field over the
  whole batch in C (``map`` with ``attrgetter``, ``len``, ``str.replace``,
  ``datetime.fromisoformat``, ``min``/``max``), about three times cheaper per message. It
  answers the batch's message types when every message is valid, and ``None`` whenever it cannot
  tell cheaply; the caller then checks message by message.

Example::

    types = batch_types(items, messages, shared, received_at)
    if types is None:
        problems = [... message_valid(m, None, shared, received_at) ...]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Final

from custodia.collect.segment import MAX_MESSAGE_ID_LENGTH, MESSAGE_TYPES
from custodia.core.errors import ValidationError

if TYPE_CHECKING:
    from custodia.collect.segment_wire import BatchFields, WireMessage

MAX_EVENT_BYTES: Final = 32 * 1024
MAX_DEPTH: Final = 100

_JSON_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_ABSENT: Final = (None, "")
"""Values that count as a missing field (``normalize_message``'s rule for ids and times)."""


def limits_problem(item: bytes) -> ValidationError | None:
    """The size and nesting limits every message must respect."""
    if len(item) > MAX_EVENT_BYTES:
        return ValidationError(
            "message", "max_size", f"message: larger than {MAX_EVENT_BYTES} bytes"
        )
    if nesting_depth(item) > MAX_DEPTH:
        return ValidationError(
            "message", "max_depth", f"message: nested deeper than {MAX_DEPTH} levels"
        )
    return None


def nesting_depth(raw: bytes) -> int:
    """How deeply objects and arrays nest in the JSON text ``raw`` (brackets inside strings do
    not count). Cheap when the text has few brackets, which is nearly always."""
    brackets = raw.count(b"{") + raw.count(b"[")
    if brackets <= MAX_DEPTH:
        return brackets
    depth = deepest = 0
    for char in _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += 1 if char in (0x7B, 0x5B) else -1
        deepest = max(deepest, depth)
    return deepest


# -- one message --------------------------------------------------------------------------------


def message_valid(
    m: WireMessage, kind: str | None, shared: BatchFields, received: datetime
) -> bool:
    """One function on purpose: it runs for every event the collector receives."""
    kind = kind or m.type
    if kind is None:
        return False
    if kind not in MESSAGE_TYPES:
        kind = kind.lower()
        if kind not in MESSAGE_TYPES:
            return False
    user_id = m.userId
    has_user = user_id is not None and user_id != ""
    if kind == "alias":
        if not has_user or m.previousId is None or m.previousId == "":
            return False
    else:
        has_anonymous = m.anonymousId is not None and m.anonymousId != ""
        has_group = m.groupId is not None and m.groupId != ""
        if not (has_user or has_anonymous) or (kind == "track" and not m.event):
            return False
        if kind == "group" and not has_group:
            return False
    message_id = m.messageId
    if message_id is not None and len(str(message_id)) > MAX_MESSAGE_ID_LENGTH:
        return False
    return _times_valid(m, shared, received)


def _times_valid(m: WireMessage, shared: BatchFields, received: datetime) -> bool:
    try:
        # "originalTimestamp, else timestamp" (an empty string counts as absent), one parse
        original = _instant(m.originalTimestamp or m.timestamp)
        sent_at = _instant(m.sentAt) if m.sentAt else None
        if sent_at is None:
            if not shared.sent_at_valid:
                return False
            sent_at = shared.sent_at_instant
        if original is not None and sent_at is not None:
            received - (sent_at - original)
    except (ValueError, OverflowError):
        return False
    return True


def _instant(value: str | None) -> datetime | None:
    """The instant ``normalize_message`` would parse (``None`` and ``""`` are absent)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if "Z" in value else value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    if parsed.year in (1, 9999):  # only there can the conversion to UTC overflow
        parsed.astimezone(UTC)
    return parsed


def shared_sent_at(value: str | None) -> tuple[datetime | None, bool]:
    """A batch's ``sentAt`` parsed once: (instant, valid). Unlike a message's own ``sentAt``,
    an empty string is invalid (``normalize_message``'s rule)."""
    if value is None:
        return None, True
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        instant = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None, False
    return instant, True


# -- a whole batch ------------------------------------------------------------------------------

_TYPE: Final = attrgetter("type")
_USER_ID: Final = attrgetter("userId")
_ANONYMOUS_ID: Final = attrgetter("anonymousId")
_MESSAGE_ID: Final = attrgetter("messageId")
_SENT_AT: Final = attrgetter("sentAt")
_ORIGINAL: Final = attrgetter("originalTimestamp")
_TIMESTAMP: Final = attrgetter("timestamp")
_NEEDS: Final = {"track": attrgetter("event"), "group": attrgetter("groupId")}
"""The field a type requires besides an id (present: neither missing nor empty)."""


def batch_types(
    items: Sequence[bytes],
    messages: Sequence[WireMessage],
    shared: BatchFields,
    received: datetime,
) -> frozenset[str] | None:
    """The message types of a batch whose every message is valid (``message_valid`` says so
    of each), or ``None``: some message is not, or the batch is not of the common kind.

    ``items`` are the messages' JSON texts, ``messages`` the same messages decoded.
    """
    if not items:
        return frozenset()
    if not _within_limits(items):
        return None
    types = frozenset(map(_TYPE, messages))
    if not types <= MESSAGE_TYPES or "alias" in types:  # other spellings, alias: one by one
        return None
    if not (_ids_present(messages, types) and _ids_short(messages)):
        return None
    return types if _times_in_range(messages, shared, received) else None


def _within_limits(items: Sequence[bytes]) -> bool:
    """Every message within the size limit, and with at most :data:`MAX_DEPTH` brackets (the
    largest count of ``{`` plus the largest count of ``[`` bounds every message's nesting)."""
    if max(map(len, items)) > MAX_EVENT_BYTES:
        return False
    braces = max(map(bytes.count, items, repeat(b"{")))
    return braces + max(map(bytes.count, items, repeat(b"["))) <= MAX_DEPTH


def _ids_present(messages: Sequence[WireMessage], types: frozenset[str]) -> bool:
    """A ``userId`` or an ``anonymousId`` on every message; ``event`` on tracks, ``groupId`` on
    groups."""
    users = list(map(_USER_ID, messages))
    if None in users or "" in users:
        lacking = (m for m, user in zip(messages, users, strict=True) if user in _ABSENT)
        if not _present(map(_ANONYMOUS_ID, lacking)):
            return False
    for kind, needed in _NEEDS.items():
        if kind not in types:
            continue
        values = map(needed, messages if len(types) == 1 else _of_type(messages, kind))
        if not _present(values):
            return False
    return True


def _of_type(messages: Sequence[WireMessage], kind: str) -> Iterable[WireMessage]:
    return (m for m in messages if m.type == kind)


def _present(values: Iterable[object]) -> bool:
    found = list(values)
    return None not in found and "" not in found


def _ids_short(messages: Sequence[WireMessage]) -> bool:
    """No ``messageId`` longer than the limit (as text: numbers count as their digits; a missing
    id, ``"None"``, is short)."""
    return max(map(len, map(str, map(_MESSAGE_ID, messages)))) <= MAX_MESSAGE_ID_LENGTH


def _times_in_range(
    messages: Sequence[WireMessage], shared: BatchFields, received: datetime
) -> bool:
    """Every message's timestamp parses and, corrected for clock skew against the batch's
    ``sentAt``, stays within the years 1-9999. Messages with a ``sentAt`` of their own are left
    to the message-by-message check.

    Only the earliest and the latest timestamp can leave the range: the correction
    ``received - (sentAt - original)`` grows with ``original``, and a conversion to UTC fails
    only for an instant before year 1 or after 9999."""
    if any(map(_SENT_AT, messages)) or not shared.sent_at_valid:
        return False
    stamps: Iterable[str | None] = map(_TIMESTAMP, messages)
    originals = list(map(_ORIGINAL, messages))
    if any(originals):  # "originalTimestamp, else timestamp"; "" counts as absent
        stamps = [o or t for o, t in zip(originals, stamps, strict=True)]
    given = list(filter(None, stamps))
    if not given:
        return True
    try:
        replaced = map(str.replace, given, repeat("Z"), repeat("+00:00"))  # as _instant does
        parsed = list(map(datetime.fromisoformat, replaced))
        ends = [min(parsed), max(parsed)]  # TypeError: naive and aware mixed (one by one)
        if ends[0].tzinfo is None:
            ends = [end.replace(tzinfo=UTC) for end in ends]
        for end in ends:
            end.astimezone(UTC)
            if shared.sent_at_instant is not None:
                received - (shared.sent_at_instant - end)
    except (ValueError, OverflowError, TypeError):
        return False
    return True

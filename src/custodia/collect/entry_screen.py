"""Entry validation at the HTTP collector: quality rules judged on each message before the 200.

The collector does not know the quality rules (``collect`` and ``quality`` are separate
domains); it is handed an :class:`EntryRules` object (in practice
:class:`custodia.quality.entry.EntryValidator` for the ``events`` table, built from the rules
in force when the server starts) and shows it each message as the ``events`` columns the rules
read: ``source`` (the write key's), ``type``, ``event``, ``name``, the ids, and the JSON columns
``traits``, ``properties``, ``context`` and ``integrations`` as the loader will store them (a
batch's shared ``context`` merged in, an identify call's ``context.traits`` promoted into
``traits``). Rules on time columns are judged by the loader only, on the normalized row.

What the collector does with the verdicts (:func:`screen_messages`):

- a single-message route with a ``reject`` violation answers 400 ``rule_violation`` naming the
  field and the rule; nothing is logged;
- otherwise everything is logged (the log stays the source of truth) and the loader keeps out
  what breaks ``reject``/``quarantine`` rules (quarantine, open) and flags the rest; the reply
  counts them: ``rejected`` (broke a reject rule), ``quarantined`` (kept out for any reason,
  spec violations included) and ``flagged`` (stored with a flag).

Example::

    screen = screen_messages(rules, "batch", wire, problems)
    screen.rejection, screen.rejected, screen.held, screen.flagged
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import msgspec

from custodia.collect.segment import promoted_traits
from custodia.collect.segment_wire import SINGLE_KINDS, BatchFields, MessageProblem, WireItems

__all__ = [
    "COLLECTOR_COLUMNS",
    "EntryFinding",
    "EntryRules",
    "EntryScreen",
    "message_columns",
    "screen_messages",
]

_IDS: Final = {
    "user_id": "userId",
    "anonymous_id": "anonymousId",
    "previous_id": "previousId",
    "group_id": "groupId",
    "message_id": "messageId",
}
_WIRE_FIELDS: Final = {
    "type": ("type",),
    "event": ("event",),
    "name": ("name",),
    "traits": ("traits", "context", "type"),  # an identify call's context.traits are promoted
    "properties": ("properties",),
    "context": ("context",),
    "integrations": ("integrations",),
    "source": (),  # the authenticated source, not in the message
    **{column: (wire,) for column, wire in _IDS.items()},
}
COLLECTOR_COLUMNS: Final = frozenset(_WIRE_FIELDS)
_OBJECTS: Final = frozenset({"traits", "properties", "context", "integrations"})
"""Wire fields kept raw until a column needs them."""
_NO_RAW: Final = msgspec.Raw(b"")
"""The ``events`` columns the collector can show rules before the loader normalizes a message."""


class EntryFinding(Protocol):
    """One broken rule: ``action`` is ``reject``, ``quarantine`` or ``flag``."""

    @property
    def action(self) -> str: ...

    @property
    def reason(self) -> str: ...


class EntryRules(Protocol):
    """Rules judged on each message (:class:`custodia.quality.entry.EntryValidator`)."""

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def applies_to_types(self) -> frozenset[str] | None:
        """Message types some rule may judge (None: any); others are skipped unread."""

    def check(self, record: Mapping[str, Any]) -> Sequence[EntryFinding]: ...


@dataclass(frozen=True, slots=True)
class EntryScreen:
    """What the rules said about a request's valid messages."""

    rejection: str | None = None
    """The first reject violation's reason (a single-message route answers 400 with it)."""
    rejected: int = 0
    """Messages that broke a ``reject`` rule."""
    held: int = 0
    """Messages the loader will keep out (``reject`` or ``quarantine`` rules)."""
    flagged: int = 0
    """Messages stored with a flag (only ``flag`` rules broken)."""


def screen_messages(
    rules: EntryRules,
    kind: str,
    wire: WireItems,
    problems: Sequence[MessageProblem],
    *,
    source: str | None = None,
    message_types: frozenset[str] | None = None,
) -> EntryScreen:
    """Judge every message of ``wire`` that is valid Segment (``problems`` are skipped);
    ``source`` is the name of the source the write key belongs to. ``message_types``, when
    known (:attr:`~custodia.collect.segment_wire.MessageCheck.types`), are the types of all the
    messages: a request of types no rule judges is not read at all."""
    types = rules.applies_to_types
    if types is not None and message_types is not None and types.isdisjoint(message_types):
        return EntryScreen()
    single = kind if kind in SINGLE_KINDS else None
    invalid = {p.index for p in problems}
    reader = _reader(tuple(dict.fromkeys(("type", *rules.columns))))
    rejection: str | None = None
    rejected = held = flagged = 0
    for index, message in enumerate(reader.messages(wire)):
        if index in invalid or message is None:
            continue
        if types is not None and _type(message, single) not in types:
            continue
        found = rules.check(reader.columns(message, single, wire.shared, source))
        if not found:
            continue
        rejects = [f for f in found if f.action == "reject"]
        if rejects and rejection is None:
            rejection = rejects[0].reason
        rejected += bool(rejects)
        blocked = any(f.action != "flag" for f in found)
        held += blocked
        flagged += not blocked
    return EntryScreen(rejection, rejected, held, flagged)


def message_columns(
    item: bytes, kind: str | None, shared: BatchFields, columns: Sequence[str]
) -> dict[str, Any]:
    """The ``columns`` of the ``events`` row a message becomes (as far as the collector can
    tell before normalizing it); ``kind`` is the route's type, ``None`` for batch items.

    >>> message_columns(b'{"traits": {"phone": "1"}}', "identify", BatchFields(), ["traits"])
    {'traits': {'phone': '1'}}
    """
    reader = _reader(tuple(columns))
    message = reader.message(item)
    return {} if message is None else reader.columns(message, kind, shared, None)


class _Reader:
    """Decodes only the message fields the rules' columns need (msgspec skips the rest without
    building them), a whole batch in one call. JSON objects (``traits``, ``context``, ...) are
    kept as raw bytes and decoded only when a column needs them: a track event's ``context``
    is never built for a rule on an identify call's traits."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self._columns = columns
        fields = sorted({wire for column in columns for wire in _WIRE_FIELDS[column]})
        message = msgspec.defstruct(
            "EntryFields",
            [(f, msgspec.Raw, _NO_RAW) if f in _OBJECTS else (f, Any, None) for f in fields],
        )
        batch = msgspec.defstruct("EntryBatch", [("batch", list[message])])  # type: ignore[valid-type]
        self._message: msgspec.json.Decoder[Any] = msgspec.json.Decoder(message)
        self._batch: msgspec.json.Decoder[Any] = msgspec.json.Decoder(batch)

    def message(self, item: bytes) -> Any:
        try:
            return self._message.decode(item)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return None  # not an object: the spec check already said so

    def messages(self, wire: WireItems) -> Sequence[Any]:
        if wire.batch is not None:
            try:
                return self._batch.decode(wire.batch).batch  # type: ignore[no-any-return]
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                pass  # some item is not an object: one by one
        return [self.message(item) for item in wire.items]

    def columns(
        self, message: Any, kind: str | None, shared: BatchFields, source: str | None
    ) -> dict[str, Any]:
        found = {name: _column(message, name, kind, shared) for name in self._columns}
        if "source" in found:
            found["source"] = source
        return found


@functools.lru_cache(maxsize=16)
def _reader(columns: tuple[str, ...]) -> _Reader:
    return _Reader(columns)


def _column(message: Any, name: str, kind: str | None, shared: BatchFields) -> Any:
    if name == "source":
        return None  # filled in by the caller
    if name == "type":
        return _type(message, kind)
    if name in _IDS:
        value = getattr(message, _IDS[name])
        return None if value is None or value == "" else str(value)
    if name == "context":
        return _merged(shared.context, _json(message.context))
    if name == "integrations":
        return _merged(shared.integrations, _json(message.integrations))
    if name == "traits":
        own = _json(message.traits)
        traits = own if isinstance(own, dict) else None
        kind_of = _type(message, kind) or ""
        if kind_of != "identify":
            return traits  # only an identify call's context.traits are promoted
        context = _merged(shared.context, _json(message.context))
        return promoted_traits(kind_of, traits, context if isinstance(context, dict) else None)
    return _json(getattr(message, name)) if name in _OBJECTS else getattr(message, name)


def _json(raw: Any) -> Any:
    """A raw JSON field decoded (None when the message does not have it)."""
    if not isinstance(raw, msgspec.Raw):
        return raw
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


def _type(message: Any, kind: str | None) -> str | None:
    value = kind or message.type
    return value.lower() if isinstance(value, str) else None


def _merged(shared: Mapping[str, Any] | None, own: Any) -> Any:
    if shared is None or not (own is None or isinstance(own, dict)):
        return own
    return {**shared, **(own or {})}

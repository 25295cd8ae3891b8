"""Entry validation at the HTTP collector: quality rules judged on each message before the 200.

The collector does not know the quality rules (``collect`` and ``quality`` are separate
domains); it is handed an :class:`EntryRules` object (in practice
:class:`custodia.quality.entry.EntryValidator` for the ``events`` table, built from the rules
in force when the server starts) and shows it each message as the ``events`` columns the rules
read: ``type``, ``event``, ``name``, the ids, and the JSON columns ``traits``, ``properties``,
``context`` and ``integrations`` as the loader will store them (a batch's shared ``context``
merged in, an identify call's ``context.traits`` promoted into ``traits``). Time columns are
judged by the loader only, on the normalized row.

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

from collections.abc import Collection, Mapping, Sequence
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
COLLECTOR_COLUMNS: Final = frozenset(
    {"type", "event", "name", "traits", "properties", "context", "integrations", *_IDS}
)
"""The ``events`` columns the collector can show rules before the loader normalizes a message."""
_DECODER: Final = msgspec.json.Decoder()


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
    rules: EntryRules, kind: str, wire: WireItems, problems: Sequence[MessageProblem]
) -> EntryScreen:
    """Judge every message of ``wire`` that is valid Segment (``problems`` are skipped)."""
    single = kind if kind in SINGLE_KINDS else None
    invalid = {p.index for p in problems}
    rejection: str | None = None
    rejected = held = flagged = 0
    for index, item in enumerate(wire.items):
        if index in invalid:
            continue
        found = rules.check(message_columns(item, single, wire.shared, rules.columns))
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
    item: bytes, kind: str | None, shared: BatchFields, columns: Collection[str]
) -> dict[str, Any]:
    """The ``columns`` of the ``events`` row the message becomes (as far as the collector can
    tell before normalizing it); ``kind`` is the route's type, ``None`` for batch items."""
    try:
        message = _DECODER.decode(item)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return {}
    if not isinstance(message, dict):
        return {}
    return {name: _column(message, name, kind, shared) for name in columns}


def _column(message: dict[str, Any], name: str, kind: str | None, shared: BatchFields) -> Any:
    if name == "type":
        return _type(message, kind)
    if name in _IDS:
        value = message.get(_IDS[name])
        return None if value is None or value == "" else str(value)
    if name == "context":
        return _merged(shared.context, message.get("context"))
    if name == "integrations":
        return _merged(shared.integrations, message.get("integrations"))
    if name == "traits":
        context = _merged(shared.context, message.get("context"))
        return promoted_traits(_type(message, kind) or "", message.get("traits"), context)
    return message.get(name)


def _type(message: dict[str, Any], kind: str | None) -> str | None:
    value = kind or message.get("type")
    return value.lower() if isinstance(value, str) else None


def _merged(shared: Mapping[str, Any] | None, own: Any) -> Any:
    if shared is None or not (own is None or isinstance(own, dict)):
        return own
    return {**shared, **(own or {})}

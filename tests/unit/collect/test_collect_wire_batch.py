"""The whole-batch check (``wire_check.batch_types``) accepts a batch only when every message
of it is valid, and the collector's verdicts stay ``normalize_message``'s either way.

Batches are drawn from values near every edge the batch path judges at once: ids missing or
empty, types in other spellings, message ids at the length limit, timestamps naive and aware,
at the ends of the calendar, ``originalTimestamp`` beside ``timestamp``, a message's own
``sentAt``, a batch ``sentAt`` that pushes the corrected time out of range.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from custodia.collect.segment import normalize_message
from custodia.collect.segment_wire import BatchFields, check_messages, split_request
from custodia.collect.wire_check import MAX_DEPTH, MAX_EVENT_BYTES
from custodia.core.errors import ValidationError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MISSING = object()

EDGES: dict[str, list[Any]] = {
    "type": ["track", "track", "identify", "page", "screen", "group", "alias", "Track", None],
    "userId": ["u1", "用户-7", 42, 1.5, 0, "", None, MISSING, MISSING],
    "anonymousId": ["a1", 7, "", None, MISSING],
    "previousId": ["p1", MISSING],
    "groupId": ["g1", 3, "", MISSING],
    "event": ["Order Completed", "下单", "", None, MISSING],
    "messageId": ["m-1", 17, 2.5, "", None, "x" * 100, "y" * 101, MISSING],
    "timestamp": ["2024-05-01T08:30:00+08:00", "2024-05-01T08:30:00Z", "2024-05-01",
                  "2024-05-01 10:00:00", "2024-05-01T10:00:00.123456", "2024-05-01Z", "bad",
                  "", None, "0001-01-01T00:00:00+01:00", "0001-01-01T23:00:00-01:00",
                  "0001-01-02T00:00:00Z", "9999-12-31T23:59:59-01:00", "9999-12-30T00:00:00Z",
                  MISSING],
    "originalTimestamp": ["2024-05-01T08:00:00Z", "nope", "", None, MISSING, MISSING, MISSING],
    "sentAt": ["2024-05-01T08:31:00Z", "", None, "later", MISSING, MISSING, MISSING, MISSING],
    "properties": [{"a": {"商品": "连衣裙"}}, {}, None, MISSING],
    "context": [{"ip": "1.2.3.4", "library": {"name": "x"}}, MISSING],
}  # fmt: skip
SHARED_SENT_AT = [None, "2024-05-01T08:35:00+08:00", "0001-01-05T00:00:00Z",
                  "9999-12-25T00:00:00Z", "", "not a time"]  # fmt: skip


def _message(rng: random.Random) -> dict[str, Any]:
    chosen = {name: rng.choice(options) for name, options in EDGES.items()}
    return {name: value for name, value in chosen.items() if value is not MISSING}


def _reference(message: dict[str, Any], sent_at: str | None) -> ValidationError | None:
    try:
        normalize_message(message, received_at=NOW, source="web", batch_sent_at=sent_at)
    except ValidationError as exc:
        return exc
    return None


def _key(error: ValidationError | None) -> tuple[str, str, str] | None:
    return None if error is None else (error.field, error.rule, str(error))


def _body(messages: list[Any], sent_at: str | None) -> bytes:
    body: dict[str, Any] = {"batch": messages}
    if sent_at is not None:
        body["sentAt"] = sent_at
    return json.dumps(body, ensure_ascii=False).encode()


def _check(messages: list[Any], sent_at: str | None) -> tuple[dict[int, Any], Any]:
    check = check_messages("batch", split_request("batch", _body(messages, sent_at)),
                           received_at=NOW)  # fmt: skip
    return {p.index: _key(p.error) for p in check.problems}, check.types


@pytest.mark.parametrize("sent_at", SHARED_SENT_AT, ids=range(len(SHARED_SENT_AT)))
def test_batch_verdicts_match_normalize(sent_at: str | None) -> None:
    rng = random.Random(str(sent_at))
    whole = 0
    for _ in range(1500):
        messages = [_message(rng) for _ in range(rng.choice((1, 1, 2, 3)))]
        want = {i: _key(_reference(m, sent_at)) for i, m in enumerate(messages)}
        got, types = _check(messages, sent_at)
        assert got == {i: e for i, e in want.items() if e is not None}, (messages, got, want)
        if types is not None:  # judged as a whole: only ever when every message is valid
            whole += 1
            assert not got
            assert types == {m["type"] for m in messages}
    if sent_at not in ("", "not a time"):
        assert whole > 20, "the batch path was taken"


def _track(**fields: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "u1", "event": "Viewed",
            "timestamp": "2024-05-01T08:30:00Z", **fields}  # fmt: skip


def test_a_uniform_batch_is_judged_as_a_whole() -> None:
    messages = [_track(messageId=f"m{i}", properties={"名": "毛衣"}) for i in range(100)]
    messages += [{"type": "page", "anonymousId": "a", "name": "Home"},
                 _track(originalTimestamp="2024-05-01T08:00:00.5+08:00", userId=None,
                        anonymousId=7, messageId=12.5)]  # fmt: skip
    assert _check(messages, "2024-05-01T08:31:00Z") == ({}, {"track", "page"})
    assert _check([], None) == ({}, frozenset())


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    ("odd", "sent_at", "problem"),
    [
        ({"type": "Track"}, None, None),  # valid, but spelled otherwise: one by one
        ({"type": "alias", "previousId": "p"}, None, None),
        ({"sentAt": "2024-05-01T08:31:00Z"}, None, None),
        ({"timestamp": "2024-05-01T08:30:00"}, None, None),  # naive beside aware
        ({"userId": ""}, None, ("userId", "user_or_anonymous_id")),
        ({"event": ""}, None, ("event", "required")),
        ({"messageId": "z" * 101}, None, ("messageId", "max_length")),
        ({"timestamp": "0001-01-01T00:00:00+01:00"}, None, ("timestamp", "iso8601")),
        ({"timestamp": "0001-01-03T00:00:00Z"}, "2030-01-01T00:00:00Z",
         ("timestamp", "out_of_range")),
        ({"properties": {"p": "x" * MAX_EVENT_BYTES}}, None, ("message", "max_size")),
        ({"properties": _nested(MAX_DEPTH)}, None, ("message", "max_depth")),
        ({"properties": {"a": [[1]] * MAX_DEPTH}}, None, None),  # many brackets, shallow
    ],
)  # fmt: skip
def test_one_odd_message_sends_the_batch_one_by_one(
    odd: dict[str, Any], sent_at: str | None, problem: tuple[str, str] | None
) -> None:
    messages = [_track(messageId=f"m{i}") for i in range(5)]
    messages.insert(3, _track(**odd))
    got, types = _check(messages, sent_at)
    assert types is None
    assert [(i, e[:2]) for i, e in got.items()] == ([] if problem is None else [(3, problem)])


def test_a_shared_sent_at_the_batch_path_relies_on_is_parsed_once() -> None:
    shared = BatchFields(sent_at="2024-05-01T08:35:00+08:00")
    assert shared.sent_at_instant == datetime(2024, 5, 1, 0, 35, tzinfo=UTC)
    assert BatchFields(sent_at="").sent_at_valid is False

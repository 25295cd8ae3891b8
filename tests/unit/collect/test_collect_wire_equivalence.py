"""The collector's fast paths agree with ``normalize_message`` on every message.

Thousands of generated messages (valid and broken in every way the spec names: types, ids,
timestamps, JSON fields, batch-level fields) go through the collector's check and the loader's
row builder; each answer is compared with what ``normalize_message`` says about the same message.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from custodia.collect.segment import normalize_message
from custodia.collect.segment_rows import derived_message_id, entry_events
from custodia.collect.segment_wire import BatchFields, check_item, find_problems, split_request
from custodia.core.errors import ValidationError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MISSING = object()

CHOICES: dict[str, list[Any]] = {
    "type": ["track", "identify", "page", "screen", "group", "alias", "TRACK", "Page", None,
             "", "other", 5, MISSING],
    "userId": ["u1", "用户-7", 42, 1.5, 0, "", None, True, {"a": 1}, [1], MISSING],
    "anonymousId": ["a1", 7, "", None, False, MISSING],
    "previousId": ["p1", 9, "", None, [2], MISSING],
    "groupId": ["g1", 3, "", None, {"x": 1}, MISSING],
    "event": ["Order Completed", "下单", "", None, 5, MISSING],
    "name": ["Home", "首页", "", None, 3, MISSING],
    "messageId": ["m-1", 17, "", None, "x" * 100, "y" * 101, 10**120, True, MISSING],
    "timestamp": ["2024-05-01T08:30:00+08:00", "2024-05-01T08:30:00Z", "2024-05-01",
                  "2024-05-01 10:00:00", "2024-05-01T10:00:00.123456", "bad", "", 5, None,
                  "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                  "0001-01-01T00:00:00Z", MISSING],
    "originalTimestamp": ["2024-05-01T08:00:00Z", "nope", "", None, MISSING, MISSING],
    "sentAt": ["2024-05-01T08:31:00Z", "9999-12-31T00:00:00Z", "later", "", 7, None,
               MISSING, MISSING],
    "properties": [{"b": 1, "a": {"商品": "连衣裙", "n": [1, 2.5, None]}}, {}, None, [1], "x",
                   MISSING],
    "traits": [{"name": "张伟", "age": 30}, None, 3, MISSING],
    "context": [{"ip": "1.2.3.4", "library": {"name": "x"}}, {}, None, "ctx", MISSING,
                {"traits": {"email": "a@b.cn", "name": "李娜"}}, {"traits": "not an object"},
                {"top_level": {"category": "old", "x": 1}}, {"top_level": 5}],
    "integrations": [{"All": False}, None, [True], MISSING],
    "category": ["Docs", "文档", "", 3, {"a": 1}, None, MISSING, MISSING],
    "channel": ["server", "web", None, MISSING, MISSING],
}  # fmt: skip

BATCH_SHARED = [
    BatchFields(),
    BatchFields(context={"locale": "zh-CN", "ip": "9.9.9.9"}, integrations={"All": True}),
    BatchFields(context={"traits": {"plan": "pro"}}),
    BatchFields(sent_at="2024-05-01T08:35:00+08:00"),
    BatchFields(sent_at=""),
    BatchFields(sent_at="not a time"),
]


def _messages(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    messages = []
    for _ in range(count):
        message = {}
        for name, options in CHOICES.items():
            value = rng.choice(options)
            if value is not MISSING:
                message[name] = value
        messages.append(message)
    return messages


def _reference(message: Any, shared: BatchFields, kind: str | None) -> ValidationError | None:
    if kind is not None and isinstance(message, dict):
        message = {**message, "type": kind}
    try:
        normalize_message(
            message, received_at=NOW, source="web", batch_context=shared.context,
            batch_integrations=shared.integrations, batch_sent_at=shared.sent_at,
        )  # fmt: skip
    except ValidationError as exc:
        return exc
    return None


def _same(got: ValidationError | None, want: ValidationError | None) -> bool:
    if got is None or want is None:
        return got is want
    return (got.field, got.rule, str(got)) == (want.field, want.rule, str(want))


@pytest.mark.parametrize("shared", BATCH_SHARED, ids=range(len(BATCH_SHARED)))
def test_batch_item_verdicts_match_normalize(shared: BatchFields) -> None:
    messages = _messages(seed=len(str(shared)), count=1500)
    valid = 0
    for message in messages:
        raw = json.dumps(message, ensure_ascii=False).encode()
        want = _reference(message, shared, None)
        got = check_item(raw, None, shared, NOW)
        assert _same(got, want), (message, got, want)
        valid += want is None
    assert 0 < valid < len(messages), "the corpus holds both valid and invalid messages"


@pytest.mark.parametrize("kind", ["track", "identify", "page", "screen", "group", "alias"])
def test_single_route_verdicts_match_normalize(kind: str) -> None:
    for message in _messages(seed=len(kind), count=600):
        raw = json.dumps(message, ensure_ascii=False).encode()
        wire = split_request(kind, raw)
        problems = find_problems(kind, wire, received_at=NOW)
        want = _reference(message, BatchFields(), kind)
        assert _same(problems[0].error if problems else None, want), (message, problems, want)


def test_whole_batch_check_matches_item_by_item() -> None:
    messages = _messages(seed=99, count=400)
    body = json.dumps(
        {"batch": messages, "context": {"app": "shop"}, "sentAt": "2024-05-01T08:35:00Z"}
    ).encode()
    wire = split_request("batch", body)
    problems = {p.index: p.error for p in find_problems("batch", wire, received_at=NOW)}
    for index, message in enumerate(messages):
        assert _same(problems.get(index), _reference(message, wire.shared, None))


def _expected_row(message: dict[str, Any], shared: BatchFields, position: int) -> dict[str, Any]:
    completed = dict(message)
    if completed.get("messageId") in (None, ""):
        completed["messageId"] = derived_message_id("entry-1", position)
    return normalize_message(
        completed, received_at=NOW, source="web", batch_context=shared.context,
        batch_integrations=shared.integrations, batch_sent_at=shared.sent_at,
    )  # fmt: skip


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    json_columns = ("traits", "properties", "context", "integrations")
    return {k: json.loads(v) if k in json_columns and v is not None else v for k, v in row.items()}


@pytest.mark.parametrize("validated", [False, True], ids=["general", "validated"])
@pytest.mark.parametrize("shared", BATCH_SHARED[:4], ids=range(4))
def test_loader_rows_equal_normalize_rows(shared: BatchFields, validated: bool) -> None:
    messages = _messages(seed=7 + len(str(shared)), count=1500)
    body: dict[str, Any] = {"batch": messages}
    if shared.context is not None:
        body.update(context=shared.context, integrations=shared.integrations)
    if shared.sent_at is not None:
        body["sentAt"] = shared.sent_at
    result = entry_events(
        kind="batch", payload=json.dumps(body, ensure_ascii=False).encode(), source="web",
        received_at=NOW, entry_id="entry-1", validated=validated,
    )  # fmt: skip
    rows = iter(result.row_dicts())
    rejected = {r.position: r for r in result.rejected}
    for position, message in enumerate(messages, start=1):
        want = _reference(message, shared, None)
        if want is not None:
            assert _same(rejected[position].error, want)
            continue
        expected = _expected_row(message, shared, position)
        assert _comparable(next(rows)) == _comparable(expected), message
    assert next(rows, None) is None
    assert len(result.rows) + len(result.rejected) == len(messages)


VALID_CHOICES: dict[str, list[Any]] = {
    "type": ["track", "identify", "page", "screen", "Track"],
    "userId": ["u1", "用户-7", 42, 1.5, "", MISSING],
    "anonymousId": ["a1", 7, MISSING],
    "event": ["Order Completed", "下单"],
    "name": ["Home", None, MISSING],
    "messageId": ["m-1", 17, "", MISSING],
    "timestamp": ["2024-05-01T08:30:00+08:00", "2024-05-01", "2024-05-01 10:00:00", MISSING],
    "sentAt": ["2024-05-01T08:31:00Z", MISSING],
    "properties": [{"b": 1, "a": {"商品": "连衣裙"}}, {}, None, MISSING],
    "context": [{"ip": "1.2.3.4"}, {"traits": {"email": "a@b.cn"}}, MISSING],
    "category": ["Docs", MISSING],
    "channel": ["server", MISSING],
}  # fmt: skip


def test_validated_batches_take_the_one_call_path_and_agree() -> None:
    rng = random.Random(11)
    messages = []
    for _ in range(600):
        chosen = {k: rng.choice(v) for k, v in VALID_CHOICES.items()}
        messages.append({k: v for k, v in chosen.items() if v is not MISSING})
    messages = [m for m in messages if _reference(m, BatchFields(), None) is None]
    body = json.dumps({"batch": messages, "sentAt": "2024-05-01T08:35:00Z"}).encode()
    general = entry_events(kind="batch", payload=body, source="web", received_at=NOW,
                           entry_id="e", validated=False)  # fmt: skip
    fast = entry_events(kind="batch", payload=body, source="web", received_at=NOW,
                        entry_id="e", validated=True)  # fmt: skip
    assert len(messages) > 300 and not general.rejected
    assert fast.rows == general.rows

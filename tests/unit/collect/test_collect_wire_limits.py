"""Request-level rules of the collector's decoder: shapes, sizes, nesting, numbers, encodings."""

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, datetime

import pytest

from custodia.collect.http_body import CollectRequestError, decode_body
from custodia.collect.segment_rows import entry_events
from custodia.collect.segment_wire import MAX_BATCH_EVENTS, parse_request
from custodia.collect.wire_check import MAX_DEPTH, MAX_EVENT_BYTES, nesting_depth
from custodia.core.errors import ValidationError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TRACK = {"type": "track", "userId": "u1", "event": "Viewed"}


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def _batch(*items: object, **shared: object) -> bytes:
    return json.dumps({"batch": list(items), **shared}, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "body: is empty"),
        (b'{"batch": [', 400, "body: not valid JSON"),
        (b'{"batch": ["\xff\xfe"]}', 400, "body: not valid UTF-8"),
        (b"[1, 2]", 400, "body: must be a JSON object"),
        (b'{"batch": {"type": "track"}}', 400, "batch: must be an array"),
        (b'{"context": {}}', 400, "batch: is required"),
        (b'{"batch": [], "context": [1]}', 400, "context: must be a JSON object"),
        (b'{"batch": [], "integrations": "all"}', 400, "integrations: must be a JSON object"),
        (b'{"batch": [' + b"[" * 5000 + b"]" * 5000 + b"]}", 400, "body: nested deeper"),
    ],
)
def test_unusable_batch_requests_are_refused_with_the_field(
    body: bytes, status: int, message: str
) -> None:
    with pytest.raises(CollectRequestError) as caught:
        parse_request("batch", body, received_at=NOW)
    assert caught.value.status == status
    assert caught.value.message.startswith(message)


def test_too_many_events_is_413() -> None:
    with pytest.raises(CollectRequestError) as caught:
        parse_request("batch", _batch(*[TRACK] * (MAX_BATCH_EVENTS + 1)), received_at=NOW)
    assert caught.value.status == 413
    assert parse_request("batch", _batch(*[TRACK] * MAX_BATCH_EVENTS), received_at=NOW).events


def test_bad_items_are_reported_and_the_rest_kept() -> None:
    big = {**TRACK, "properties": {"blob": "x" * MAX_EVENT_BYTES}}
    deep = {**TRACK, "properties": _nested(MAX_DEPTH + 1)}
    huge_number = b'{"type":"track","userId":"u","event":"e","properties":{"n":1e400}}'
    body = _batch(TRACK, big, deep, {"type": "track"}, "text", TRACK)
    body = body[:-2] + b"," + huge_number + b"]}"
    parsed = parse_request("batch", body, received_at=NOW)
    assert parsed.events == 7
    found = {p.index: (p.error.field, p.error.rule) for p in parsed.problems}
    assert found == {
        1: ("message", "max_size"),
        2: ("message", "max_depth"),
        3: ("userId", "user_or_anonymous_id"),
        4: ("message", "must_be_object"),
    }, "a number out of range inside properties is left to the loader's full decode"


def test_depth_limit_is_exact_and_ignores_brackets_in_strings() -> None:
    at_limit = json.dumps({**TRACK, "properties": _nested(MAX_DEPTH - 1)}).encode()
    assert nesting_depth(at_limit) == MAX_DEPTH
    assert not parse_request("batch", _batch(json.loads(at_limit)), received_at=NOW).problems
    brackets = json.dumps({**TRACK, "properties": {"s": "{[" * 500}}).encode()
    assert nesting_depth(brackets) == 2
    assert not parse_request("track", brackets, received_at=NOW).problems


def test_single_routes_raise_the_message_problem_and_size_limit() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_request("group", json.dumps({"userId": "u1"}).encode(), received_at=NOW)
    assert (caught.value.field, caught.value.rule) == ("groupId", "required")
    body = json.dumps({**TRACK, "properties": {"blob": "x" * MAX_EVENT_BYTES}}).encode()
    with pytest.raises(CollectRequestError) as too_big:
        parse_request("track", body, received_at=NOW)
    assert too_big.value.status == 413
    with pytest.raises(CollectRequestError) as number:
        parse_request("track", b'{"userId": "u", "event": 1e400}', received_at=NOW)
    assert (number.value.status, number.value.message) == (400, "body: a number is out of range")


def test_numbers_beyond_float_range_inside_objects_are_kept_as_sent() -> None:
    body = (
        b'{"batch": [{"type": "track", "userId": "u", "event": "e", "properties": {"n": 1e400}}]}'
    )
    assert not parse_request("batch", body, received_at=NOW).problems
    result = entry_events(kind="batch", payload=body, source="web", received_at=NOW, entry_id="e")
    assert [row["properties"] for row in result.row_dicts()] == ['{"n": 1e400}']
    top_level = b'{"batch": [{"type": "track", "userId": 1e400, "event": "e"}]}'
    found = parse_request("batch", top_level, received_at=NOW).problems
    assert [(p.error.field, p.error.rule) for p in found] == [("message", "number_range")]
    result = entry_events(
        kind="batch", payload=top_level, source="w", received_at=NOW, entry_id="e"
    )
    assert [r.error.rule for r in result.rejected] == ["number_range"]


def test_route_type_wins_and_write_key_comes_from_the_body() -> None:
    body = json.dumps({"type": "identify", "userId": "u1", "writeKey": "wk_1"}).encode()
    parsed = parse_request("page", body, received_at=NOW)
    assert (parsed.kind, parsed.write_key, parsed.problems) == ("page", "wk_1", [])
    odd = json.dumps({"userId": True, "writeKey": "wk_2"}).encode()
    from custodia.collect.segment_wire import split_request

    assert split_request("track", odd).write_key == "wk_2"


# -- bodies ----------------------------------------------------------------------------------


def test_gzip_and_deflate_bodies_are_inflated() -> None:
    raw = _batch(TRACK)
    assert decode_body(gzip.compress(raw), content_encoding="gzip", max_bytes=1000) == raw
    assert decode_body(zlib.compress(raw), content_encoding="Deflate", max_bytes=1000) == raw
    assert decode_body(raw, content_encoding=None, max_bytes=1000) == raw


@pytest.mark.parametrize(
    ("raw", "encoding", "status"),
    [
        (gzip.compress(b"{" + b" " * 50_000_000 + b"}", mtime=0), "gzip", 413),  # a ~50 KB bomb
        (b"x" * 2000, None, 413),
        (b"not gzip at all", "gzip", 400),
        (gzip.compress(b'{"batch": []}', mtime=0)[:-6], "gzip", 400),
        (b"{}", "br", 415),
    ],
    ids=["gzip-bomb", "oversize-plain", "not-gzip", "truncated-gzip", "unsupported-encoding"],
)
def test_bad_bodies_are_refused(raw: bytes, encoding: str | None, status: int) -> None:
    with pytest.raises(CollectRequestError) as caught:
        decode_body(raw, content_encoding=encoding, max_bytes=1000)
    assert caught.value.status == status

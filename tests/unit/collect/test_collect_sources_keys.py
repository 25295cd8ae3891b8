"""Collector sources: write keys shown once, stored hashed, resolved from a cache; rate limits."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import select

from custodia.collect.collector import write_key_from
from custodia.collect.rate_limit import RateLimiter
from custodia.collect.sources import SourceRegistry, write_key_digest
from custodia.core.errors import ValidationError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import collector_sources


@pytest.fixture
def store(tmp_path: Path) -> OperationalStore:
    store = OperationalStore.sqlite(tmp_path / "store.db")
    store.migrate()
    return store


def test_created_key_resolves_and_only_its_digest_is_stored(store: OperationalStore) -> None:
    registry = SourceRegistry(store)
    created = registry.create("web", created_by="admin", rate_limit_per_second=50)
    assert created.write_key.startswith(f"wk_{created.source.write_key_prefix}_")
    assert created.write_key not in repr(created)
    with store.read() as conn:
        row = conn.execute(select(collector_sources)).one()
    assert row.write_key_hash == write_key_digest(created.write_key)
    assert created.write_key not in str(tuple(row))
    source = SourceRegistry(store).resolve(created.write_key)
    assert source is not None and (source.name, source.rate_limit_per_second) == ("web", 50)
    assert registry.resolve(created.write_key + "x") is None
    assert [e.action for e in AuditLog(store).tail()] == ["source.create"]


def test_a_key_created_elsewhere_is_found_at_once(store: OperationalStore) -> None:
    server = SourceRegistry(store, refresh=3600)
    assert server.resolve("wk_unknown") is None  # warms the cache
    created = SourceRegistry(store).create("app", created_by="cli")
    assert server.resolve(created.write_key) is not None


def test_disabled_sources_are_refused(store: OperationalStore) -> None:
    registry = SourceRegistry(store)
    created = registry.create("pos", created_by="admin")
    assert registry.disable("pos", actor="admin") and not registry.disable("pos", actor="admin")
    assert registry.resolve(created.write_key) is None
    assert registry.list()[0].enabled is False


@pytest.mark.parametrize("name", ["", "Web", "web shop", "网站", "-web", "x" * 65])
def test_bad_source_names_are_refused(store: OperationalStore, name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        SourceRegistry(store).create(name, created_by="admin")


def test_duplicate_names_and_bad_limits_are_refused(store: OperationalStore) -> None:
    registry = SourceRegistry(store)
    registry.create("web", created_by="admin")
    with pytest.raises(ValidationError, match="exists already"):
        registry.create("web", created_by="admin")
    with pytest.raises(ValidationError, match="rate_limit"):
        registry.create("app", created_by="admin", rate_limit_per_second=0)


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("authorization", "body_key", "expected"),
    [
        (_basic("wk_a:"), None, "wk_a"),
        (_basic("wk_a"), None, "wk_a"),
        (_basic("wk_a:ignored-password"), "wk_b", "wk_a"),
        ("Bearer some-token", "wk_b", "wk_b"),
        ("Bearer wk_c", None, "wk_c"),
        (None, "wk_b", "wk_b"),
        ("basic !!not-base64!!", None, None),
        (_basic(":"), None, None),
        (None, None, None),
        ("Digest x", None, None),
    ],
)
def test_write_key_sources(authorization: str | None, body_key: str | None, expected: str) -> None:
    assert write_key_from(authorization, body_key) == expected


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_admits_a_second_of_events_then_asks_to_wait() -> None:
    clock = _Clock()
    limiter = RateLimiter(monotonic=clock)
    assert limiter.admit("web", events=60, rate=100) is None
    assert limiter.admit("web", events=60, rate=100) is None  # 100 tokens: goes into debt
    assert limiter.admit("web", events=1, rate=100) == 1
    assert limiter.admit("other", events=1, rate=100) is None, "buckets are per source"
    clock.now += 0.5
    assert limiter.admit("web", events=1, rate=100) is None
    assert limiter.admit("web", events=500, rate=None) is None, "no limit configured"


def test_a_large_debt_means_a_longer_wait_and_workers_share_the_limit() -> None:
    clock = _Clock()
    limiter = RateLimiter(workers=2, monotonic=clock)
    assert limiter.admit("web", events=250, rate=100) is None  # 50 per process: deep in debt
    assert limiter.admit("web", events=1, rate=100) == 5
    clock.now += 5
    assert limiter.admit("web", events=1, rate=100) is None

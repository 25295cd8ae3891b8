"""Collector sources and their write keys: create, list, and resolve a key on every request.

A write key looks like ``wk_<prefix>_<secret>``: ``prefix`` is 12 random hex characters that are
safe to show in lists, ``secret`` is ``secrets.token_urlsafe(32)``. The key is shown once, when
the source is created; the store keeps its SHA-256 digest (a 256-bit random secret needs no slow
hash, see :mod:`custodia.privacy.tokens`). Keys contain no ``:``, so HTTP Basic auth carries them
unambiguously as the user name.

The collector resolves a key on every request, so :class:`SourceRegistry` keeps every source in
memory by digest. A key it does not know is looked up in the store once (a source created by the
CLI while the server runs becomes usable at once) and then remembered as unknown for a while, so
a client retrying with a wrong key does not hit the store on every request. The whole cache is
reloaded every ``refresh`` seconds to pick up disabled sources and changed rate limits.

Example::

    registry = SourceRegistry(ws.store)
    created = registry.create("web", rate_limit_per_second=5000, created_by="admin")
    print(created.write_key)                 # once
    registry.resolve(created.write_key)      # CollectorSource(name='web', ...)
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import ValidationError
from custodia.storage.store import OperationalStore
from custodia.storage.store_sources import SourceTable

WRITE_KEY_SCHEME: Final = "wk"
SOURCE_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""Source names end up in partition directory names of the lakehouse: lowercase ASCII only."""

_PREFIX_BYTES: Final = 6
_SECRET_BYTES: Final = 32
_UNKNOWN_TTL: Final = 5.0
_UNKNOWN_MAX: Final = 10_000


@dataclass(frozen=True, slots=True)
class CollectorSource:
    """A source as the collector sees it (no key material)."""

    name: str
    write_key_prefix: str
    created_at: datetime
    created_by: str
    rate_limit_per_second: int | None
    disabled_at: datetime | None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def as_json(self) -> dict[str, Any]:
        """The public fields, JSON-ready (times as ISO-8601)."""
        return {
            "name": self.name,
            "write_key_prefix": self.write_key_prefix,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "rate_limit_per_second": self.rate_limit_per_second,
            "disabled_at": None if self.disabled_at is None else self.disabled_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CreatedSource:
    """A new source and its write key: the only copy of the key (kept out of ``repr``)."""

    source: CollectorSource
    write_key: str = field(repr=False)


def write_key_digest(write_key: str) -> str:
    """The SHA-256 hex digest the store keeps instead of the key."""
    return hashlib.sha256(write_key.encode("utf-8", "surrogatepass")).hexdigest()


def check_source_name(name: str) -> str:
    """Refuse names that are not 1-64 of ``a-z 0-9 _ -`` starting with a letter or digit."""
    if not isinstance(name, str) or not SOURCE_NAME.fullmatch(name):
        raise ValidationError(
            "name",
            "source_name",
            "name: 1-64 characters of a-z, 0-9, '_' and '-', starting with a letter or digit",
        )
    return name


def check_rate_limit(rate: int | None) -> int | None:
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int) or rate < 1):
        raise ValidationError(
            "rate_limit_per_second", "positive", "rate_limit_per_second: must be at least 1"
        )
    return rate


class SourceRegistry:
    """Create and list sources; resolve write keys from an in-memory cache (thread-safe)."""

    def __init__(
        self, store: OperationalStore, clock: Clock | None = None, *, refresh: float = 5.0
    ) -> None:
        self._table = SourceTable(store, clock)
        self._clock = clock or SystemClock()
        self._refresh = refresh
        self._lock = threading.Lock()
        self._by_digest: dict[str, CollectorSource] = {}
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._loaded_at = float("-inf")

    def create(
        self, name: str, *, created_by: str, rate_limit_per_second: int | None = None
    ) -> CreatedSource:
        """Store a new source and return it with its write key (shown once)."""
        check_source_name(name)
        prefix = secrets.token_hex(_PREFIX_BYTES)
        write_key = f"{WRITE_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        values = {
            "name": name,
            "write_key_prefix": prefix,
            "created_at": self._clock.now(),
            "created_by": self._table.fits("created_by", created_by),
            "rate_limit_per_second": check_rate_limit(rate_limit_per_second),
            "tracking_plan": None,
            "disabled_at": None,
        }
        digest = write_key_digest(write_key)
        self._table.insert(values, digest, actor=created_by)
        source = _source(values)
        with self._lock:
            self._by_digest[digest] = source
        return CreatedSource(source=source, write_key=write_key)

    def list(self) -> list[CollectorSource]:
        return [_source(row) for row in self._table.list()]

    def get(self, name: str) -> CollectorSource | None:
        row = self._table.find_by_name(name)
        return None if row is None else _source(row)

    def disable(self, name: str, *, actor: str) -> bool:
        """Stop accepting the source's key (existing events stay); False if already disabled."""
        changed = self._table.disable(name, self._clock.now(), actor=actor)
        self._loaded_at = float("-inf")
        return changed

    def resolve(self, write_key: str) -> CollectorSource | None:
        """The enabled source owning ``write_key``, or ``None``."""
        digest = write_key_digest(write_key)
        now = time.monotonic()
        if now - self._loaded_at > self._refresh:
            self._reload(now)
        source = self._by_digest.get(digest)
        if source is None:
            source = self._lookup_unknown(digest, now)
        return source if source is not None and source.enabled else None

    def _reload(self, now: float) -> None:
        fresh = {digest: _source(row) for row, digest in self._table.all_with_hashes()}
        with self._lock:
            self._by_digest = fresh
            self._loaded_at = now

    def _lookup_unknown(self, digest: str, now: float) -> CollectorSource | None:
        with self._lock:
            seen = self._unknown.get(digest)
            if seen is not None and now - seen < _UNKNOWN_TTL:
                return None
        row = self._table.find_by_hash(digest)
        with self._lock:
            if row is None:
                self._unknown[digest] = now
                self._unknown.move_to_end(digest)
                while len(self._unknown) > _UNKNOWN_MAX:
                    self._unknown.popitem(last=False)
                return None
            source = _source(row)
            self._by_digest[digest] = source
            self._unknown.pop(digest, None)
            return source


def _source(row: dict[str, Any]) -> CollectorSource:
    return CollectorSource(
        name=row["name"],
        write_key_prefix=row["write_key_prefix"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        rate_limit_per_second=row["rate_limit_per_second"],
        disabled_at=row["disabled_at"],
    )

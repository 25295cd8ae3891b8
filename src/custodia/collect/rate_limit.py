"""Per-source rate limits for the collector: a token bucket per source, counted in events.

A source configured for ``N`` events per second gets a bucket of ``N`` tokens refilled at ``N``
per second. A request is admitted while the bucket is not in debt and then takes one token per
event, so a batch larger than one second's allowance is still admitted once and the next
requests wait until the debt is paid off. A refused request learns how many whole seconds to
wait (``Retry-After``). Limits are per server process: with ``W`` workers each process enforces
``ceil(N / W)``.

Example::

    limiter = RateLimiter()
    wait = limiter.admit("web", events=100, rate=50)   # None: admitted
    wait = limiter.admit("web", events=1, rate=50)     # 1: retry after one second
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by source name; thread-safe."""

    def __init__(self, *, workers: int = 1, monotonic: Callable[[], float] = time.monotonic):
        self._workers = max(workers, 1)
        self._now = monotonic
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def admit(self, source: str, *, events: int, rate: int | None) -> int | None:
        """``None`` when the request may go ahead, else the seconds to wait before retrying."""
        if rate is None:
            return None
        per_process = math.ceil(rate / self._workers)
        now = self._now()
        with self._lock:
            bucket = self._buckets.get(source)
            if bucket is None:
                bucket = self._buckets[source] = _Bucket(float(per_process), now)
            bucket.tokens = min(
                float(per_process), bucket.tokens + (now - bucket.updated) * per_process
            )
            bucket.updated = now
            if bucket.tokens <= 0:
                return max(1, math.ceil((1 - bucket.tokens) / per_process))
            bucket.tokens -= events
            return None

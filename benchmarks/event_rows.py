"""Synthetic rows of the canonical ``events`` table, built fast with numpy, for benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from custodia.core.tables import EVENTS

EVENT_NAMES = [
    "Product Viewed",
    "Product Added",
    "Checkout Started",
    "Order Completed",
    "Signed Up",
]
START = datetime(2026, 1, 1, tzinfo=UTC)


def event_rows(n: int, *, offset: int, users: int, seed: int) -> pa.Table:
    """``n`` track events spread over 30 days, ``users`` distinct user ids, unique message ids."""
    rng = np.random.default_rng(seed)
    ids = np.arange(offset, offset + n)
    seconds = rng.integers(0, 30 * 86_400, n)
    ts = pa.array(
        (np.datetime64(START.replace(tzinfo=None), "us") + seconds.astype("timedelta64[s]")),
        pa.timestamp("us", tz="UTC"),
    )
    user = rng.integers(0, users, n)
    columns = {
        "message_id": pa.array(np.char.add("m-", ids.astype(str))),
        "type": pa.array(np.full(n, "track")),
        "event": pa.array(np.array(EVENT_NAMES)[rng.integers(0, len(EVENT_NAMES), n)]),
        "user_id": pa.array(np.char.add("u", user.astype(str))),
        "anonymous_id": pa.array(np.char.add("a", (user * 7 + 3).astype(str))),
        "properties": pa.array(np.full(n, '{"price":399,"sku":"DR-01"}')),
        "context": pa.array(np.full(n, '{"library":{"name":"bench"}}')),
        "timestamp": ts,
        "original_timestamp": ts,
        "sent_at": ts,
        "received_at": ts,
        "event_date": pc_date(ts),
        "source": pa.array(np.full(n, "bench")),
        "run_id": pa.array(np.full(n, "run_bench")),
        "loaded_at": ts,
    }
    schema = EVENTS.arrow_schema()
    return pa.table(
        {f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in schema}, schema=schema
    )


def pc_date(ts: pa.Array) -> pa.Array:
    import pyarrow.compute as pc

    return pc.cast(ts, pa.date32())

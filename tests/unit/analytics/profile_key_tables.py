"""Hand-made ``profile_keys`` tables for the order and touchpoint analyses' unit tests.

``profile_keys_table([(ref_type, ref_value, profile_id), ...])`` numbers the profiles 1, 2, ...
in profile_id order (``profile_key``), as :mod:`custodia.pipeline.profile_keys` does.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa


def profile_keys_table(links: Iterable[tuple[str, str, str]]) -> pa.Table:
    rows = list(links)
    number = {p: i for i, p in enumerate(sorted({r[2] for r in rows}), start=1)}
    return pa.table(
        {
            "ref_type": [r[0] for r in rows],
            "ref_value": [r[1] for r in rows],
            "profile_id": [r[2] for r in rows],
            "profile_key": pa.array([number[r[2]] for r in rows], pa.int64()),
        }
    )

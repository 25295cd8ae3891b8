"""Arrow columns from loosely typed values, and numbers out of Arrow columns."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa

from custodia.core.arrow_values import float_values


def test_float_values_of_decimals_integers_and_nulls() -> None:
    chunked = pa.chunked_array(
        [
            pa.array([Decimal("12.50"), None], pa.decimal128(14, 2)),
            pa.array([Decimal("-3.25")], pa.decimal128(14, 2)),
        ]
    )
    got = float_values(chunked)
    assert got.dtype == np.float64 and got[0] == 12.5 and np.isnan(got[1]) and got[2] == -3.25
    assert float_values(pa.array([1, 2], pa.int32())).tolist() == [1.0, 2.0]
    assert float_values(pa.array([], pa.decimal128(14, 2))).shape == (0,)

"""Vectorised building blocks for the demo generators.

Why: generating 100,000 customers in seconds means no per-record Python where numpy can do the
work. These helpers turn digit matrices into strings, number records inside groups and derive
independent, reproducible random streams so that changing one source never shifts another.

Example::

    rng = substream(7, "population")
    digit_strings(rng.integers(0, 10, size=(2, 4)))   # e.g. ['0391', '5527']
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def substream(seed: int, name: str) -> np.random.Generator:
    """An independent generator for one concern, stable across library versions of this module."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def digit_strings(digits: npt.NDArray[np.integer]) -> list[str]:
    """Each row of an ``(n, k)`` matrix of digits 0-9 as a ``k``-character string."""
    n, k = digits.shape
    text = (digits.astype(np.uint8) + 48).tobytes().decode("ascii")
    return [text[i : i + k] for i in range(0, n * k, k)]


def group_rank(keys: IntArray) -> IntArray:
    """0-based position of each element inside its run of equal, already sorted keys."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n, dtype=np.int64) - np.repeat(starts, lengths).astype(np.int64)


def sample_index(rng: np.random.Generator, weights: npt.ArrayLike, n: int) -> IntArray:
    """``n`` draws of indices into ``weights`` (any positive scale)."""
    w = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(w), size=n, p=w / w.sum()).astype(np.int64)


def sample_rows(rng: np.random.Generator, probabilities: FloatArray) -> IntArray:
    """One category per row of an ``(n, k)`` matrix whose rows are (unnormalised) weights."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random(len(probabilities)) * cumulative[:, -1]
    picks: IntArray = (cumulative < draws[:, None]).sum(axis=1).astype(np.int64)
    return picks


def uuid4_strings(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` RFC 4122 version-4 UUID strings drawn from ``rng`` (deterministic, unlike uuid4())."""
    text = rng.bytes(16 * n).hex()
    variants = "89ab"
    out = []
    for i in range(0, 32 * n, 32):
        h = text[i : i + 32]
        out.append(
            f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{variants[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
        )
    return out


def hex_strings(rng: np.random.Generator, n: int, nbytes: int) -> list[str]:
    """``n`` random lowercase hex strings of ``2 * nbytes`` characters."""
    text = rng.bytes(nbytes * n).hex()
    width = 2 * nbytes
    return [text[i : i + width] for i in range(0, width * n, width)]


def pick(values: list[str], index: IntArray) -> npt.NDArray[np.object_]:
    """``values[i]`` for each ``i`` in ``index`` as an object array (no Python loop per item)."""
    table = np.empty(len(values), dtype=object)
    table[:] = values
    return table[index]

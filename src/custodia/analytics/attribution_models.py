"""Attribution models over aggregated journeys: (path, conversions, value, nulls) rows.

Journeys are built in SQL (:mod:`custodia.analytics.attribution`); the models here only see one
row per distinct path, like the ``ChannelAttribution`` package (R/C++), so they cost the same for
a thousand or a billion touchpoints with the same paths:

- ``first`` / ``last``: the whole conversion to the path's first / last channel;
- ``linear``: equal shares per touch (a channel touched twice in a path of three gets 2/3);
- ``position``: 40% first touch, 40% last, 20% shared by the touches between (one touch: 100%,
  two: 50/50);
- ``markov``: removal effects of a Markov chain of order 1-3 (states: the last ``order``
  channels, with start, conversion and null), solved exactly (absorbing-chain linear systems)
  instead of simulated; conversions and value are shared in proportion to the removal effects;
- ``shapley``: per channel set, the Shapley value of the game "conversion rate of the journeys
  that touched exactly this set" (exact up to :data:`SHAPLEY_EXACT_MAX` channels in a set,
  permutation sampling with a fixed seed and a Hoeffding error bound above).

Example::

    rows = JourneyPaths.from_lists([("wechat", "email")], [3], [540.0], [7])
    heuristic_credit(rows, "position")     # {"wechat": ChannelCredit(1.5, 270.0), ...}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.sparse import csr_matrix, identity  # type: ignore[import-untyped]
from scipy.sparse.linalg import spsolve  # type: ignore[import-untyped]

__all__ = [
    "HEURISTIC_MODELS",
    "SHAPLEY_EXACT_MAX",
    "ChannelCredit",
    "JourneyPaths",
    "heuristic_credit",
    "markov_credit",
    "shapley_credit",
]

HEURISTIC_MODELS: Final = ("first", "last", "linear", "position")
SHAPLEY_EXACT_MAX: Final = 15
POSITION_ENDS: Final = 0.4
"""Share of the first and of the last touch in the position-based model (the middle gets 0.2)."""
HOEFFDING_CONFIDENCE: Final = 0.95


@dataclass(frozen=True)
class ChannelCredit:
    """What a model credits to one channel; Markov adds its removal effect and sampled Shapley
    an error bound (credited conversions are within it at 95% confidence per channel set)."""

    conversions: float
    value: float
    removal_effect: float | None = None
    error_bound: float | None = None


@dataclass(frozen=True)
class JourneyPaths:
    """Distinct journeys: the channels in time order, conversions, their value, and nulls
    (journeys that did not convert)."""

    paths: tuple[tuple[str, ...], ...]
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray

    @classmethod
    def from_lists(
        cls,
        paths: Iterable[Sequence[str]],
        conversions: Iterable[float],
        value: Iterable[float],
        nulls: Iterable[float],
    ) -> JourneyPaths:
        return cls(
            tuple(tuple(p) for p in paths),
            np.asarray(list(conversions), dtype=np.float64),
            np.asarray(list(value), dtype=np.float64),
            np.asarray(list(nulls), dtype=np.float64),
        )

    def channels(self) -> list[str]:
        """Every channel on a path, in first-seen order."""
        return list(dict.fromkeys(c for path in self.paths for c in path))

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())


def heuristic_credit(rows: JourneyPaths, model: str) -> dict[str, ChannelCredit]:
    """First, last, linear or position-based credit, per touch position of each path."""
    if model not in HEURISTIC_MODELS:
        raise ValueError(f"model: one of {', '.join(HEURISTIC_MODELS)}")
    conversions: dict[str, float] = {}
    value: dict[str, float] = {}
    for path, conv, val in zip(rows.paths, rows.conversions, rows.value, strict=True):
        if conv == 0 or not path:
            continue
        for channel, weight in zip(path, _weights(model, len(path)), strict=True):
            conversions[channel] = conversions.get(channel, 0.0) + float(conv) * weight
            value[channel] = value.get(channel, 0.0) + float(val) * weight
    return {c: ChannelCredit(conversions[c], value[c]) for c in conversions}


def _weights(model: str, n: int) -> list[float]:
    if model == "first":
        return [1.0] + [0.0] * (n - 1)
    if model == "last":
        return [0.0] * (n - 1) + [1.0]
    if model == "linear" or n <= 2:
        return [1.0 / n] * n
    middle = (1.0 - 2 * POSITION_ENDS) / (n - 2)
    return [POSITION_ENDS] + [middle] * (n - 2) + [POSITION_ENDS]


def markov_states(path: Sequence[str], order: int) -> list[tuple[str, ...]]:
    """A path's chain states: its windows of ``order`` channels (the whole path when shorter),
    consecutive equal states merged (as ChannelAttribution does)."""
    windows = [tuple(path[i : i + order]) for i in range(max(1, len(path) - order + 1))]
    return [s for i, s in enumerate(windows) if i == 0 or s != windows[i - 1]]


@dataclass(frozen=True)
class _Chain:
    """Transition probabilities between transient states (0 = start) and into conversion, and
    the mean conversion value when converting from each state."""

    states: list[tuple[str, ...]]
    transient: csr_matrix
    to_conversion: np.ndarray
    mean_value: np.ndarray


def _chain(rows: JourneyPaths, order: int) -> _Chain:
    index: dict[tuple[str, ...], int] = {(): 0}
    src: list[int] = []
    dst: list[int] = []
    weight: list[float] = []
    conv_out: dict[int, float] = {}
    value_out: dict[int, float] = {}
    null_out: dict[int, float] = {}
    for path, conv, val, nulls in zip(
        rows.paths, rows.conversions, rows.value, rows.nulls, strict=True
    ):
        if not path or conv + nulls <= 0:
            continue
        ids = [index.setdefault(s, len(index)) for s in markov_states(path, order)]
        steps = [0, *ids]
        src += steps[:-1]
        dst += steps[1:]
        weight += [float(conv + nulls)] * len(ids)
        last = ids[-1]
        conv_out[last] = conv_out.get(last, 0.0) + float(conv)
        value_out[last] = value_out.get(last, 0.0) + float(val)
        null_out[last] = null_out.get(last, 0.0) + float(nulls)
    n = len(index)
    counts = csr_matrix((weight, (src, dst)), shape=(n, n))
    to_conv = np.zeros(n)
    to_null = np.zeros(n)
    mean_value = np.zeros(n)
    for state, conv in conv_out.items():
        to_conv[state] = conv
        mean_value[state] = value_out[state] / conv if conv else 0.0
    for state, nulls in null_out.items():
        to_null[state] = nulls
    out = np.asarray(counts.sum(axis=1)).ravel() + to_conv + to_null
    scale = np.divide(1.0, out, out=np.zeros(n), where=out > 0)
    transient = csr_matrix(counts.multiply(scale[:, None]))
    return _Chain(list(index), transient, to_conv * scale, mean_value)


def _absorbed(chain: _Chain, reward: np.ndarray, keep: np.ndarray) -> float:
    """Expected reward collected on entering conversion from start, walking kept states only
    (a removed state leads to null)."""
    kept = np.flatnonzero(keep)
    q = chain.transient[kept][:, kept]
    system = (identity(len(kept), format="csc") - q).tocsc()
    x = np.atleast_1d(spsolve(system, reward[kept]))
    return float(x[0])


def markov_credit(rows: JourneyPaths, order: int = 1) -> dict[str, ChannelCredit]:
    """Removal-effect attribution of conversions and value with a Markov chain of ``order``."""
    if order < 1:
        raise ValueError("order: at least 1")
    if rows.total_conversions <= 0:
        return {}
    chain = _chain(rows, order)
    reward_value = chain.to_conversion * chain.mean_value
    keep_all = np.ones(len(chain.states), dtype=bool)
    base_conv = _absorbed(chain, chain.to_conversion, keep_all)
    base_value = _absorbed(chain, reward_value, keep_all)
    effects: dict[str, tuple[float, float]] = {}
    for channel in rows.channels():
        keep = np.array([channel not in s for s in chain.states])
        effect_conv = 1.0 - _absorbed(chain, chain.to_conversion, keep) / base_conv
        effect_value = (
            1.0 - _absorbed(chain, reward_value, keep) / base_value if base_value else 0.0
        )
        effects[channel] = (max(effect_conv, 0.0), max(effect_value, 0.0))
    sum_conv = sum(e[0] for e in effects.values()) or 1.0
    sum_value = sum(e[1] for e in effects.values()) or 1.0
    return {
        c: ChannelCredit(
            rows.total_conversions * e[0] / sum_conv,
            rows.total_value * e[1] / sum_value,
            removal_effect=e[0],
        )
        for c, e in effects.items()
    }


def shapley_credit(
    rows: JourneyPaths, *, samples: int = 2000, seed: int = 0
) -> dict[str, ChannelCredit]:
    """Shapley credit per channel set (see the module docstring); sets larger than
    :data:`SHAPLEY_EXACT_MAX` are sampled with ``samples`` permutations from ``seed``."""
    channels = rows.channels()
    bit = {c: 1 << i for i, c in enumerate(channels)}
    journeys: dict[int, float] = {}
    converted: dict[int, list[float]] = {}
    for path, conv, val, nulls in zip(
        rows.paths, rows.conversions, rows.value, rows.nulls, strict=True
    ):
        mask = sum(bit[c] for c in set(path))
        journeys[mask] = journeys.get(mask, 0.0) + float(conv + nulls)
        got = converted.setdefault(mask, [0.0, 0.0])
        got[0] += float(conv)
        got[1] += float(val)
    rate = {m: converted[m][0] / n for m, n in journeys.items() if n > 0}
    rng = np.random.default_rng(seed)
    totals = {c: [0.0, 0.0, 0.0] for c in channels}
    sampled = False
    for mask, (conv, val) in sorted(converted.items()):
        if conv <= 0:
            continue
        players = [c for c in channels if bit[c] & mask]
        exact = len(players) <= SHAPLEY_EXACT_MAX
        phi, bound = (
            (_exact_shapley([bit[c] for c in players], rate), 0.0)
            if exact
            else _sampled_shapley([bit[c] for c in players], rate, samples, rng)
        )
        sampled = sampled or not exact
        scale = conv / rate[mask]
        for c, share in zip(players, phi, strict=True):
            totals[c][0] += scale * share
            totals[c][1] += val / conv * scale * share
            totals[c][2] += scale * bound
    return {
        c: ChannelCredit(t[0], t[1], error_bound=t[2] if sampled else None)
        for c, t in totals.items()
        if t[0] != 0.0 or t[1] != 0.0
    }


def _exact_shapley(bits: list[int], rate: dict[int, float]) -> np.ndarray:
    k = len(bits)
    local = np.arange(1 << k, dtype=np.int64)
    members = (local[:, None] >> np.arange(k)) & 1
    global_masks = members @ np.asarray(bits, dtype=np.int64)
    v = np.array([rate.get(int(m), 0.0) for m in global_masks])
    size = members.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) for s in range(k)])
    weight = weight / math.factorial(k)
    phi = np.zeros(k)
    for i in range(k):
        without = local[members[:, i] == 0]
        phi[i] = float(np.sum(weight[size[without]] * (v[without | (1 << i)] - v[without])))
    return phi


def _sampled_shapley(
    bits: list[int], rate: dict[int, float], samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Mean marginal contribution over random orders, and the Hoeffding half-width: each
    contribution is a difference of rates, so lies in [-1, 1]."""
    k = len(bits)
    phi = np.zeros(k)
    for _ in range(samples):
        mask, before = 0, 0.0
        for i in rng.permutation(k):
            mask |= bits[i]
            now = rate.get(mask, 0.0)
            phi[i] += now - before
            before = now
    bound = math.sqrt(2.0 * math.log(2.0 / (1.0 - HOEFFDING_CONFIDENCE)) / samples)
    return phi / samples, bound

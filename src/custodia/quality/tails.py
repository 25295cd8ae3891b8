"""Tail probabilities of the laws a change is judged by: Poisson for counts, binomial for
proportions, the normal law for the rest (and as the large-sample form of both).

Exact sums run in log space, so large means do not underflow (``exp(-1104)`` is 0.0 in floats,
which would make every count of a busy segment look impossible).

Example::

    poisson_tail(0, 22.0, lower=True)          # 2.8e-10: no row where 22 were expected
    binomial_tail(31, 489, 0.11, lower=True)   # a rate of 6.3% where 11% was usual
"""

from __future__ import annotations

import math

__all__ = ["binomial_tail", "normal_tail", "poisson_tail"]

EXACT_LIMIT = 5_000


def normal_tail(z: float) -> float:
    """The tail the value is in: P(Z <= z) for z < 0, P(Z >= z) otherwise."""
    return 0.5 * math.erfc(abs(z) / math.sqrt(2))


def poisson_tail(k: int, mean: float, *, lower: bool) -> float:
    """P(X <= k) (``lower``) or P(X >= k) for X ~ Poisson(mean)."""
    if mean <= 0:
        return 1.0
    if mean > EXACT_LIMIT:
        z = (k + (0.5 if lower else -0.5) - mean) / math.sqrt(mean)
        return _side(z, lower)
    cut = int(mean + 12 * math.sqrt(mean) + 20)
    terms = _range(k, lower, max(k, cut))
    log_terms = [-mean + i * math.log(mean) - math.lgamma(i + 1) for i in terms]
    return _sum_exp(log_terms) if lower or k > 0 else 1.0


def binomial_tail(k: int, n: int, p: float, *, lower: bool) -> float:
    """P(X <= k) (``lower``) or P(X >= k) for X ~ Binomial(n, p)."""
    if n <= 0 or not 0 < p < 1:
        return 1.0
    if n > EXACT_LIMIT:
        z = (k + (0.5 if lower else -0.5) - n * p) / math.sqrt(n * p * (1 - p))
        return _side(z, lower)
    head = math.lgamma(n + 1)
    log_terms = [
        head - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p)
        + (n - i) * math.log1p(-p)
        for i in _range(k, lower, n)
    ]  # fmt: skip
    return _sum_exp(log_terms)


def _range(k: int, lower: bool, top: int) -> range:
    """The outcomes in the tail, up to ``top`` (n, or where Poisson terms have vanished)."""
    return range(0, k + 1) if lower else range(max(k, 0), top + 1)


def _side(z: float, lower: bool) -> float:
    return 0.5 * math.erfc((z if not lower else -z) / math.sqrt(2))


def _sum_exp(log_terms: list[float]) -> float:
    if not log_terms:
        return 0.0
    top = max(log_terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in log_terms))

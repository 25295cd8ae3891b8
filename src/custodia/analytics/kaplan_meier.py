"""Kaplan-Meier estimate of a time to an event from counted, right-censored whole-day durations.

Why: a repurchase gap is only seen when the next purchase happens before the data ends, so the
plain mean of observed gaps understates long cycles, most of all for spells that started
recently. Kaplan-Meier uses the spells still open at the end too (they are *censored*: no
repurchase yet after so many days). Inputs are compact distributions, ``(duration, event,
count)``, as the SQL aggregates them, so the estimate is exact and cheap whatever the data size.

Conventions (those of R's ``survival::survfit``):

- at a time with both events and censorings, the censored spells are still at risk for the
  events (they were censored after them);
- the median is the smallest time at which the survival curve is at or below 0.5; where the
  curve is exactly 0.5 over an interval, the midpoint between that time and the next event
  time (so with no censoring it is the usual sample median); ``None`` when the curve never gets
  to 0.5 within the data;
- the restricted mean up to ``horizon`` is the area under the curve on ``[0, horizon]``, i.e.
  the mean of ``min(duration, horizon)``; ``None`` when the data does not follow any spell that
  long (the curve is unknown up to ``horizon``).

Numpy only: ``lifelines`` would do the same with pandas, matplotlib and autograd as runtime
dependencies and one fitter object per group and period.

Example::

    km = kaplan_meier(np.array([3, 5, 5, 8]), np.array([True, True, False, True]), np.ones(4))
    km.survival                   # [0.75, 0.5, 0.0] after days 3, 5 and 8
    km.median()                   # 6.5: S is 0.5 from day 5 to day 8
    km.restricted_mean(6)         # 3 x 1 + 2 x 0.75 + 1 x 0.5 = 5.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["KaplanMeier", "kaplan_meier"]

_HALF_TOLERANCE = 1e-9


@dataclass(frozen=True)
class KaplanMeier:
    """The survival curve: ``survival[j]`` holds from ``times[j]`` until the next time."""

    times: NDArray[np.float64]
    """Distinct event times, ascending."""
    survival: NDArray[np.float64]
    """S(t) just after each event time."""
    at_risk: NDArray[np.float64]
    events: NDArray[np.float64]
    last_time: float
    """Largest duration observed (event or censored); the curve is known up to it."""

    def median(self) -> float | None:
        """Smallest time with S <= 0.5 (midpoint of a flat 0.5 stretch); None if not reached."""
        below = np.flatnonzero(self.survival <= 0.5 + _HALF_TOLERANCE)
        if below.size == 0:
            return None
        j = int(below[0])
        if abs(self.survival[j] - 0.5) > _HALF_TOLERANCE:
            return float(self.times[j])
        if j + 1 < self.times.size:
            return float((self.times[j] + self.times[j + 1]) / 2)
        return float(self.times[j])

    def restricted_mean(self, horizon: float) -> float | None:
        """Area under S on [0, horizon]; None when the curve is not known up to ``horizon``."""
        reaches_zero = self.survival.size > 0 and self.survival[-1] <= _HALF_TOLERANCE
        if self.last_time < horizon and not reaches_zero:
            return None
        edges = np.concatenate([[0.0], self.times[self.times < horizon], [horizon]])
        levels = np.concatenate([[1.0], self.survival[self.times < horizon]])
        return float(np.sum(levels * np.diff(edges)))


def kaplan_meier(
    durations: NDArray[np.float64] | NDArray[np.int64],
    events: NDArray[np.bool_],
    counts: NDArray[np.float64] | NDArray[np.int64],
) -> KaplanMeier:
    """The product-limit estimate from ``counts[i]`` spells of ``durations[i]`` that ended in
    the event (``events[i]``) or were censored then. Durations must be >= 0."""
    d = np.asarray(durations, dtype=np.float64)
    e = np.asarray(events, dtype=bool)
    n = np.asarray(counts, dtype=np.float64)
    if d.size and (d.min() < 0 or n.min() < 0):
        raise ValueError("durations and counts must be >= 0")
    times = np.unique(d[e & (n > 0)])
    slots = np.searchsorted(times, d[e])
    died = np.bincount(slots, weights=n[e], minlength=times.size).astype(np.float64)
    # at risk at t: every spell whose duration is >= t (events or censorings)
    order = np.argsort(d, kind="stable")
    ends, weight = d[order], n[order]
    later = weight.sum() - np.concatenate([[0.0], np.cumsum(weight)])
    at_risk = later[np.searchsorted(ends, times, side="left")]
    died = died[: times.size]
    survival = np.cumprod(1.0 - died / np.where(at_risk > 0, at_risk, 1.0)).astype(np.float64)
    last = float(d[n > 0].max()) if np.any(n > 0) else 0.0
    return KaplanMeier(times, survival, at_risk, died, last)

"""Kaplan-Meier on counted, censored whole-day durations against estimates worked out by hand,
and against SciPy's independent implementation (``scipy.stats.ecdf`` on censored data)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import CensoredData, ecdf

from custodia.analytics.kaplan_meier import KaplanMeier, kaplan_meier

# Eight spells as (duration, repurchased?, count): a tie of two events at day 3 with a spell
# censored on the same day, and an event and a censoring tied at day 8.
SPELLS = [(1, True, 1), (3, True, 2), (3, False, 1), (4, False, 1), (6, True, 1), (8, True, 1),
          (8, False, 1)]  # fmt: skip
# By hand, S(t) = product over event days of (1 - events / at risk); at risk = durations >= t,
# so the spell censored on day 3 is still at risk for day 3's events:
#   day 1: 8 at risk, 1 event  -> 7/8          = 0.875
#   day 3: 7 at risk, 2 events -> 0.875 x 5/7  = 0.625
#   day 6: 3 at risk, 1 event  -> 0.625 x 2/3  = 0.41667
#   day 8: 2 at risk, 1 event  -> 0.41667 x 1/2 = 0.20833
HAND_SURVIVAL = [7 / 8, 5 / 8, 5 / 12, 5 / 24]


def fit(spells: list[tuple[int, bool, int]]) -> KaplanMeier:
    days, events, counts = zip(*spells, strict=True)
    return kaplan_meier(np.array(days), np.array(events), np.array(counts))


def test_censored_spells_and_ties_by_hand() -> None:
    km = fit(SPELLS)
    assert km.times.tolist() == [1, 3, 6, 8]
    assert km.at_risk.tolist() == [8, 7, 3, 2] and km.events.tolist() == [1, 2, 1, 1]
    assert km.survival == pytest.approx(HAND_SURVIVAL)
    assert km.median() == 6.0  # first day S <= 0.5
    # area under S: 1 x 1 + 2 x 0.875 + 3 x 0.625 + 1 x 0.41667 (to day 7), + 1 x 0.41667 (8)
    assert km.restricted_mean(7) == pytest.approx(1 + 1.75 + 1.875 + 5 / 12)
    assert km.restricted_mean(8) == pytest.approx(1 + 1.75 + 1.875 + 10 / 12)
    assert km.restricted_mean(10) is None  # S is still 0.21 at day 8, the last day seen


def test_counts_equal_repeated_rows_and_scipy_agrees() -> None:
    rows = [(d, e, 1) for d, e, n in SPELLS for _ in range(n)]
    rows.reverse()
    km = fit(rows)
    assert km.survival == pytest.approx(HAND_SURVIVAL)
    reference = ecdf(CensoredData(uncensored=[d for d, e, _ in rows if e],
                                  right=[d for d, e, _ in rows if not e]))  # fmt: skip
    days = np.arange(0, 10)
    steps = np.searchsorted(km.times, days, side="right")
    ours = np.concatenate([[1.0], km.survival])[steps]
    assert ours == pytest.approx(reference.sf.evaluate(days))


def test_median_is_the_sample_median_without_censoring() -> None:
    even = fit([(10, True, 1), (20, True, 1), (30, True, 1), (40, True, 1)])
    assert even.median() == 25.0  # S is exactly 0.5 from day 20 to day 30: the midpoint
    assert float(np.median([10, 20, 30, 40])) == 25.0
    assert fit([(10, True, 1), (20, True, 1), (30, True, 1)]).median() == 20.0
    assert even.restricted_mean(100) == pytest.approx(25.0)  # S reaches 0: the plain mean


def test_a_curve_that_stays_above_half_has_no_median() -> None:
    km = fit([(5, True, 1), (9, False, 3)])
    assert km.survival.tolist() == [0.75] and km.median() is None
    assert km.restricted_mean(9) == pytest.approx(5 + 4 * 0.75)
    only_censored = fit([(30, False, 4)])
    assert only_censored.times.size == 0 and only_censored.median() is None
    assert only_censored.restricted_mean(30) == 30.0 and only_censored.restricted_mean(31) is None
    empty = kaplan_meier(np.array([], int), np.array([], bool), np.array([], int))
    assert empty.median() is None and empty.restricted_mean(1) is None


def test_negative_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="durations"):
        fit([(-1, True, 1)])

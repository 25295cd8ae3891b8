"""The demo's fixed calendar: data window, shopping festivals, weekly rhythm and time formatting.

Why: identical output for identical seeds needs a clock that never reads the current time, and
realistic analytics need the peaks a Chinese apparel brand sees (Double 11, 618, 12.12, the weeks
before Chinese New Year, the quiet holiday itself, weekends in stores). Times are kept internally
as integer seconds since the window start in China local time (Asia/Shanghai, UTC+8, no DST).

Example::

    days = sample_days(rng, online_day_weights(), 1000)   # continuous day offsets 0..730
    local_text(np.array([0]))                               # ['2024-11-01 00:00:00']
"""

from __future__ import annotations

import numpy as np

from custodia.demo.vectors import BoolArray, FloatArray, IntArray

WINDOW_START = "2024-11-01"
WINDOW_END = "2026-10-31"
TODAY = "2026-11-01"
WINDOW_DAYS = 730
DAY = 86_400
UTC_OFFSET_SECONDS = 8 * 3600
CHINESE_NEW_YEAR = ("2025-01-29", "2026-02-17")

_START_D = np.datetime64(WINDOW_START, "D")
_START_S = np.datetime64(f"{WINDOW_START}T00:00:00", "s")


def day_of(date: str) -> int:
    """Day offset of an ISO date from the window start (2024-11-01 is day 0)."""
    return int((np.datetime64(date, "D") - _START_D).astype(np.int64))


LAST_SIX_MONTHS_DAY = day_of("2026-05-01")


def _calendar() -> tuple[IntArray, IntArray, IntArray]:
    """Month (1-12), day of month and weekday (Mon=0) of every day in the window."""
    dates = _START_D + np.arange(WINDOW_DAYS)
    months = dates.astype("datetime64[M]")
    month = (months.astype(np.int64) % 12 + 1).astype(np.int64)
    mday = ((dates - months.astype("datetime64[D]")).astype(np.int64) + 1).astype(np.int64)
    weekday = ((dates.astype(np.int64) + 3) % 7).astype(np.int64)
    return month, mday, weekday


def _near(days: IntArray, date: str, before: int, after: int) -> BoolArray:
    centre = day_of(date)
    return (days >= centre - before) & (days <= centre + after)


def _festival_masks() -> dict[str, BoolArray]:
    month, mday, _ = _calendar()
    days = np.arange(WINDOW_DAYS, dtype=np.int64)
    pre_cny = np.zeros(WINDOW_DAYS, dtype=bool)
    cny = np.zeros(WINDOW_DAYS, dtype=bool)
    for date in CHINESE_NEW_YEAR:
        pre_cny |= _near(days, date, 21, -3)
        cny |= _near(days, date, 2, 6)
    return {
        "double11_presale": (month == 10) & (mday >= 20),
        "double11_warmup": (month == 11) & (mday <= 10),
        "double11_day": (month == 11) & (mday == 11),
        "double12": (month == 12) & (mday == 12),
        "618_warmup": (month == 6) & (mday <= 17),
        "618_day": (month == 6) & (mday == 18),
        "520": (month == 5) & (mday == 20),
        "national_day": (month == 10) & (mday <= 7),
        "pre_cny": pre_cny,
        "cny_holiday": cny,
    }


_ONLINE_FACTORS = {
    "double11_presale": 1.4,
    "double11_warmup": 2.2,
    "double11_day": 10.0,
    "double12": 2.5,
    "618_warmup": 1.7,
    "618_day": 5.0,
    "520": 1.3,
    "pre_cny": 1.4,
    "cny_holiday": 0.35,
}
_STORE_FACTORS = {
    "double11_warmup": 1.3,
    "double11_day": 1.5,
    "618_warmup": 1.2,
    "520": 1.3,
    "national_day": 1.8,
    "pre_cny": 1.8,
    "cny_holiday": 0.9,
}
_ONLINE_WEEKDAY = np.array([0.95, 0.95, 0.95, 1.0, 1.0, 1.1, 1.1])
_STORE_WEEKDAY = np.array([0.85, 0.85, 0.85, 0.9, 1.1, 1.6, 1.5])


def _weights(factors: dict[str, float], weekday_factor: FloatArray) -> FloatArray:
    masks = _festival_masks()
    _, _, weekday = _calendar()
    w = weekday_factor[weekday].astype(np.float64)
    for name, factor in factors.items():
        w = np.where(masks[name], w * factor, w)
    normalised: FloatArray = w / w.mean()
    return normalised


def online_day_weights() -> FloatArray:
    """Relative online order volume per day, mean 1 over the window."""
    return _weights(_ONLINE_FACTORS, _ONLINE_WEEKDAY)


def store_day_weights() -> FloatArray:
    """Relative store footfall per day, mean 1 over the window."""
    return _weights(_STORE_FACTORS, _STORE_WEEKDAY)


def festival_of_day() -> list[str]:
    """Campaign period per day: ``double11_2025``, ``618_2026``, ``cny_2026`` or ``always_on``."""
    masks = _festival_masks()
    dates = _START_D + np.arange(WINDOW_DAYS)
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    names = np.full(WINDOW_DAYS, "always_on", dtype=object)
    d11 = masks["double11_presale"] | masks["double11_warmup"] | masks["double11_day"]
    names[d11] = [f"double11_{y}" for y in years[d11]]
    d618 = masks["618_warmup"] | masks["618_day"]
    names[d618] = [f"618_{y}" for y in years[d618]]
    names[masks["pre_cny"]] = [f"cny_{y}" for y in years[masks["pre_cny"]]]
    names[masks["double12"]] = [f"double12_{y}" for y in years[masks["double12"]]]
    return [str(v) for v in names]


def discount_of_day() -> FloatArray:
    """Typical price multiplier per day (festival and end-of-season sales)."""
    masks = _festival_masks()
    month, _, _ = _calendar()
    factor = np.ones(WINDOW_DAYS)
    factor[(month == 1) | (month == 7)] = 0.8
    factor[masks["pre_cny"]] = 0.9
    factor[masks["618_warmup"] | masks["618_day"]] = 0.8
    factor[masks["double11_warmup"] | masks["double11_day"] | masks["double12"]] = 0.75
    return factor


def peak_logistics_days() -> BoolArray:
    """Days on which couriers run late: the festival crush and the New Year holiday."""
    masks = _festival_masks()
    days = np.arange(WINDOW_DAYS)
    crush = masks["double11_day"] | masks["618_day"] | masks["double12"]
    spread = np.zeros(WINDOW_DAYS, dtype=bool)
    for centre in np.flatnonzero(crush):
        spread |= (days >= centre) & (days <= centre + 5)
    return spread | masks["cny_holiday"]


def cumulative_intensity(weights: FloatArray, slow_from_day: int, slow_factor: float) -> FloatArray:
    """Running integral of a day-weight curve, optionally slowed after a day (length days+1)."""
    w = weights.copy()
    w[slow_from_day:] *= slow_factor
    return np.concatenate([[0.0], np.cumsum(w)])


def calendar_days(operational: FloatArray, cumulative: FloatArray) -> FloatArray:
    """Map operational time (integrated intensity) back to continuous calendar days."""
    grid = np.arange(len(cumulative), dtype=np.float64)
    return np.interp(operational, cumulative, grid)


def sample_days(
    rng: np.random.Generator,
    weights: FloatArray,
    n: int,
    lo: FloatArray | None = None,
    hi: FloatArray | None = None,
) -> FloatArray:
    """``n`` continuous day offsets drawn proportionally to ``weights``, inside ``[lo, hi)``."""
    cumulative = cumulative_intensity(weights, WINDOW_DAYS, 1.0)
    grid = np.arange(len(cumulative), dtype=np.float64)
    low = np.interp(lo, grid, cumulative) if lo is not None else np.zeros(n)
    high = np.interp(hi, grid, cumulative) if hi is not None else np.full(n, cumulative[-1])
    target = low + rng.random(n) * np.maximum(high - low, 0.0)
    return calendar_days(target, cumulative)


_ONLINE_HOURS = np.array(
    [
        3,
        1.5,
        0.8,
        0.4,
        0.3,
        0.3,
        0.5,
        1,
        2,
        3,
        3.5,
        4,
        5,
        4.5,
        3.5,
        3.5,
        3.5,
        4,
        4.5,
        5,
        6.5,
        7.5,
        7,
        5,
    ]
)
_STORE_HOURS = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 5, 5, 6, 6.5, 6, 5.5, 5, 6, 6.5, 4, 0, 0]
)


def seconds_in_day(rng: np.random.Generator, n: int, *, store: bool) -> IntArray:
    """Time of day in seconds: evening-heavy online, opening hours (10:00-22:00) in stores."""
    hours = _STORE_HOURS if store else _ONLINE_HOURS
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    return (hour * 3600 + rng.integers(0, 3600, size=n)).astype(np.int64)


def at_time_of_day(days: FloatArray, seconds: IntArray) -> IntArray:
    """Seconds since window start for the given (floored) days and times of day."""
    return np.floor(days).astype(np.int64) * DAY + seconds


def local_text(seconds: IntArray) -> list[str]:
    """China local ``YYYY-MM-DD HH:MM:SS`` strings for seconds since the window start."""
    stamps = _START_S + seconds.astype("timedelta64[s]")
    text = np.datetime_as_string(stamps, unit="s")
    return [str(v) for v in np.strings.replace(text, "T", " ")]


def local_dates(seconds: IntArray) -> list[str]:
    """China local ``YYYY-MM-DD`` dates for seconds since the window start."""
    stamps = (_START_S + seconds.astype("timedelta64[s]")).astype("datetime64[D]")
    return [str(v) for v in np.datetime_as_string(stamps, unit="D")]


def utc_iso(milliseconds: IntArray) -> list[str]:
    """UTC ISO-8601 strings with milliseconds and ``Z`` for local milliseconds since the start."""
    start_ms = _START_S.astype("datetime64[ms]")
    stamps = start_ms + (milliseconds - UTC_OFFSET_SECONDS * 1000).astype("timedelta64[ms]")
    return [v + "Z" for v in np.datetime_as_string(stamps, unit="ms").tolist()]


def day_numbers(seconds: IntArray) -> IntArray:
    """Calendar day offset (0 = 2024-11-01) for seconds since the window start."""
    return np.floor_divide(seconds, DAY).astype(np.int64)


def month_labels(seconds: IntArray) -> list[str]:
    """``YYYY-MM`` label per time, used to split exports by month."""
    months = (_START_S + seconds.astype("timedelta64[s]")).astype("datetime64[M]")
    return [str(v) for v in np.datetime_as_string(months, unit="M")]


def date_of_day(day: int) -> str:
    """ISO date of a day offset."""
    return str(_START_D + np.timedelta64(day, "D"))

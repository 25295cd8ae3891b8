"""Marketing exposures and clicks, and the orders they truly cause.

Why: attribution and uplift models can only be checked against a known truth. Each channel below
has a fixed incremental effect: a click converts into an extra online order with probability
``effect`` within about ``mean_lag_days`` (never after the person churned). Exposures are spread
with the online seasonality (budgets follow the festivals). The one confounder on purpose is
brand search: people about to buy anyway click a Baidu brand-keyword ad first, which last-click
attribution over-credits (those clicks are marked non-causal in the ground truth).

Example::

    touch = simulate_touchpoints(seed, people, devices)
    touch.conversions()   # rows of clicks that caused an order
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodia.demo.population import Devices, Population
from custodia.demo.timeline import (
    DAY,
    WINDOW_DAYS,
    festival_of_day,
    month_labels,
    online_day_weights,
    sample_days,
)
from custodia.demo.vectors import BoolArray, FloatArray, IntArray, substream


@dataclass(frozen=True)
class Channel:
    """A marketing channel with its true behaviour (the ground truth of attribution)."""

    name: str
    identifier: str
    audience: str
    medium: str
    impressions_per_year: float
    click_through_rate: float
    effect: float
    mean_lag_days: float
    cost_per_impression: float
    cost_per_click: float


CHANNELS: tuple[Channel, ...] = (
    Channel("douyin_ads", "anonymous_id", "device", "paid_social", 1.0, 0.15, 0.04, 1.0, 0.06, 1.5),
    Channel("xiaohongshu", "anonymous_id", "device", "social", 0.8, 0.20, 0.08, 2.0, 0.08, 2.0),
    Channel("baidu_search", "anonymous_id", "device", "cpc", 0.6, 0.35, 0.10, 0.5, 0.0, 3.5),
    Channel("wechat", "member_id", "member", "wechat", 1.2, 0.20, 0.06, 1.0, 0.02, 0.0),
    Channel("email", "member_id", "email", "email", 1.0, 0.15, 0.03, 1.5, 0.005, 0.0),
    Channel("sms", "phone", "member", "sms", 0.6, 0.08, 0.01, 1.0, 0.04, 0.0),
)
BAIDU = 2
FESTIVAL_COST_MULTIPLIER = 1.5
BRAND_SEARCH_SHARE = 0.15
MAX_LAG_DAYS = 7.0


@dataclass
class Touchpoints:
    """Exposure (kind 0) and click (kind 1) rows; ``person`` is -1 for anonymous visitors."""

    person: IntArray
    device: IntArray
    channel: IntArray
    kind: IntArray
    time_s: IntArray
    campaign: list[str]
    cost: FloatArray
    causal: BoolArray
    conversion_s: IntArray

    def __len__(self) -> int:
        return len(self.person)

    def conversions(self) -> IntArray:
        """Rows whose click caused an order (``conversion_s`` >= 0)."""
        return np.flatnonzero(self.conversion_s >= 0).astype(np.int64)


def simulate_touchpoints(seed: int, people: Population, devices: Devices) -> Touchpoints:
    """Exposures for customers and visitors, their clicks, and the conversions clicks cause."""
    rng = substream(seed, "marketing")
    first_device, device_count = _device_index(people.n, devices)
    parts = [
        _exposures(rng, c, people, devices, first_device, device_count)
        for c in range(len(CHANNELS))
    ]
    person = np.concatenate([p[0] for p in parts])
    device = np.concatenate([p[1] for p in parts])
    channel = np.concatenate([np.full(len(p[0]), c, dtype=np.int64) for c, p in enumerate(parts)])
    day = np.concatenate([p[2] for p in parts])
    time_s = (np.floor(day) * DAY).astype(np.int64)
    return _with_clicks(rng, people, person, device, channel, time_s)


def _device_index(n: int, devices: Devices) -> tuple[IntArray, IntArray]:
    owned = devices.owner >= 0
    count = np.bincount(devices.owner[owned], minlength=n).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    return first, count


def _exposures(
    rng: np.random.Generator,
    c: int,
    people: Population,
    devices: Devices,
    first_device: IntArray,
    device_count: IntArray,
) -> tuple[IntArray, IntArray, FloatArray]:
    channel = CHANNELS[c]
    lo, eligible = _eligibility(channel, people, device_count)
    person_part = _per_entity(rng, channel, lo, eligible)
    pick = rng.integers(0, 1 << 30, size=len(person_part[0]))
    person_idx = person_part[0]
    device = np.where(
        device_count[person_idx] > 0,
        first_device[person_idx] + pick % np.maximum(device_count[person_idx], 1),
        -1,
    )
    if channel.audience != "device":
        return person_idx, device.astype(np.int64), person_part[1]
    visitor_devices = np.flatnonzero(devices.owner < 0)
    visitor_part = _per_entity(
        rng, channel, np.zeros(len(visitor_devices)), np.ones(len(visitor_devices), dtype=bool)
    )
    return (
        np.concatenate([person_idx, np.full(len(visitor_part[0]), -1)]).astype(np.int64),
        np.concatenate([device, visitor_devices[visitor_part[0]]]).astype(np.int64),
        np.concatenate([person_part[1], visitor_part[1]]),
    )


def _eligibility(
    channel: Channel, people: Population, device_count: IntArray
) -> tuple[FloatArray, BoolArray]:
    """From when, and whether, each person can be reached on this channel."""
    if channel.audience == "device":
        return np.maximum(people.start_day - 30, 0), device_count > 0
    joined = np.maximum(people.registered_s / DAY, 0).astype(np.float64)
    eligible = people.member.copy()
    if channel.audience == "email":
        eligible &= np.array([e is not None for e in people.email], dtype=bool)
    return np.maximum(joined, people.start_day), eligible


def _per_entity(
    rng: np.random.Generator, channel: Channel, lo: FloatArray, eligible: BoolArray
) -> tuple[IntArray, FloatArray]:
    span = np.where(eligible, np.maximum(WINDOW_DAYS - lo, 0), 0)
    counts = rng.poisson(channel.impressions_per_year * span / 365.0)
    owner = np.repeat(np.arange(len(lo)), counts).astype(np.int64)
    hi = np.full(len(owner), float(WINDOW_DAYS))
    days = sample_days(rng, online_day_weights(), len(owner), lo=lo[owner], hi=hi)
    return owner, days


def _with_clicks(
    rng: np.random.Generator,
    people: Population,
    person: IntArray,
    device: IntArray,
    channel: IntArray,
    time_s: IntArray,
) -> Touchpoints:
    n = len(person)
    time_s = time_s + rng.integers(8 * 3600, 23 * 3600, size=n)
    ctr = np.array([c.click_through_rate for c in CHANNELS])[channel]
    clicked = rng.random(n) < ctr
    click_time = time_s[clicked] + rng.integers(5, 900, size=int(clicked.sum()))
    all_person = np.concatenate([person, person[clicked]])
    all_channel = np.concatenate([channel, channel[clicked]])
    kind = np.concatenate(
        [np.zeros(n, dtype=np.int64), np.ones(int(clicked.sum()), dtype=np.int64)]
    )
    all_time = np.concatenate([time_s, click_time])
    all_time = np.minimum(all_time, WINDOW_DAYS * DAY - 1)
    touch = Touchpoints(
        person=all_person,
        device=np.concatenate([device, device[clicked]]),
        channel=all_channel,
        kind=kind,
        time_s=all_time,
        campaign=_campaigns(all_channel, all_time),
        cost=_costs(all_channel, kind, all_time),
        causal=kind == 1,
        conversion_s=np.full(len(all_person), -1, dtype=np.int64),
    )
    _draw_conversions(rng, people, touch)
    return touch


def _campaigns(channel: IntArray, time_s: IntArray) -> list[str]:
    """``<channel>_<festival>`` or ``<channel>_<season>_new_arrivals`` for each row."""
    periods = _campaign_periods()
    table = [f"{c.name}_{p}" for c in CHANNELS for p in periods]
    days = np.clip(time_s // DAY, 0, WINDOW_DAYS - 1)
    return [table[k] for k in (channel * WINDOW_DAYS + days).tolist()]


def _campaign_periods() -> list[str]:
    festival = festival_of_day()
    months = month_labels(np.arange(WINDOW_DAYS, dtype=np.int64) * DAY)
    out = []
    for name, month in zip(festival, months, strict=True):
        if name == "always_on":
            year, mm = int(month[:4]), int(month[5:])
            season = "ss" if 3 <= mm <= 8 else "aw"
            name = f"{season}{(year if mm >= 3 else year - 1) % 100}_new_arrivals"
        out.append(name)
    return out


def _costs(channel: IntArray, kind: IntArray, time_s: IntArray) -> FloatArray:
    per_impression = np.array([c.cost_per_impression for c in CHANNELS])[channel]
    per_click = np.array([c.cost_per_click for c in CHANNELS])[channel]
    festival = np.array([f != "always_on" for f in festival_of_day()])
    days = np.minimum(time_s // DAY, WINDOW_DAYS - 1)
    multiplier = np.where(festival[days], FESTIVAL_COST_MULTIPLIER, 1.0)
    return np.round(np.where(kind == 1, per_click, per_impression) * multiplier, 3)


def _draw_conversions(rng: np.random.Generator, people: Population, touch: Touchpoints) -> None:
    """Clicks by customers convert with the channel's true effect, before any churn."""
    effect = np.array([c.effect for c in CHANNELS])[touch.channel]
    lag_mean = np.array([c.mean_lag_days for c in CHANNELS])[touch.channel]
    lag_days = np.minimum(rng.exponential(lag_mean), MAX_LAG_DAYS) + 600 / DAY
    converts = rng.random(len(touch)) < effect
    at = touch.time_s + (lag_days * DAY).astype(np.int64)
    alive = np.ones(len(touch), dtype=bool)
    known = touch.person >= 0
    alive[known] = people.churn_day[touch.person[known]] * DAY > at[known]
    ok = converts & (touch.kind == 1) & known & alive & (at < WINDOW_DAYS * DAY)
    touch.conversion_s[ok] = at[ok]


def add_brand_search(
    seed: int, touch: Touchpoints, person: IntArray, device: IntArray, order_s: IntArray
) -> Touchpoints:
    """Non-causal Baidu brand-keyword ad clicks shortly before orders people placed anyway."""
    rng = substream(seed, "brand_search")
    wanted = (device >= 0) & (rng.random(len(person)) < BRAND_SEARCH_SHARE)
    lead = rng.integers(300, 7200, size=len(person))
    chosen = np.flatnonzero(wanted & (order_s - lead >= 120))
    k = len(chosen)
    click = order_s[chosen] - lead[chosen]
    shown = click - rng.integers(5, 120, size=k)
    times = np.concatenate([shown, click])
    kinds = np.concatenate([np.zeros(k, dtype=np.int64), np.ones(k, dtype=np.int64)])
    channel = np.full(2 * k, BAIDU, dtype=np.int64)
    return Touchpoints(
        person=np.concatenate([touch.person, person[chosen], person[chosen]]),
        device=np.concatenate([touch.device, device[chosen], device[chosen]]),
        channel=np.concatenate([touch.channel, channel]),
        kind=np.concatenate([touch.kind, kinds]),
        time_s=np.concatenate([touch.time_s, times]),
        campaign=touch.campaign + ["baidu_search_brand_keywords"] * (2 * k),
        cost=np.concatenate([touch.cost, _costs(channel, kinds, times)]),
        causal=np.concatenate([touch.causal, np.zeros(2 * k, dtype=bool)]),
        conversion_s=np.concatenate([touch.conversion_s, np.full(2 * k, -1, dtype=np.int64)]),
    )

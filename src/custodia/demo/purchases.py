"""Purchase behaviour: when each person buys, where, what, and what went wrong.

Why: RFM, CLV, churn and recommendation models need behaviour with a known shape. Each person
repurchases in a renewal process whose mean gap depends on a latent value tier (top tier about
every 3 months, lengthening to about 4.5 months in the last six months of the window while their
interest in limited editions falls). Purchases are placed in *operational time* (the integral of
the festival-and-weekday intensity), so peaks appear on Double 11, 618 and before Chinese New
Year without per-day loops. Churned people stop buying at their churn date.

Example::

    buys = simulate_purchases(seed, people, devices, touch, catalog)
    buys.person[:5], buys.time_s[:5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodia.demo.catalog import CATEGORIES, Catalog, draw_sizes, draw_skus
from custodia.demo.marketing import Touchpoints
from custodia.demo.population import STORES, Devices, Population
from custodia.demo.timeline import (
    DAY,
    LAST_SIX_MONTHS_DAY,
    WINDOW_DAYS,
    calendar_days,
    cumulative_intensity,
    discount_of_day,
    online_day_weights,
    seconds_in_day,
    store_day_weights,
)
from custodia.demo.vectors import BoolArray, FloatArray, IntArray, substream

MEAN_GAP_DAYS = (300.0, 150.0, 110.0, 90.0)
GAP_STRETCH_LAST_SIX_MONTHS = (1.0, 1.0, 1.15, 1.5)
LIMITED_SHARE = ((0.04, 0.04), (0.08, 0.08), (0.15, 0.12), (0.35, 0.10))
EXTRA_ITEMS = (0.3, 0.5, 0.8, 1.2)
GAP_SHAPE = 2.0
ONLINE_SHARE_OF_INTENSITY = 0.6
MINIPROGRAM = 3
PLATFORM_NAMES = ("web", "ios", "android", "wechat_miniprogram")
QUALITY_ISSUE_RATE = 0.012
WRONG_ITEM_RATE = 0.004
CANCEL_RATE = 0.04
SIZE_SMALL_MULTIPLIER = 4.0


@dataclass
class Purchases:
    """One row per purchase (online order or store receipt), sorted by time; lines alongside."""

    person: IntArray
    time_s: IntArray
    online: BoolArray
    platform: IntArray
    device: IntArray
    store: IntArray
    cause: IntArray
    line_start: IntArray
    line_count: IntArray
    line_sku: IntArray
    line_size: list[str]
    line_qty: IntArray
    line_price: FloatArray
    size_issue: BoolArray
    quality_issue: BoolArray
    wrong_item: BoolArray

    def __len__(self) -> int:
        return len(self.person)

    @property
    def line_purchase(self) -> IntArray:
        """Purchase index of every line."""
        return np.repeat(np.arange(len(self.person)), self.line_count).astype(np.int64)

    def amounts(self) -> FloatArray:
        """Gross amount per purchase (sum of qty x unit price)."""
        value = self.line_qty * self.line_price
        return np.bincount(self.line_purchase, weights=value, minlength=len(self)).astype(float)


def simulate_purchases(
    seed: int, people: Population, devices: Devices, touch: Touchpoints, catalog: Catalog
) -> Purchases:
    """Baseline repurchases plus the orders marketing clicks caused, with baskets and issues."""
    rng = substream(seed, "purchases")
    person, day, first = _baseline_occasions(rng, people)
    caused = touch.conversions()
    person = np.concatenate([person, touch.person[caused]])
    online, store = _channels(rng, people, person, day, len(caused))
    conv_day = touch.conversion_s[caused] / DAY
    time_s = _times(rng, people, person, np.concatenate([day, conv_day]), online, first)
    time_s[len(day) :] = touch.conversion_s[caused]
    platform, device = _platforms(
        rng, devices, people.n, person, online, len(caused), touch.device[caused]
    )
    cause = np.concatenate([np.full(len(day), -1), caused]).astype(np.int64)
    order = np.lexsort((person, time_s))
    return _with_baskets(
        rng, people, catalog, person[order], time_s[order], online[order],
        platform[order], device[order], store[order], cause[order],
    )  # fmt: skip


def _baseline_occasions(
    rng: np.random.Generator, people: Population
) -> tuple[IntArray, FloatArray, BoolArray]:
    """Renewal process per tier in operational time; returns person, calendar day, first-flag."""
    blended = (
        ONLINE_SHARE_OF_INTENSITY * online_day_weights()
        + (1 - ONLINE_SHARE_OF_INTENSITY) * store_day_weights()
    )
    persons, days, firsts = [], [], []
    for tier, gap in enumerate(MEAN_GAP_DAYS):
        who = np.flatnonzero(people.tier == tier)
        cum = cumulative_intensity(
            blended, LAST_SIX_MONTHS_DAY, 1 / GAP_STRETCH_LAST_SIX_MONTHS[tier]
        )
        width = int(np.ceil(WINDOW_DAYS / gap * 1.8)) + 4
        start = np.interp(people.start_day[who], np.arange(WINDOW_DAYS + 1), cum)
        offset = np.where(people.existing[who], rng.random(len(who)) * gap, 0.0)
        gaps = rng.gamma(GAP_SHAPE, gap / GAP_SHAPE, size=(len(who), width))
        gaps[:, 0] = offset
        cal = calendar_days(start[:, None] + np.cumsum(gaps, axis=1), cum)
        end = np.minimum(people.churn_day[who], WINDOW_DAYS - 1e-6)
        keep = (cal < end[:, None]) & (cal < WINDOW_DAYS)
        rows, cols = np.nonzero(keep)
        persons.append(who[rows])
        days.append(cal[rows, cols])
        firsts.append((cols == 0) & ~people.existing[who[rows]])
    return (
        np.concatenate(persons).astype(np.int64),
        np.concatenate(days),
        np.concatenate(firsts),
    )


def _channels(
    rng: np.random.Generator, people: Population, person: IntArray, day: FloatArray, caused: int
) -> tuple[BoolArray, IntArray]:
    """Online or in store: the person's preference tilted by the day's channel seasonality."""
    d = np.minimum(np.floor(day).astype(np.int64), WINDOW_DAYS - 1)
    on, st = online_day_weights()[d], store_day_weights()[d]
    p = people.p_online[person[: len(day)]]
    p_day = p * on / (p * on + (1 - p) * st)
    home = people.home_store[person[: len(day)]]
    travelling = rng.random(len(day)) < 0.03
    online = np.where(home >= 0, rng.random(len(day)) < p_day, ~travelling)
    online = np.concatenate([online, np.ones(caused, dtype=bool)])
    random_store = rng.integers(0, len(STORES), size=len(person))
    home_all = people.home_store[person]
    store = np.where(online, -1, np.where(home_all >= 0, home_all, random_store))
    return online, store.astype(np.int64)


def _times(
    rng: np.random.Generator,
    people: Population,
    person: IntArray,
    day: FloatArray,
    online: BoolArray,
    first: BoolArray,
) -> IntArray:
    n = len(person)
    of_day = np.where(
        online, seconds_in_day(rng, n, store=False), seconds_in_day(rng, n, store=True)
    )
    time_s = np.floor(day).astype(np.int64) * DAY + of_day
    is_first = np.concatenate([first, np.zeros(n - len(first), dtype=bool)])
    joins = is_first & people.member[person]
    people.registered_s[person[joins]] = time_s[joins] - rng.integers(
        60, 900, size=int(joins.sum())
    )
    return time_s


def _platforms(
    rng: np.random.Generator,
    devices: Devices,
    people_n: int,
    person: IntArray,
    online: BoolArray,
    caused: int,
    caused_device: IntArray,
) -> tuple[IntArray, IntArray]:
    """Web/iOS/Android on one of the person's devices, or the WeChat mini-program."""
    n = len(person)
    owned = devices.owner >= 0
    count = np.bincount(devices.owner[owned], minlength=people_n)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    k = count[person]
    draw = rng.integers(0, 1 << 30, size=n) % np.maximum(k, 1)
    device = np.where(k > 0, first[person] + draw, -1)
    device[n - caused :] = caused_device
    baseline = np.arange(n) < n - caused
    mini = (device < 0) | (baseline & (rng.random(n) < 0.25))
    device = np.where(online & ~mini, device, -1)
    platform = np.where(device >= 0, devices.platform[np.maximum(device, 0)], MINIPROGRAM)
    return np.where(online, platform, -1).astype(np.int64), device.astype(np.int64)


def _with_baskets(
    rng: np.random.Generator,
    people: Population,
    catalog: Catalog,
    person: IntArray,
    time_s: IntArray,
    online: BoolArray,
    platform: IntArray,
    device: IntArray,
    store: IntArray,
    cause: IntArray,
) -> Purchases:
    n = len(person)
    tier = people.tier[person]
    count = 1 + np.minimum(rng.poisson(np.array(EXTRA_ITEMS)[tier]), 4)
    line_purchase = np.repeat(np.arange(n), count)
    day = np.minimum(time_s[line_purchase] // DAY, WINDOW_DAYS - 1)
    late = day >= LAST_SIX_MONTHS_DAY
    shares = np.array(LIMITED_SHARE)[tier[line_purchase], late.astype(np.int64)]
    months = ((np.datetime64("2024-11-01") + day.astype("timedelta64[D]")).astype("datetime64[M]")
              .astype(np.int64) % 12 + 1)  # fmt: skip
    sku = draw_skus(rng, catalog, months.astype(np.int64), shares)
    qty = np.where(rng.random(len(sku)) < 0.1, 2, 1).astype(np.int64)
    on_sale = (rng.random(len(sku)) < 0.7) & ~catalog.limited[sku]
    price = catalog.price[sku] * np.where(on_sale, discount_of_day()[day], 1.0)
    issue_rate = np.array([c.size_issue_rate for c in CATEGORIES])[catalog.category[sku]]
    issue_rate = issue_rate * np.where(catalog.runs_small[sku], SIZE_SMALL_MULTIPLIER, 1.0)
    line_size_issue = rng.random(len(sku)) < issue_rate
    return Purchases(
        person=person,
        time_s=time_s,
        online=online,
        platform=platform,
        device=device,
        store=store,
        cause=cause,
        line_start=np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64),
        line_count=count.astype(np.int64),
        line_sku=sku,
        line_size=draw_sizes(rng, catalog, sku),
        line_qty=qty,
        line_price=np.floor(price),
        size_issue=np.bincount(line_purchase, weights=line_size_issue, minlength=n) > 0,
        quality_issue=rng.random(n) < QUALITY_ISSUE_RATE,
        wrong_item=online & (rng.random(n) < WRONG_ITEM_RATE),
    )

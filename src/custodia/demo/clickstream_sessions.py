"""Web and app sessions, expanded into Segment-style events (before serialisation).

Why: the clickstream must tell the same story as the orders and the ads. Every online order placed
on the web or in the app gets a session that ends in ``Order Completed`` at the order's time; ad,
e-mail and SMS clicks land on the site with their UTM campaign; people browse before buying; and a
device stays anonymous until its owner logs in (``identify``), after which its events carry the
``userId``. Anonymous visitors who never buy browse too.

Example::

    sessions = plan_sessions(world)
    events = expand_events(world, sessions)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodia.demo.catalog import draw_skus
from custodia.demo.purchases import LIMITED_SHARE
from custodia.demo.timeline import DAY, LAST_SIX_MONTHS_DAY, WINDOW_DAYS
from custodia.demo.vectors import BoolArray, IntArray, substream
from custodia.demo.world import World

BROWSE, ORDER, LANDING = 0, 1, 2
(HOME, LANDING_PAGE, PRODUCT_PAGE, PRODUCT_VIEWED, ELEMENT_CLICKED, PRODUCT_ADDED, SIGNED_UP,
 ALIAS, IDENTIFY, CHECKOUT_STARTED, ORDER_COMPLETED) = range(11)  # fmt: skip
BROWSE_PER_DEVICE_YEAR = 0.4
PRE_ORDER_BROWSE = 0.2
LANDING_TRACKED_SHARE = 0.6
BROWSE_LOGIN_SHARE = 0.4
_END = WINDOW_DAYS * DAY


@dataclass(frozen=True)
class Sessions:
    """One row per session; ``order`` indexes online orders, ``campaign`` touchpoint rows."""

    device: IntArray
    anchor_s: IntArray
    kind: IntArray
    order: IntArray
    campaign: IntArray
    identify: BoolArray
    signup: BoolArray


@dataclass(frozen=True)
class Events:
    """One row per event, sorted by session; ``time_ms`` is local ms since the window start."""

    session: IntArray
    kind: IntArray
    time_ms: IntArray
    device: IntArray
    sku: IntArray
    line: IntArray
    with_user: BoolArray
    element: IntArray


def plan_sessions(world: World) -> Sessions:
    """Order, pre-order browsing, landing and background browsing sessions, with log-ins."""
    rng = substream(world.seed, "sessions")
    online, buys, touch = world.online, world.buys, world.touch
    tracked = np.flatnonzero(buys.device[online.purchase] >= 0)
    order_dev = buys.device[online.purchase[tracked]]
    order_t = buys.time_s[online.purchase[tracked]]
    order_camp = buys.cause[online.purchase[tracked]]
    pre = np.repeat(np.arange(len(tracked)), rng.poisson(PRE_ORDER_BROWSE, len(tracked)))
    tracked_click = rng.random(len(touch)) < LANDING_TRACKED_SHARE
    clicks = np.flatnonzero((touch.kind == 1) & (touch.device >= 0) & tracked_click)
    bg_dev, bg_t = _background(rng, world)
    none_pre = np.full(len(pre), -1)
    none_bg = np.full(len(bg_dev), -1)
    device = np.concatenate([order_dev, order_dev[pre], touch.device[clicks], bg_dev])
    anchor = np.concatenate([
        order_t, order_t[pre] - rng.integers(1800, 10 * DAY, size=len(pre)),
        touch.time_s[clicks] + rng.integers(2, 30, size=len(clicks)), bg_t,
    ])  # fmt: skip
    kind = np.concatenate([
        np.full(len(tracked), ORDER), np.full(len(pre), BROWSE), np.full(len(clicks), LANDING),
        np.full(len(bg_dev), BROWSE),
    ])  # fmt: skip
    order = np.concatenate([tracked, none_pre, np.full(len(clicks), -1), none_bg])
    campaign = np.concatenate([order_camp, none_pre, clicks, none_bg])
    keep = (anchor >= 0) & (anchor < _END)
    sort = np.lexsort((kind[keep], anchor[keep], device[keep]))
    cols = [a[keep][sort].astype(np.int64) for a in (device, anchor, kind, order, campaign)]
    identify, signup = _logins(rng, world, *cols[:4])
    return Sessions(cols[0], cols[1], cols[2], cols[3], cols[4], identify, signup)


def _background(rng: np.random.Generator, world: World) -> tuple[IntArray, IntArray]:
    """Aimless browsing while the owner is active (anonymous visitors: 1-3 visits)."""
    devices, people = world.devices, world.people
    owner = devices.owner
    known = owner >= 0
    lo = np.zeros(len(owner))
    hi = np.full(len(owner), float(WINDOW_DAYS))
    lo[known] = np.maximum(people.start_day[owner[known]] - 30, 0)
    hi[known] = np.minimum(people.churn_day[owner[known]], WINDOW_DAYS)
    span = np.maximum(hi - lo, 0)
    counts = np.where(
        known, rng.poisson(BROWSE_PER_DEVICE_YEAR * span / 365), rng.integers(1, 4, len(owner))
    )
    dev = np.repeat(np.arange(len(owner)), counts).astype(np.int64)
    first_visit = lo + rng.random(len(owner)) * span
    spread = np.where(known[dev], span[dev] * rng.random(len(dev)), rng.random(len(dev)) * 30)
    day = np.where(known[dev], lo[dev] + spread, first_visit[dev] + spread)
    seconds = (day * DAY).astype(np.int64)
    return dev, seconds


def _logins(
    rng: np.random.Generator, world: World, device: IntArray, anchor: IntArray, kind: IntArray,
    order: IntArray,
) -> tuple[BoolArray, BoolArray]:  # fmt: skip
    """A device's first logged-in order identifies it; new members sign up at their first order."""
    online, people = world.online, world.people
    has_user = np.zeros(len(device), dtype=bool)
    is_order = order >= 0
    has_user[is_order] = [online.user_id[o] is not None for o in order[is_order]]
    identify = _first_per_device(device, has_user)
    owner = world.devices.owner[device]
    member_user = np.array(
        [o >= 0 and people.user_id[o] is not None for o in owner.tolist()], dtype=bool
    )
    registered = np.where(
        owner >= 0, people.registered_s[np.maximum(owner, 0)], np.iinfo(np.int64).max
    )
    browse_ok = member_user & (kind == BROWSE) & (anchor >= registered)
    identified_devices = np.unique(device[identify])
    browse_ok &= ~np.isin(device, identified_devices)
    browse_first = _first_per_device(device, browse_ok)
    identify |= browse_first & (rng.random(len(device)) < BROWSE_LOGIN_SHARE)
    purchase = np.where(is_order, online.purchase[np.maximum(order, 0)], -1)
    first_buy = _first_purchase_of(world)
    signup = is_order & has_user & ~people.existing[np.maximum(owner, 0)]
    signup &= purchase == first_buy[np.maximum(owner, 0)]
    return identify | signup, signup


def _first_per_device(device: IntArray, candidate: BoolArray) -> BoolArray:
    """Mark the earliest candidate session of each device (sessions are sorted by device, time)."""
    rows = np.flatnonzero(candidate)
    out = np.zeros(len(device), dtype=bool)
    if len(rows):
        _, first = np.unique(device[rows], return_index=True)
        out[rows[first]] = True
    return out


def _first_purchase_of(world: World) -> IntArray:
    buys = world.buys
    first = np.full(world.people.n, len(buys), dtype=np.int64)
    np.minimum.at(first, buys.person, np.arange(len(buys), dtype=np.int64))
    return first


def expand_events(world: World, sessions: Sessions) -> Events:
    """Lay out each session's events (entry page, views, clicks, cart, sign-up, login, checkout)."""
    rng = substream(world.seed, "events")
    n = len(sessions.device)
    web = world.devices.platform[sessions.device] == 0
    is_order = sessions.kind == ORDER
    order = np.maximum(sessions.order, 0)
    lines = np.where(is_order, world.buys.line_count[world.online.purchase[order]], 0)
    extra = rng.poisson(np.where(sessions.kind == LANDING, 0.3, 0.5), n)
    views = np.where(is_order, lines, 1 + extra)
    clicks = np.where(web, rng.poisson(0.6, n), 0)
    added = np.where(is_order, lines, (rng.random(n) < 0.2).astype(np.int64))
    signup = sessions.signup * (1 + (~web).astype(np.int64))
    bounds = np.cumsum(
        np.stack([np.ones(n, np.int64), 2 * views, clicks, added, signup, sessions.identify,
                  2 * is_order]), axis=0,
    )  # fmt: skip
    total = bounds[-1]
    session = np.repeat(np.arange(n), total).astype(np.int64)
    pos = np.arange(int(total.sum())) - np.repeat(np.cumsum(total) - total, total)
    kind, index = _kinds(pos, bounds[:, session], sessions.kind[session] == LANDING)
    time_ms = _event_times(rng, sessions, session, kind, total)
    sku, line = _products(rng, world, sessions, session, kind, index)
    with_user = _user_flags(world, sessions.device[session], kind, time_ms)
    element = np.where(kind == ELEMENT_CLICKED, rng.integers(0, 1 << 20, len(kind)), -1)
    return Events(session, kind, time_ms, sessions.device[session], sku, line, with_user, element)


def _kinds(pos: IntArray, b: IntArray, landing: BoolArray) -> tuple[IntArray, IntArray]:
    """Event kind and index within its segment (view number, added-line number)."""
    kind = np.full(len(pos), ORDER_COMPLETED, dtype=np.int64)
    index = np.zeros(len(pos), dtype=np.int64)
    kind[pos == 0] = np.where(landing[pos == 0], LANDING_PAGE, HOME)
    view = (pos >= b[0]) & (pos < b[1])
    kind[view] = np.where((pos[view] - 1) % 2 == 0, PRODUCT_PAGE, PRODUCT_VIEWED)
    index[view] = (pos[view] - 1) // 2
    kind[(pos >= b[1]) & (pos < b[2])] = ELEMENT_CLICKED
    add = (pos >= b[2]) & (pos < b[3])
    kind[add] = PRODUCT_ADDED
    index[add] = pos[add] - b[2][add]
    sign = (pos >= b[3]) & (pos < b[4])
    kind[sign] = np.where(pos[sign] == b[3][sign], SIGNED_UP, ALIAS)
    kind[(pos >= b[4]) & (pos < b[5])] = IDENTIFY
    kind[pos == b[5]] = CHECKOUT_STARTED
    return kind, index


def _event_times(
    rng: np.random.Generator, sessions: Sessions, session: IntArray, kind: IntArray, total: IntArray
) -> IntArray:
    quick = (kind == PRODUCT_VIEWED) | (kind == ALIAS) | (kind == IDENTIFY)
    gaps = np.where(quick, rng.integers(100, 900, len(kind)), rng.exponential(25_000, len(kind)))
    gaps = gaps.astype(np.int64)
    starts = np.cumsum(total) - total
    gaps[starts] = 0
    running = np.cumsum(gaps)
    offset = running - running[starts][session]
    duration = offset[starts + total - 1]
    begin = sessions.anchor_s * 1000 - np.where(sessions.kind == ORDER, duration, 0)
    times: IntArray = (begin[session] + offset).astype(np.int64)
    return times


def _products(
    rng: np.random.Generator,
    world: World,
    sessions: Sessions,
    session: IntArray,
    kind: IntArray,
    index: IntArray,
) -> tuple[IntArray, IntArray]:
    """SKU per product event: the ordered lines in order sessions, interest-driven otherwise."""
    buys, online = world.buys, world.online
    owner = world.devices.owner[sessions.device[session]]
    tier = np.where(owner >= 0, world.people.tier[np.maximum(owner, 0)], 0)
    day = np.clip(sessions.anchor_s[session] // DAY, 0, WINDOW_DAYS - 1)
    late = (day >= LAST_SIX_MONTHS_DAY).astype(np.int64)
    months = ((np.datetime64("2024-11-01") + day.astype("timedelta64[D]")).astype("datetime64[M]")
              .astype(np.int64) % 12 + 1)  # fmt: skip
    interest = np.array(LIMITED_SHARE)[tier, late] * 1.5
    sku = draw_skus(rng, world.catalog, months.astype(np.int64), interest)
    order = sessions.order[session]
    purchase = online.purchase[np.maximum(order, 0)]
    count = buys.line_count[purchase]
    product_event = np.isin(kind, (PRODUCT_PAGE, PRODUCT_VIEWED, PRODUCT_ADDED))
    from_order = (order >= 0) & product_event & (index < count)
    line = np.where(from_order, buys.line_start[purchase] + index, -1)
    sku = np.where(from_order, buys.line_sku[np.maximum(line, 0)], sku)
    viewed = np.flatnonzero(kind == PRODUCT_VIEWED)
    sku[viewed] = sku[viewed - 1]
    loose = np.flatnonzero((kind == PRODUCT_ADDED) & ~from_order)
    first_page = np.searchsorted(session, session[loose]) + 1
    sku[loose] = sku[first_page]
    return np.where(product_event, sku, -1).astype(np.int64), line.astype(np.int64)


def _user_flags(world: World, device: IntArray, kind: IntArray, time_ms: IntArray) -> BoolArray:
    """Events at or after a device's first identify carry the userId."""
    first = np.full(len(world.devices.owner), np.iinfo(np.int64).max, dtype=np.int64)
    ident = kind == IDENTIFY
    np.minimum.at(first, device[ident], time_ms[ident])
    return time_ms >= first[device]

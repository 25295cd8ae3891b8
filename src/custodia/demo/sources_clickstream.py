"""Segment HTTP-API batch files: ``clickstream/batch-000001.json`` (at most 500 events each).

Why: the collector ingests Segment-compatible batches, so the demo writes exactly that shape:
``{"batch": [...], "sentAt": ..., "context": {"library": ...}}`` with ``page``/``screen``,
``track``, ``identify`` and ``alias`` calls, ``messageId``, ``anonymousId``/``userId``,
``timestamp`` and ``originalTimestamp`` (skewed on a few phones with a wrong clock), UTM
campaigns in ``context.campaign`` and click coordinates for heatmaps. Events are serialised from
pre-built JSON fragments, because a million ``json.dumps`` calls would dominate the run time.

Example::

    result = write_clickstream(out_dir, world)
    result.events, result.files
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from custodia.demo.catalog import CATEGORIES
from custodia.demo.clickstream_sessions import (
    ALIAS,
    CHECKOUT_STARTED,
    ELEMENT_CLICKED,
    HOME,
    IDENTIFY,
    LANDING_PAGE,
    PRODUCT_ADDED,
    PRODUCT_PAGE,
    PRODUCT_VIEWED,
    SIGNED_UP,
    Events,
    Sessions,
    expand_events,
    plan_sessions,
)  # fmt: skip
from custodia.demo.marketing import CHANNELS
from custodia.demo.timeline import utc_iso
from custodia.demo.vectors import IntArray, hex_strings, substream
from custodia.demo.world import World

BATCH_SIZE = 500
SITE = "https://www.lumiere-nichang.cn"
_LIBRARIES = (
    '{"name":"analytics.js","version":"next-1.76.0"}',
    '{"name":"analytics-ios","version":"4.1.8"}',
    '{"name":"analytics-android","version":"4.11.3"}',
)
_OS = ("", '"os":{"name":"iOS","version":"17.5"}', '"os":{"name":"Android","version":"14"}')
_MAKERS = ("", "Apple", "Android")
# element id, type, label, desktop box (x, y, w, h), mobile box, weight
_ELEMENTS = (
    ("add_to_cart", "button", "加入购物车", (1050, 620, 320, 56), (290, 800, 180, 48), 25),
    ("size_selector", "select", "选择尺码", (1050, 480, 320, 44), (195, 620, 350, 44), 20),
    ("size_guide", "link", "尺码指南", (1180, 440, 80, 20), (330, 580, 80, 20), 8),
    ("gallery_image", "image", "", (450, 500, 500, 700), (195, 300, 390, 450), 20),
    ("colour_swatch", "button", "颜色", (1000, 400, 200, 40), (120, 560, 200, 36), 10),
    ("reviews_tab", "tab", "评价", (900, 980, 120, 40), (195, 1100, 390, 40), 7),
    ("recommendation", "link", "猜你喜欢", (720, 1400, 1200, 300), (195, 1500, 390, 300), 5),
    ("nav_new_in", "link", "新品", (300, 40, 80, 30), (40, 30, 60, 30), 3),
    ("search_box", "input", "搜索", (1200, 40, 200, 32), (250, 30, 200, 32), 2),
)


_BATCHES_PER_CHUNK = 64
_HOME_PAGE = '"path":"/","url":"' + SITE + '/","title":"Lumière 霓裳 官方商城"'
_HOME_CONTEXT = ',"page":{"path":"/","url":"' + SITE + '/"}'


@dataclass(frozen=True)
class _EventColumns:
    """Event and session columns as Python lists (indexing numpy scalars per event is slow)."""

    device: list[int]
    kind: list[int]
    session: list[int]
    sku: list[int]
    line: list[int]
    element: list[int]
    with_user: list[bool]
    page_sku: list[int]
    web: list[bool]
    campaign: list[int]
    order: list[int]


@dataclass(frozen=True)
class ClickstreamResult:
    """Counts, plus which identifiers appeared (for the record-to-person map)."""

    events: int
    files: int
    anonymous_ids: list[str]
    anonymous_owner: list[str]
    user_ids: list[str]
    user_owner: list[str]
    skewed_devices: list[str]


def write_clickstream(out_dir: Path, world: World) -> ClickstreamResult:
    """Plan sessions, expand events, and write them as numbered batch files per library."""
    sessions = plan_sessions(world)
    events = expand_events(world, sessions)
    writer = _BatchWriter(world, sessions, events)
    files = writer.write_all(out_dir / "clickstream")
    seen = np.unique(events.device)
    users = np.unique(events.device[events.with_user])
    owner = world.devices.owner
    user_devices = [d for d in users.tolist() if owner[d] >= 0]
    user_ids = sorted({str(world.people.user_id[owner[d]]): d for d in user_devices}.items())
    return ClickstreamResult(
        events=len(events.kind),
        files=files,
        anonymous_ids=[world.devices.anonymous_id[d] for d in seen.tolist()],
        anonymous_owner=[world.devices.owner_id[d] for d in seen.tolist()],
        user_ids=[u for u, _ in user_ids],
        user_owner=[world.devices.owner_id[d] for _, d in user_ids],
        skewed_devices=[
            world.devices.anonymous_id[d] for d in seen.tolist() if world.devices.clock_skew_ms[d]
        ],
    )


class _BatchWriter:
    """Serialises events from fragments prepared once per device, SKU and campaign."""

    def __init__(self, world: World, sessions: Sessions, events: Events) -> None:
        self.world, self.events = world, events
        self.rng = substream(world.seed, "clickstream")
        devices = world.devices
        self.platform = devices.platform[events.device]
        self.device_context = [self._device_context(d) for d in range(len(devices.owner))]
        self.device_user = [
            world.people.user_id[o] if o >= 0 else None for o in devices.owner.tolist()
        ]
        self.product = [self._product(k) for k in range(len(world.catalog))]
        self.page_props = [self._page_props(k) for k in range(len(world.catalog))]
        self.anonymous_id = devices.anonymous_id
        self.head_viewed = [
            f'"type":"track","event":"Product Viewed","properties":{{{p}}}' for p in self.product
        ]
        self.head_page = (
            [f'"type":"page","name":"Product","properties":{{{p}}}' for p in self.page_props],
            [f'"type":"screen","name":"Product Detail","properties":{{{p}}}'
             for p in self.page_props],
        )  # fmt: skip
        self.head_home = (
            f'"type":"page","name":"Home","properties":{{{_HOME_PAGE}}}',
            f'"type":"screen","name":"Home","properties":{{{_HOME_PAGE}}}',
        )
        self.context_page = [
            f',"page":{{"path":"/p/{code}","url":"{SITE}/p/{code}"}}' for code in world.catalog.sku
        ]
        self.campaigns: dict[int, str] = {}
        self.mobile_web = ["iPhone" in ua for ua in devices.user_agent]
        weights = np.array([e[5] for e in _ELEMENTS], dtype=np.float64)
        self.element_cdf = np.cumsum(weights) / weights.sum()
        self.cols = _EventColumns(
            device=events.device.tolist(),
            kind=events.kind.tolist(),
            session=events.session.tolist(),
            sku=events.sku.tolist(),
            line=events.line.tolist(),
            element=events.element.tolist(),
            with_user=events.with_user.tolist(),
            page_sku=_forward_fill_pages(events).tolist(),
            web=(self.platform == 0).tolist(),
            campaign=sessions.campaign.tolist(),
            order=sessions.order.tolist(),
        )

    def write_all(self, folder: Path) -> int:
        folder.mkdir(parents=True, exist_ok=True)
        order = np.lexsort((np.arange(len(self.platform)), self.events.time_ms, self.platform))
        batches = []
        for p in range(3):
            rows = order[self.platform[order] == p]
            for start in range(0, len(rows), BATCH_SIZE):
                chunk = rows[start : start + BATCH_SIZE]
                batches.append((int(self.events.time_ms[chunk[0]]), p, chunk))
        batches.sort(key=lambda b: (b[0], b[1]))
        for first in range(0, len(batches), _BATCHES_PER_CHUNK):
            group = batches[first : first + _BATCHES_PER_CHUNK]
            self._write_group(folder, first + 1, [(p, chunk) for _, p, chunk in group])
        return len(batches)

    def _write_group(self, folder: Path, number: int, group: list[tuple[int, IntArray]]) -> None:
        """Format the timestamps and ids of several batches at once, then write each file."""
        rows = np.concatenate([chunk for _, chunk in group])
        time_ms = self.events.time_ms[rows]
        skew = self.world.devices.clock_skew_ms[self.events.device[rows]]
        stamps = utc_iso(time_ms)
        original = list(stamps)
        skewed = np.flatnonzero(skew)
        for k, text in zip(skewed.tolist(), utc_iso(time_ms[skewed] + skew[skewed]), strict=True):
            original[k] = text
        ids = hex_strings(self.rng, len(rows), 16)
        ends = np.cumsum([len(chunk) for _, chunk in group])
        sent = utc_iso(time_ms[ends - 1] + self.rng.integers(1_000, 20_000, size=len(group)))
        start = 0
        for k, (platform, chunk) in enumerate(group):
            body = ",".join(
                self._event(i, ids[start + j], stamps[start + j], original[start + j])
                for j, i in enumerate(chunk.tolist())
            )
            start += len(chunk)
            library = _LIBRARIES[platform]
            text = f'{{"batch":[{body}],"sentAt":"{sent[k]}","context":{{"library":{library}}}}}'
            (folder / f"batch-{number + k:06d}.json").write_text(text, encoding="utf-8")

    def _event(self, i: int, message: str, stamp: str, original: str) -> str:
        c = self.cols
        device, kind, web = c.device[i], c.kind[i], c.web[i]
        anon = self.anonymous_id[device]
        user = self.device_user[device] if c.with_user[i] else None
        mid = f"ajs-next-{message}" if web else _uuid(message)
        common = f'"messageId":"{mid}","timestamp":"{stamp}","originalTimestamp":"{original}"'
        context = self.device_context[device]
        if web:
            page = c.page_sku[i]
            context += self.context_page[page] if page >= 0 else _HOME_CONTEXT
        campaign = c.campaign[c.session[i]]
        if campaign >= 0:
            context += self._campaign(campaign)
        if kind == ALIAS:  # sent at sign-up, before the first identify: the new account's id
            account = self.device_user[device]
            return (f'{{"type":"alias","previousId":"{anon}","userId":"{account}",{common},'
                    f'"context":{{{context}}}}}')  # fmt: skip
        if kind == PRODUCT_VIEWED:
            head = self.head_viewed[c.sku[i]]
        elif kind == PRODUCT_PAGE:
            head = self.head_page[0 if web else 1][c.sku[i]]
        elif kind == HOME:
            head = self.head_home[0 if web else 1]
        else:
            head = self._head(i, kind, web, device)
        ids = f'"anonymousId":"{anon}",' + (f'"userId":"{user}",' if user else "")
        return f'{{{head},{ids}{common},"context":{{{context}}}}}'

    def _head(self, i: int, kind: int, web: bool, device: int) -> str:
        """Type, name/event and properties (or traits) of one event."""
        sku = self.cols.sku[i]
        if kind in (HOME, LANDING_PAGE, PRODUCT_PAGE):
            return self._page(i, kind, web, sku)
        if kind == IDENTIFY:
            return (
                f'"type":"identify","traits":{self._traits(int(self.world.devices.owner[device]))}'
            )
        name, props = self._track(i, kind, sku)
        return f'"type":"track","event":"{name}","properties":{{{props}}}'

    def _page(self, i: int, kind: int, web: bool, sku: int) -> str:
        if kind == HOME:
            name, props = "Home", _HOME_PAGE
        elif kind == LANDING_PAGE:
            name = "Landing"
            camp = self.world.touch.campaign[self.cols.campaign[self.cols.session[i]]]
            props = f'"path":"/lp/{camp}","url":"{SITE}/lp/{camp}","title":"Lumière 霓裳"'
        else:
            name, props = "Product", self.page_props[sku]
        if web:
            return f'"type":"page","name":"{name}","properties":{{{props}}}'
        screen = {"Home": "Home", "Landing": "Campaign Landing", "Product": "Product Detail"}[name]
        return f'"type":"screen","name":"{screen}","properties":{{{props}}}'

    def _page_props(self, sku: int) -> str:
        code = self.world.catalog.sku[sku]
        title = json.dumps(self.world.catalog.name[sku], ensure_ascii=False)
        return f'"path":"/p/{code}","url":"{SITE}/p/{code}","title":{title}'

    def _track(self, i: int, kind: int, sku: int) -> tuple[str, str]:
        if kind == PRODUCT_VIEWED:
            return "Product Viewed", self.product[sku]
        if kind == PRODUCT_ADDED:
            line = self.cols.line[i]
            qty = int(self.world.buys.line_qty[line]) if line >= 0 else 1
            return "Product Added", f'{self.product[sku]},"quantity":{qty}'
        if kind == ELEMENT_CLICKED:
            return "Element Clicked", self._click(i)
        if kind == SIGNED_UP:
            return "Signed Up", '"method":"mobile"'
        order = self.cols.order[self.cols.session[i]]
        if kind == CHECKOUT_STARTED:
            return "Checkout Started", self._order_props(order, completed=False)
        return "Order Completed", self._order_props(order, completed=True)

    def _order_props(self, order: int, *, completed: bool) -> str:
        online, buys = self.world.online, self.world.buys
        b = int(online.purchase[order])
        gross, discount = float(online.gross[order]), float(online.discount[order])
        start = int(buys.line_start[b])
        products = ",".join(
            f'{{{self.product[int(buys.line_sku[j])]},"quantity":{int(buys.line_qty[j])}}}'
            for j in range(start, start + int(buys.line_count[b]))
        )
        head = f'"order_id":"{online.order_id[order]}"'
        if not completed:
            return f'{head},"value":{gross:.2f},"currency":"CNY","products":[{products}]'
        coupon = json.dumps(online.coupon[order])
        return (f'{head},"total":{gross - discount:.2f},"revenue":{gross - discount:.2f},'
                f'"discount":{discount:.2f},"coupon":{coupon},"currency":"CNY",'
                f'"products":[{products}]')  # fmt: skip

    def _click(self, i: int) -> str:
        device, code = self.cols.device[i], self.cols.element[i]
        e = _ELEMENTS[int(np.searchsorted(self.element_cdf, (code % 1000) / 1000, side="right"))]
        mobile = self.mobile_web[device]
        x, y, w, h = e[4] if mobile else e[3]
        dx, dy = ((code >> 10) % 32) / 31 - 0.5, ((code >> 15) % 32) / 31 - 0.5
        width, height = (390, 844) if mobile else (1440, 900)
        page = self.cols.page_sku[i]
        path = f"/p/{self.world.catalog.sku[page]}" if page >= 0 else "/"
        return (f'"element_id":"{e[0]}","element_type":"{e[1]}","text":"{e[2]}",'
                f'"page_path":"{path}","x":{int(x + dx * w)},"y":{int(y + dy * h)},'
                f'"viewport_width":{width},"viewport_height":{height}')  # fmt: skip

    def _traits(self, owner: int) -> str:
        people = self.world.people
        phone = people.mobile2[owner] if people.mobile2[owner] and owner % 5 == 0 else None
        record = int(self.world.members.primary[owner])
        traits = {
            "name": people.name[owner],
            "phone": phone or people.mobile[owner],
            "email": people.email[owner],
            "member_id": self.world.members.member_id[record] if record >= 0 else None,
        }
        return json.dumps({k: v for k, v in traits.items() if v}, ensure_ascii=False)

    def _campaign(self, row: int) -> str:
        cached = self.campaigns.get(row)
        if cached is None:
            touch = self.world.touch
            channel = CHANNELS[int(touch.channel[row])]
            cached = (f',"campaign":{{"name":"{touch.campaign[row]}","source":"{channel.name}",'
                      f'"medium":"{channel.medium}"}}')  # fmt: skip
            self.campaigns[row] = cached
        return cached

    def _device_context(self, d: int) -> str:
        devices = self.world.devices
        owner = int(devices.owner[d])
        english = owner >= 0 and bool(self.world.people.english[owner])
        locale = "en-US" if english else "zh-CN"
        platform = int(devices.platform[d])
        common = f'"ip":"{devices.ip[d]}","locale":"{locale}","timezone":"Asia/Shanghai"'
        if platform == 0:
            ua = json.dumps(devices.user_agent[d])
            return f'"library":{_LIBRARIES[0]},"userAgent":{ua},{common}'
        return (f'"app":{{"name":"Lumière 霓裳","version":"5.2.0","build":"520"}},'
                f'"device":{{"id":"{devices.device_id[d]}","manufacturer":"{_MAKERS[platform]}",'
                f'"model":"{devices.model[d]}","type":"{"ios" if platform == 1 else "android"}"}},'
                f'{_OS[platform]},"library":{_LIBRARIES[platform]},{common}')  # fmt: skip

    def _product(self, k: int) -> str:
        catalog = self.world.catalog
        sku = catalog.sku[k]
        name = json.dumps(catalog.name[k], ensure_ascii=False)
        category = CATEGORIES[int(catalog.category[k])].zh
        limited = "true" if catalog.limited[k] else "false"
        return (f'"product_id":"{sku.rsplit("-", 1)[0]}","sku":"{sku}","name":{name},'
                f'"category":"{category}","price":{catalog.price[k]:.2f},"currency":"CNY",'
                f'"limited_edition":{limited}')  # fmt: skip


def _forward_fill_pages(events: Events) -> IntArray:
    """SKU of the product page the visitor is on at each event (-1 on home or landing pages)."""
    n = len(events.kind)
    index = np.where(events.kind == PRODUCT_PAGE, np.arange(n), 0)
    starts = np.flatnonzero(np.r_[True, events.session[1:] != events.session[:-1]])
    index[starts] = starts
    index = np.maximum.accumulate(index)
    return np.where(events.kind[index] == PRODUCT_PAGE, events.sku[index], -1).astype(np.int64)


def _uuid(h: str) -> str:
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}".upper()

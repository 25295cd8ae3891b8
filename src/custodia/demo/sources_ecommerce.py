"""The online shop's order export (``ecommerce/orders.jsonl``), one order per line.

Why: online orders carry the website ``user_id``, usually the loyalty ``member_id`` (missing on
some orders whose account was never bound), guest phone or e-mail for buyers without an account,
the receiver's name, phone and address (sometimes a second phone, sometimes a typo) and the basket.
Times are China local time without an offset, as the shop's database stores them.

Example::

    lines = write_orders(out_dir, world)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from custodia.demo.catalog import CATEGORIES
from custodia.demo.chinese_ids import DISTRICTS
from custodia.demo.purchases import PLATFORM_NAMES
from custodia.demo.timeline import local_text
from custodia.demo.vectors import substream
from custodia.demo.world import World

FREE_SHIPPING_FROM = 299.0
SHIPPING_FEE = 10.0


def write_orders(out_dir: Path, world: World) -> int:
    """Write every online order in time order; returns the number of lines."""
    rng = substream(world.seed, "ecommerce")
    online, buys = world.online, world.buys
    created_s = buys.time_s[online.purchase]
    created = local_text(created_s)
    paid = local_text(created_s + rng.integers(10, 300, size=len(online)))
    fragments = _Fragments(world)
    lines = [_order(world, fragments, k, created[k], paid[k]) for k in range(len(online))]
    path = out_dir / "ecommerce" / "orders.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


class _Fragments:
    """JSON pieces computed once per SKU, person and member record, and plain-list columns."""

    def __init__(self, world: World) -> None:
        catalog, people, online, buys = world.catalog, world.people, world.online, world.buys
        self.item = [
            f'{{"sku":"{catalog.sku[k]}","name":{_js(catalog.name[k])},'
            f'"category":"{CATEGORIES[int(catalog.category[k])].zh}","size":'
            for k in range(len(catalog))
        ]
        self.region = [
            f'"province":"{DISTRICTS[d].province}","city":"{DISTRICTS[d].city}"'
            for d in people.district.tolist()
        ]
        self.member = [f'"{m}"' for m in world.members.member_id]
        self.purchase = online.purchase.tolist()
        self.record = online.member_record.tolist()
        self.gross = online.gross.tolist()
        self.discount = online.discount.tolist()
        self.person = buys.person.tolist()
        self.platform = [PLATFORM_NAMES[p] if p >= 0 else "" for p in buys.platform.tolist()]
        self.line_start = buys.line_start.tolist()
        self.line_count = buys.line_count.tolist()
        self.line_sku = buys.line_sku.tolist()
        self.line_qty = buys.line_qty.tolist()
        self.line_price = buys.line_price.tolist()
        self.text: dict[str | None, str] = {None: "null"}

    def js(self, value: str | None) -> str:
        """JSON text of a repeated string (names, addresses, phones), encoded once."""
        cached = self.text.get(value)
        if cached is None:
            cached = self.text[value] = _js(value)
        return cached


def _js(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


def _order(world: World, parts: _Fragments, k: int, created: str, paid: str) -> str:
    """One order as a JSON line, field for field what ``json.dumps`` of the record would give."""
    online = world.online
    b = parts.purchase[k]
    record = parts.record[k]
    goods = round(parts.gross[k], 2)
    discount = round(parts.discount[k], 2)
    fee = 0.0 if goods >= FREE_SHIPPING_FROM else SHIPPING_FEE
    user = online.user_id[k]
    guest = user is None and record < 0
    status = online.status[k]
    coupon = online.coupon[k]
    coupon_json = f'{{"code":"{coupon}","discount":{discount!r}}}' if coupon else "null"
    js = parts.js
    return (
        f'{{"order_id":"{online.order_id[k]}","platform":"{parts.platform[b]}",'
        f'"user_id":{js(user)},"member_id":{parts.member[record] if record >= 0 else "null"},'
        f'"guest":{"true" if guest else "false"},'
        f'"buyer_phone":{js(online.receiver_phone[k]) if guest else "null"},'
        f'"buyer_email":{js(online.guest_email[k])},"created_at":"{created}",'
        f'"paid_at":{"null" if status == "cancelled" else chr(34) + paid + chr(34)},'
        f'"status":"{status}","payment_method":"{online.payment[k]}","coupon":{coupon_json},'
        f'"currency":"CNY","items":[{_items(world, parts, b)}],"goods_amount":{goods!r},'
        f'"discount_amount":{discount!r},"shipping_fee":{fee!r},'
        f'"pay_amount":{round(goods - discount + fee, 2)!r},'
        f'"shipping":{{"receiver_name":{js(online.receiver_name[k])},'
        f'"receiver_phone":"{online.receiver_phone[k]}",{parts.region[parts.person[b]]},'
        f'"address":{js(online.address[k])}}}}}\n'
    )  # fmt: skip


def _items(world: World, parts: _Fragments, b: int) -> str:
    sizes = world.buys.line_size
    start = parts.line_start[b]
    return ",".join(
        f'{parts.item[parts.line_sku[j]]}"{sizes[j]}","qty":{parts.line_qty[j]},'
        f'"unit_price":{parts.line_price[j]!r}}}'
        for j in range(start, start + parts.line_count[b])
    )


def unlinked_orders(world: World) -> list[str]:
    """Order numbers placed by members whose ``member_id`` is missing on the order."""
    return [world.online.order_id[k] for k in np.flatnonzero(world.online.unlinked)]

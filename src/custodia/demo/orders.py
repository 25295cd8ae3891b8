"""Commercial facts of each purchase: order and receipt numbers, status, coupons, payment, buyer.

Why: the e-commerce export, the POS exports, the courier file and the service desk all refer to
the same orders. Deriving those shared facts once keeps the sources consistent with each other,
and is where the identity noise of real checkouts enters: a second phone on the parcel, a typo in
the receiver's name, a member ID missing from an order, a loyalty card forgotten at the till.

Example::

    online = build_online_orders(seed, people, members, buys)
    online.order_id[0], online.status[0]
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from custodia.demo.chinese_ids import DISTRICTS
from custodia.demo.marketing import CHANNELS, Touchpoints
from custodia.demo.members import Members
from custodia.demo.names import misspell
from custodia.demo.population import STORES, Population
from custodia.demo.purchases import MINIPROGRAM, Purchases
from custodia.demo.timeline import DAY, festival_of_day, local_dates
from custodia.demo.vectors import (
    BoolArray,
    FloatArray,
    IntArray,
    group_rank,
    sample_index,
    substream,
)

UNLINKED_ORDER_SHARE = 0.04
NAME_TYPO_SHARE = 0.02
SECOND_PHONE_USE = 0.3
OFFICE_DELIVERY_SHARE = 0.15
_COUPON_PREFIX = {"douyin_ads": "DY", "xiaohongshu": "XHS", "baidu_search": "BD", "wechat": "WX",
                  "email": "EDM", "sms": "SMS"}  # fmt: skip
_FESTIVAL_PREFIX = {"double11": "D11", "618": "618", "cny": "CNY", "double12": "D12"}


@dataclass(frozen=True)
class OnlineOrders:
    """Online orders (a subset of purchases, in time order) with checkout details."""

    purchase: IntArray
    order_id: list[str]
    status: list[str]
    member_record: IntArray
    unlinked: BoolArray
    user_id: list[str | None]
    coupon: list[str | None]
    discount: FloatArray
    gross: FloatArray
    payment: list[str]
    receiver_name: list[str]
    name_typo: BoolArray
    receiver_phone: list[str]
    second_phone: BoolArray
    address: list[str]
    guest_email: list[str | None]

    def __len__(self) -> int:
        return len(self.purchase)


@dataclass(frozen=True)
class StoreReceipts:
    """In-store receipts (a subset of purchases) with till and loyalty identification."""

    purchase: IntArray
    receipt_no: list[str]
    till: list[str]
    member_record: IntArray
    phone: list[str | None]
    second_phone: BoolArray
    payment: list[str]

    def __len__(self) -> int:
        return len(self.purchase)


def build_online_orders(
    seed: int, people: Population, members: Members, buys: Purchases, touch: Touchpoints
) -> OnlineOrders:
    """Order numbers (``LM`` + date + daily sequence), status, coupon, payment and receiver."""
    rng = substream(seed, "online_orders")
    idx = np.flatnonzero(buys.online).astype(np.int64)
    person, time_s = buys.person[idx], buys.time_s[idx]
    record = members.at(rng, person, time_s)
    record = np.where(record >= 0, members.primary[person], -1)
    unlinked = (record >= 0) & (rng.random(len(idx)) < UNLINKED_ORDER_SHARE)
    gross = buys.amounts()[idx]
    coupon, discount = _coupons(rng, people, buys, idx, touch, gross)
    phones, second = _phones(rng, people, person, SECOND_PHONE_USE)
    names, typo = _receiver_names(rng, people, person)
    return OnlineOrders(
        purchase=idx,
        order_id=_order_ids(time_s),
        status=_statuses(rng, buys, idx),
        member_record=np.where(unlinked, -1, record),
        unlinked=unlinked,
        user_id=[
            people.user_id[p] if r >= 0 else None for p, r in zip(person, record, strict=True)
        ],
        coupon=coupon,
        discount=discount,
        gross=gross,
        payment=_payments(rng, people, person, buys.platform[idx] == MINIPROGRAM, store=False),
        receiver_name=names,
        name_typo=typo,
        receiver_phone=phones,
        second_phone=second,
        address=_delivery_addresses(rng, people, person),
        guest_email=[
            people.email[p] if r < 0 and u < 0.5 else None
            for p, r, u in zip(person, record, rng.random(len(idx)), strict=True)
        ],
    )


def _order_ids(time_s: IntArray) -> list[str]:
    days = time_s // DAY
    seq = group_rank(days) + 1
    dates = [d.replace("-", "") for d in local_dates(time_s)]
    return [f"LM{d}{s:06d}" for d, s in zip(dates, seq.tolist(), strict=True)]


def _statuses(rng: np.random.Generator, buys: Purchases, idx: IntArray) -> list[str]:
    refund_p = np.full(len(idx), 0.015)
    refund_p = np.where(buys.size_issue[idx], 0.5, refund_p)
    refund_p = np.where(buys.quality_issue[idx], 0.6, refund_p)
    refund_p = np.where(buys.wrong_item[idx], 0.7, refund_p)
    cancelled = (rng.random(len(idx)) < 0.04) & ~(buys.size_issue | buys.quality_issue)[idx]
    refunded = ~cancelled & (rng.random(len(idx)) < refund_p)
    status = np.where(cancelled, "cancelled", np.where(refunded, "refunded", "completed"))
    return [str(s) for s in status.tolist()]


def _coupons(
    rng: np.random.Generator,
    people: Population,
    buys: Purchases,
    idx: IntArray,
    touch: Touchpoints,
    gross: FloatArray,
) -> tuple[list[str | None], FloatArray]:
    festival = festival_of_day()
    draws = rng.random(len(idx))
    codes: list[str | None] = []
    values = np.zeros(len(idx))
    seen: set[int] = set()
    for k, (i, u) in enumerate(zip(idx.tolist(), draws.tolist(), strict=True)):
        person, cause = int(buys.person[i]), int(buys.cause[i])
        fest = festival[int(buys.time_s[i] // DAY)]
        first = person not in seen and not people.existing[person]
        seen.add(person)
        code, value = _coupon_for(fest, cause, touch, first, int(people.tier[person]), gross[k], u)
        codes.append(code)
        values[k] = min(value, max(gross[k] - 1, 0))
    return codes, values


def _coupon_for(
    fest: str, cause: int, touch: Touchpoints, first: bool, tier: int, gross: float, u: float
) -> tuple[str | None, float]:
    if cause >= 0 and u < 0.5:
        return f"{_COUPON_PREFIX[CHANNELS[int(touch.channel[cause])].name]}-50", 50.0
    if first and u < 0.6:
        return "NEW50", 50.0
    if fest != "always_on" and u < 0.35:
        name, year = fest.rsplit("_", 1)
        value = 100 if gross >= 1000 else 30
        return f"{_FESTIVAL_PREFIX[name]}-{year}-{value}", float(value)
    if tier == 3 and gross >= 2000 and u < 0.2:
        return "VIP-200", 200.0
    return None, 0.0


def _phones(
    rng: np.random.Generator, people: Population, person: IntArray, share: float
) -> tuple[list[str], BoolArray]:
    use = (rng.random(len(person)) < share) & np.array(
        [people.mobile2[p] is not None for p in person], dtype=bool
    )
    phones = [
        str(people.mobile2[p]) if u else people.mobile[p] for p, u in zip(person, use, strict=True)
    ]
    return phones, use


def _receiver_names(
    rng: np.random.Generator, people: Population, person: IntArray
) -> tuple[list[str], BoolArray]:
    typo = rng.random(len(person)) < NAME_TYPO_SHARE
    dice = random.Random(int(rng.integers(1 << 62)))
    names = [people.name[p] for p in person]
    for k in np.flatnonzero(typo):
        p = int(person[k])
        names[k] = misspell(
            dice, people.names.family[p], people.names.given[p], bool(people.english[p])
        )
    return names, typo


def _delivery_addresses(
    rng: np.random.Generator, people: Population, person: IntArray
) -> list[str]:
    office = rng.random(len(person)) < OFFICE_DELIVERY_SHARE
    return [
        people.office_address[p] if o else people.address[p]
        for p, o in zip(person, office, strict=True)
    ]


_ONLINE_PAY = ("alipay", "wechat_pay", "unionpay", "credit_card")
_STORE_PAY = ("wechat_pay", "alipay", "unionpay", "credit_card", "cash")


def _payments(
    rng: np.random.Generator, people: Population, person: IntArray, mini: BoolArray, *, store: bool
) -> list[str]:
    n = len(person)
    if store:
        return [_STORE_PAY[k] for k in sample_index(rng, (40, 35, 15, 5, 5), n)]
    local = sample_index(rng, (47, 45, 5, 3), n)
    foreign = sample_index(rng, (35, 30, 10, 25), n)
    pick = np.where(people.english[person], foreign, local)
    pick = np.where(mini & (rng.random(n) < 0.9), 1, pick)
    return [_ONLINE_PAY[k] for k in pick]


def build_store_receipts(
    seed: int, people: Population, members: Members, buys: Purchases
) -> StoreReceipts:
    """Receipt numbers (store-date-sequence), till, and how the shopper identified themselves."""
    rng = substream(seed, "store_receipts")
    idx = np.flatnonzero(~buys.online).astype(np.int64)
    person, time_s, store = buys.person[idx], buys.time_s[idx], buys.store[idx]
    record = members.at(rng, person, time_s)
    u = rng.random(len(idx))
    card = (record >= 0) & (u < 0.65)
    by_phone = np.where(record >= 0, (u >= 0.65) & (u < 0.85), u < 0.35)
    phones, second = _phones(rng, people, person, 0.35)
    return StoreReceipts(
        purchase=idx,
        receipt_no=_receipt_numbers(store, time_s),
        till=[f"T{t}" for t in rng.integers(1, 4, size=len(idx))],
        member_record=np.where(card, record, -1),
        phone=[p if b else None for p, b in zip(phones, by_phone, strict=True)],
        second_phone=second & by_phone,
        payment=_payments(rng, people, person, np.zeros(len(idx), bool), store=True),
    )


def _receipt_numbers(store: IntArray, time_s: IntArray) -> list[str]:
    key = store * 10_000 + time_s // DAY
    order = np.lexsort((time_s, key))
    seq = np.empty(len(key), dtype=np.int64)
    seq[order] = group_rank(key[order]) + 1
    dates = [d.replace("-", "") for d in local_dates(time_s)]
    return [
        f"{STORES[s].store_id}-{d}-{q:04d}"
        for s, d, q in zip(store.tolist(), dates, seq.tolist(), strict=True)
    ]


def province_city(people: Population, person: int) -> tuple[str, str]:
    """Province and city of a person's home district."""
    district = DISTRICTS[int(people.district[person])]
    return district.province, district.city

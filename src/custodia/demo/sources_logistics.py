"""Courier deliveries for online orders (``logistics/deliveries.csv``).

Why: delivery delays drive "logistics delay" complaints, so the courier file must carry delays
with realistic causes: the carrier's speed, shipping across provinces or to the far west, the
festival crush after Double 11 / 618 and the Chinese New Year holiday. A small share of parcels
is shipped to an address that differs from the order (injected and listed in the ground truth).

Example::

    deliveries = simulate_deliveries(seed, people, buys, online)
    write_deliveries(out_dir, people, online, deliveries)   # -> number of rows
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from custodia.demo.chinese_ids import DISTRICTS
from custodia.demo.files import write_csv
from custodia.demo.orders import OnlineOrders
from custodia.demo.population import Population
from custodia.demo.purchases import Purchases
from custodia.demo.timeline import DAY, WINDOW_DAYS, local_text, peak_logistics_days
from custodia.demo.vectors import (
    BoolArray,
    FloatArray,
    IntArray,
    digit_strings,
    sample_index,
    substream,
)


@dataclass(frozen=True)
class Carrier:
    """A courier with its market share, typical transit days and promised days."""

    code: str
    name: str
    share: float
    transit_days: float
    promised_days: int


CARRIERS: tuple[Carrier, ...] = (
    Carrier("SF", "顺丰速运", 0.35, 1.2, 2),
    Carrier("JD", "京东物流", 0.20, 1.0, 2),
    Carrier("ZTO", "中通快递", 0.25, 2.2, 3),
    Carrier("YTO", "圆通速递", 0.15, 2.5, 3),
    Carrier("EMS", "中国邮政EMS", 0.05, 3.0, 4),
)
_SOUTH = {"广东省", "广西壮族自治区", "海南省", "福建省", "湖南省", "云南省", "贵州省"}
_FAR = {"新疆维吾尔自治区", "甘肃省", "黑龙江省", "吉林省", "云南省", "贵州省", "海南省"}
DELAY_THRESHOLD_DAYS = 1.5
LOST_SHARE = 0.003
ADDRESS_MISMATCH_SHARE = 0.015
MISMATCH_KINDS = ("house_number", "other_own_address", "other_person_address")


@dataclass(frozen=True)
class Deliveries:
    """One parcel per shipped online order; ``order`` indexes :class:`OnlineOrders`."""

    order: IntArray
    carrier: IntArray
    tracking_no: list[str]
    shipped_s: IntArray
    promised_s: IntArray
    delivered_s: IntArray
    status: list[str]
    delay_days: FloatArray
    address: list[str]
    mismatch: list[str | None]

    def __len__(self) -> int:
        return len(self.order)

    @property
    def delayed(self) -> BoolArray:
        """Delivered late by more than the threshold, or lost."""
        lost = np.array([s == "lost" for s in self.status], dtype=bool)
        late: BoolArray = (self.delay_days > DELAY_THRESHOLD_DAYS) | lost
        return late


def simulate_deliveries(
    seed: int, people: Population, buys: Purchases, online: OnlineOrders
) -> Deliveries:
    """Carrier, tracking number, ship/promise/delivery times, status and shipping address."""
    rng = substream(seed, "logistics")
    order = np.array([k for k, s in enumerate(online.status) if s != "cancelled"], dtype=np.int64)
    created = buys.time_s[online.purchase[order]]
    person = buys.person[online.purchase[order]]
    carrier = sample_index(rng, [c.share for c in CARRIERS], len(order))
    province = [DISTRICTS[d].province for d in people.district[person]]
    cross = np.array([p != ("广东省" if p in _SOUTH else "江苏省") for p in province], dtype=bool)
    far = np.array([p in _FAR for p in province], dtype=bool)
    peak = peak_logistics_days()[np.minimum(created // DAY, WINDOW_DAYS - 1)]
    shipped = created + (rng.lognormal(np.log(16 * 3600), 0.6, len(order))).astype(np.int64)
    shipped += np.where(peak, 36 * 3600, 0)
    transit = _transit_days(rng, carrier, cross, far, peak)
    promised_days = np.array([c.promised_days for c in CARRIERS])[carrier] + cross + 2 * far
    delivered = shipped + (transit * DAY).astype(np.int64)
    status, delivered = _statuses(rng, delivered)
    addresses, mismatch = _shipping_addresses(rng, people, online, order, person)
    return Deliveries(
        order=order,
        carrier=carrier,
        tracking_no=_tracking_numbers(rng, carrier),
        shipped_s=shipped,
        promised_s=shipped + promised_days * DAY,
        delivered_s=delivered,
        status=status,
        delay_days=np.where(delivered >= 0, transit - promised_days, 0.0),
        address=addresses,
        mismatch=mismatch,
    )


def _transit_days(
    rng: np.random.Generator, carrier: IntArray, cross: BoolArray, far: BoolArray, peak: BoolArray
) -> FloatArray:
    base = np.array([c.transit_days for c in CARRIERS])[carrier] + 1.0 * cross + 1.5 * far
    noise = rng.lognormal(0.0, 0.35, len(carrier))
    crush = np.where(peak, rng.gamma(2.0, 1.4, len(carrier)), 0.0)
    days: FloatArray = base * noise + crush
    return days


def _statuses(rng: np.random.Generator, delivered: IntArray) -> tuple[list[str], IntArray]:
    lost = rng.random(len(delivered)) < LOST_SHARE
    in_transit = delivered >= WINDOW_DAYS * DAY
    status = np.where(lost, "lost", np.where(in_transit, "in_transit", "delivered"))
    return status.tolist(), np.where(lost | in_transit, -1, delivered).astype(np.int64)


def _tracking_numbers(rng: np.random.Generator, carrier: IntArray) -> list[str]:
    digits = digit_strings(rng.integers(0, 10, size=(len(carrier), 13)))
    formats = {
        "SF": lambda d: f"SF{d}",
        "JD": lambda d: f"JDVA{d[:11]}",
        "ZTO": lambda d: f"7{d[:11]}",
        "YTO": lambda d: f"YT{d}",
        "EMS": lambda d: f"1{d[:12]}",
    }
    return [formats[CARRIERS[c].code](d) for c, d in zip(carrier.tolist(), digits, strict=True)]


def _shipping_addresses(
    rng: np.random.Generator,
    people: Population,
    online: OnlineOrders,
    order: IntArray,
    person: IntArray,
) -> tuple[list[str], list[str | None]]:
    """The order's address, except for the injected mismatches (kind recorded)."""
    addresses = [online.address[k] for k in order]
    mismatch: list[str | None] = [None] * len(order)
    chosen = np.flatnonzero(rng.random(len(order)) < ADDRESS_MISMATCH_SHARE)
    kinds = rng.integers(0, len(MISMATCH_KINDS), size=len(chosen))
    strangers = rng.integers(0, people.n, size=len(chosen))
    for k, kind, stranger in zip(chosen.tolist(), kinds.tolist(), strangers.tolist(), strict=True):
        p = int(person[k])
        if kind == 0:
            addresses[k] = _other_number(addresses[k])
        elif kind == 1:
            own = people.address[p]
            addresses[k] = people.office_address[p] if addresses[k] == own else own
        else:
            addresses[k] = people.address[stranger if stranger != p else (p + 1) % people.n]
        mismatch[k] = MISMATCH_KINDS[kind]
    return addresses, mismatch


def _other_number(address: str) -> str:
    head, _, tail = address.partition("号")
    digits = "".join(ch for ch in head if ch.isdigit())
    street = head[: len(head) - len(digits)]
    return f"{street}{int(digits or '0') + 2}号{tail}"


def apply_delivery_outcomes(online: OnlineOrders, parcels: Deliveries) -> None:
    """Orders still on the road are ``shipped``; lost parcels end up ``refunded``."""
    for k, status in zip(parcels.order.tolist(), parcels.status, strict=True):
        if status == "in_transit":
            online.status[k] = "shipped"
        elif status == "lost":
            online.status[k] = "refunded"


def write_deliveries(
    out_dir: Path, people: Population, buys: Purchases, online: OnlineOrders, parcels: Deliveries
) -> int:
    """``logistics/deliveries.csv``: one row per parcel, times in China local time."""
    shipped = local_text(parcels.shipped_s)
    promised = local_text(parcels.promised_s)
    delivered = local_text(np.maximum(parcels.delivered_s, 0))
    attempts = 1 + (parcels.delay_days > 2).astype(np.int64)
    rows = []
    for k, o in enumerate(parcels.order.tolist()):
        p = int(buys.person[online.purchase[o]])
        district = DISTRICTS[int(people.district[p])]
        carrier = CARRIERS[int(parcels.carrier[k])]
        rows.append((
            parcels.tracking_no[k], carrier.code, carrier.name, online.order_id[o],
            online.receiver_name[o], online.receiver_phone[o], district.province, district.city,
            parcels.address[k], shipped[k], promised[k],
            delivered[k] if parcels.delivered_s[k] >= 0 else "", parcels.status[k],
            int(attempts[k]),
        ))  # fmt: skip
    header = (
        "tracking_no", "carrier", "carrier_name", "order_id", "receiver_name", "receiver_phone",
        "ship_to_province", "ship_to_city", "ship_to_address", "shipped_at", "promised_by",
        "delivered_at", "status", "attempts",
    )  # fmt: skip
    return write_csv(out_dir / "logistics" / "deliveries.csv", header, rows)

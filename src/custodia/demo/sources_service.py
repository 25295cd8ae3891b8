"""Customer-service tickets (``service/tickets.jsonl``) and reviews (``service/reviews.csv``).

Why: complaints follow from what really happened. Late parcels raise "logistics delay" tickets
(far more often than on-time ones), styles that run small raise size complaints, refunds that
drag raise refund tickets, and a share of complaints escalate into "rude service" follow-ups. The
true topic, complaint type, sentiment and any personal data placed in the text are returned for
the ground truth.

Example::

    labels = write_service(out_dir, seed, world)   # list of TextLabel
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from custodia.demo.files import write_csv, write_jsonl
from custodia.demo.names import misspell
from custodia.demo.population import Population
from custodia.demo.sources_logistics import CARRIERS
from custodia.demo.text_corpus import SENTIMENT, Slots, render_review, render_ticket
from custodia.demo.timeline import DAY, WINDOW_DAYS, local_text
from custodia.demo.vectors import IntArray, substream
from custodia.demo.world import World

ESCALATION_SHARE = 0.08
TICKET_CHANNELS = ("hotline", "online_chat", "wechat", "email", "app")
_END = WINDOW_DAYS * DAY - 1


@dataclass(frozen=True)
class TextLabel:
    """The truth about one generated text."""

    source: str
    text_id: str
    person_id: str
    language: str
    topic: str
    complaint_type: str
    sentiment: str
    pii: str
    order_id: str
    name_variant: str


@dataclass
class _Plan:
    """Who writes what about which purchase, and when (column lists, appended per trigger)."""

    time_s: list[int]
    person: list[int]
    topic: list[str]
    purchase: list[int]
    order: list[int]

    def add(self, time_s: IntArray, person: IntArray, topic: str, purchase: IntArray,
            order: IntArray) -> None:  # fmt: skip
        keep = time_s < _END
        self.time_s += time_s[keep].tolist()
        self.person += person[keep].tolist()
        self.topic += [topic] * int(keep.sum())
        self.purchase += purchase[keep].tolist()
        self.order += order[keep].tolist()


def plan_tickets(seed: int, world: World) -> _Plan:
    """Decide which events make people contact the service desk."""
    rng = substream(seed, "tickets")
    plan = _Plan([], [], [], [], [])
    buys, online, parcels = world.buys, world.online, world.parcels
    p_of_order = online.purchase
    delayed = parcels.delayed
    lost = np.array([s == "lost" for s in parcels.status], dtype=bool)
    chance = np.where(lost, 0.8, np.where(delayed, 0.3, 0.004))
    hit = rng.random(len(parcels)) < chance
    at = parcels.promised_s + rng.integers(DAY // 2, 3 * DAY, size=len(parcels))
    o = parcels.order[hit]
    plan.add(at[hit], buys.person[p_of_order[o]], "logistics_delay", p_of_order[o], o)
    online_index = np.full(len(buys), -1, dtype=np.int64)
    online_index[p_of_order] = np.arange(len(online))
    for topic, flags, share in (
        ("size_issue", buys.size_issue, 0.4),
        ("quality_defect", buys.quality_issue, 0.5),
        ("wrong_item", buys.wrong_item, 0.8),
    ):
        who = np.flatnonzero(
            flags & (rng.random(len(buys)) < share * np.where(buys.online, 1, 0.5))
        )
        at = buys.time_s[who] + rng.integers(2 * DAY, 6 * DAY, size=len(who))
        plan.add(at, buys.person[who], topic, who, online_index[who])
    refunded = np.flatnonzero(
        np.array([s == "refunded" for s in online.status]) & (rng.random(len(online)) < 0.15)
    )
    at = buys.time_s[p_of_order[refunded]] + rng.integers(8 * DAY, 20 * DAY, size=len(refunded))
    plan.add(at, buys.person[p_of_order[refunded]], "refund", p_of_order[refunded], refunded)
    _escalations(rng, plan)
    _unprompted(rng, world.people, plan)
    return plan


def _escalations(rng: np.random.Generator, plan: _Plan) -> None:
    chosen = np.flatnonzero(rng.random(len(plan.topic)) < ESCALATION_SHARE)
    at = np.array(plan.time_s, dtype=np.int64)[chosen] + rng.integers(
        DAY, 3 * DAY, size=len(chosen)
    )
    plan.add(
        at,
        np.array(plan.person, dtype=np.int64)[chosen],
        "rude_service",
        np.array(plan.purchase, dtype=np.int64)[chosen],
        np.array(plan.order, dtype=np.int64)[chosen],
    )


def _unprompted(rng: np.random.Generator, people: Population, plan: _Plan) -> None:
    for topic, per_year in (("inquiry", 0.12), ("praise", 0.02)):
        span = np.maximum(np.minimum(people.churn_day, WINDOW_DAYS) - people.start_day, 0)
        counts = rng.poisson(per_year * span / 365)
        who = np.repeat(np.arange(people.n), counts).astype(np.int64)
        day = people.start_day[who] + rng.random(len(who)) * span[who]
        at = (day * DAY).astype(np.int64)
        none = np.full(len(who), -1, dtype=np.int64)
        plan.add(at, who, topic, none, none)


def write_tickets(out_dir: Path, seed: int, world: World) -> list[TextLabel]:
    """``service/tickets.jsonl`` in time order; returns the label of every ticket."""
    dice = random.Random(int(substream(seed, "ticket_text").integers(1 << 62)))
    plan = plan_tickets(seed, world)
    order = np.lexsort((np.array(plan.person), np.array(plan.time_s)))
    times = local_text(np.array(plan.time_s, dtype=np.int64)[order])
    records, labels = [], []
    for k, i in enumerate(order.tolist()):
        record, label = _ticket(dice, world, plan, i, f"TK{k + 1:08d}", times[k])
        records.append(record)
        labels.append(label)
    write_jsonl(out_dir / "service" / "tickets.jsonl", records)
    return labels


def _ticket(
    dice: random.Random, world: World, plan: _Plan, i: int, ticket_id: str, at: str
) -> tuple[dict[str, Any], TextLabel]:
    people, p, topic = world.people, plan.person[i], plan.topic[i]
    language = _language(dice, people, p)
    order = plan.order[i]
    order_id = world.online.order_id[order] if order >= 0 else ""
    pii = _text_pii(dice, order_id, 0.2, 0.3)
    slots = _slots(dice, world, p, plan.purchase[i], order, plan.time_s[i], language)
    text = render_ticket(dice, topic, language, slots, pii)
    channel = TICKET_CHANNELS[dice.randrange(0, len(TICKET_CHANNELS))]
    if channel == "email" and people.email[p] is None:
        channel = "online_chat"
    record = _ticket_identifiers(dice, world, p, channel)
    record = {
        "ticket_id": ticket_id, "created_at": at, "channel": channel, **record,
        "order_id": order_id if order_id and dice.random() < 0.8 else None,
        "language": language, "text": text,
        "status": "open" if plan.time_s[i] > _END - 3 * DAY else "resolved",
        "priority": "high" if topic in ("rude_service", "refund") else "normal",
        "agent_id": f"A{dice.randrange(1, 60):03d}",
    }  # fmt: skip
    label = _label("tickets", ticket_id, people.person_id[p], language, topic, pii, order_id)
    name = str(record["customer_name"])
    variant = name if name != people.name[p] else ""
    return record, replace(label, name_variant=variant)


def _ticket_identifiers(
    dice: random.Random, world: World, p: int, channel: str
) -> dict[str, str | None]:
    people = world.people
    record = world.members.primary[p]
    name = people.name[p]
    if dice.random() < 0.03:
        name = misspell(
            dice, people.names.family[p], people.names.given[p], bool(people.english[p])
        )
    second = people.mobile2[p]
    phone = second if second is not None and dice.random() < 0.3 else people.mobile[p]
    return {
        "customer_name": name,
        "member_id": world.members.member_id[record]
        if record >= 0 and dice.random() < 0.7
        else None,
        "phone": phone if channel == "hotline" or dice.random() < 0.5 else None,
        "email": people.email[p] if channel == "email" else None,
    }


def _language(dice: random.Random, people: Population, p: int) -> str:
    english = dice.random() < (0.8 if people.english[p] else 0.03)
    return "en" if english else "zh"


def _text_pii(
    dice: random.Random, order_id: str, phone_share: float, order_share: float
) -> tuple[str, ...]:
    pii = []
    if dice.random() < phone_share:
        pii.append("phone")
    if order_id and dice.random() < order_share:
        pii.append("order_id")
    return tuple(pii)


def _slots(
    dice: random.Random,
    world: World,
    p: int,
    purchase: int,
    order: int,
    at: int,
    language: str,
) -> Slots:
    catalog, buys, people = world.catalog, world.buys, world.people
    if purchase >= 0:
        line = int(buys.line_start[purchase])
        sku, size = int(buys.line_sku[line]), buys.line_size[line]
        days = max(1, (at - int(buys.time_s[purchase])) // DAY)
    else:
        sku, size, days = dice.randrange(0, len(catalog)), "M", 1
    zh = language == "zh"
    product = catalog.name[sku].split(" ")[0] if zh else catalog.name_en[sku].split(",")[0]
    carrier = CARRIERS[dice.randrange(0, len(CARRIERS))].name
    return Slots(
        product=product,
        size=size,
        days=int(days),
        carrier=carrier,
        order_id=world.online.order_id[order] if order >= 0 else "",
        phone=people.mobile[p],
    )


def _label(
    source: str,
    text_id: str,
    person_id: str,
    language: str,
    topic: str,
    pii: tuple[str, ...],
    order_id: str,
) -> TextLabel:
    complaint = "none" if topic in ("inquiry", "praise") else topic
    return TextLabel(
        source, text_id, person_id, language, topic, complaint, SENTIMENT[topic], ",".join(pii),
        order_id, "",
    )  # fmt: skip


def write_reviews(out_dir: Path, seed: int, world: World) -> list[TextLabel]:
    """``service/reviews.csv``: one review for a quarter of delivered online orders."""
    rng = substream(seed, "reviews")
    online, buys, parcels = world.online, world.buys, world.parcels
    delayed = np.zeros(len(online), dtype=bool)
    delayed[parcels.order] = parcels.delayed
    delivered = np.zeros(len(online), dtype=bool)
    delivered[parcels.order] = parcels.delivered_s >= 0
    chosen = np.flatnonzero(delivered & (rng.random(len(online)) < 0.25))
    dice = random.Random(int(rng.integers(1 << 62)))
    rows, labels = [], []
    at = buys.time_s[online.purchase[chosen]] + rng.integers(3 * DAY, 15 * DAY, size=len(chosen))
    keep = at < _END
    chosen, at = chosen[keep], at[keep]
    times = local_text(at)
    for k, o in enumerate(chosen.tolist()):
        review_id = f"RV{k + 1:08d}"
        row, label = _review(dice, world, o, bool(delayed[o]), review_id, times[k], int(at[k]))
        rows.append(row)
        labels.append(label)
    header = ("review_id", "order_id", "sku", "product_name", "reviewer", "rating", "content",
              "created_at", "language", "has_images")  # fmt: skip
    write_csv(out_dir / "service" / "reviews.csv", header, rows)
    return labels


def _review_topic(dice: random.Random, world: World, purchase: int, late: bool) -> str:
    buys = world.buys
    for topic, flag, share in (
        ("wrong_item", buys.wrong_item[purchase], 0.8),
        ("quality_defect", buys.quality_issue[purchase], 0.7),
        ("size_issue", buys.size_issue[purchase], 0.6),
        ("logistics_delay", late, 0.4),
    ):
        if flag and dice.random() < share:
            return topic
    return "praise" if dice.random() < 0.75 else "inquiry"


_RATINGS = {"praise": (4, 5, 5, 5), "inquiry": (3, 3, 4), "size_issue": (2, 3, 3),
            "logistics_delay": (2, 3), "quality_defect": (1, 1, 2),
            "wrong_item": (1, 2)}  # fmt: skip


def _review(
    dice: random.Random, world: World, o: int, late: bool, review_id: str, at: str,
    at_s: int,
) -> tuple[tuple[Any, ...], TextLabel]:  # fmt: skip
    purchase = int(world.online.purchase[o])
    p = int(world.buys.person[purchase])
    topic = _review_topic(dice, world, purchase, late)
    language = _language(dice, world.people, p)
    pii = ("phone",) if dice.random() < 0.02 else ()
    slots = _slots(dice, world, p, purchase, o, at_s, language)
    text = render_review(dice, topic, language, slots, pii)
    line = int(world.buys.line_start[purchase])
    sku = int(world.buys.line_sku[line])
    reviewer = world.online.user_id[o] or f"{world.people.name[p][0]}**"
    rating = _RATINGS[topic][dice.randrange(0, len(_RATINGS[topic]))]
    row = (
        review_id, world.online.order_id[o], world.catalog.sku[sku], world.catalog.name[sku],
        reviewer, rating, text, at, language, "true" if dice.random() < 0.3 else "false",
    )  # fmt: skip
    person_id = world.people.person_id[p]
    order_id = world.online.order_id[o]
    return row, _label("reviews", review_id, person_id, language, topic, pii, order_id)

"""Summaries and tables of the ground truth that are derived from the simulated world.

Why: ``ground_truth.json`` states the true parameters next to what the run realised (tiers,
channels, delivery delays) so analyses can be checked against both; the Parquet tables give per
person, per order and per text truth for scoring models.

Example::

    write_truth_tables(out_dir / "ground_truth", world, labels, touchpoint_ids)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from custodia.demo.chinese_ids import DISTRICTS
from custodia.demo.ground_truth import write_parquet
from custodia.demo.marketing import CHANNELS, MAX_LAG_DAYS
from custodia.demo.models import ChannelTruth, TierTruth
from custodia.demo.population import STORES, TIERS
from custodia.demo.purchases import GAP_STRETCH_LAST_SIX_MONTHS, LIMITED_SHARE, MEAN_GAP_DAYS
from custodia.demo.sources_logistics import DELAY_THRESHOLD_DAYS
from custodia.demo.sources_service import TextLabel
from custodia.demo.timeline import date_of_day
from custodia.demo.world import World


def tier_truths(world: World) -> list[TierTruth]:
    """Configured repurchase gaps and limited-edition shares per tier, with head counts."""
    counts = np.bincount(world.people.tier, minlength=len(TIERS))
    buys = np.bincount(world.people.tier[world.buys.person], minlength=len(TIERS))
    return [
        TierTruth(
            tier=TIERS[k],
            people=int(counts[k]),
            mean_gap_days=MEAN_GAP_DAYS[k],
            mean_gap_days_last_six_months=MEAN_GAP_DAYS[k] * GAP_STRETCH_LAST_SIX_MONTHS[k],
            limited_edition_share=LIMITED_SHARE[k][0],
            limited_edition_share_last_six_months=LIMITED_SHARE[k][1],
            purchases=int(buys[k]),
        )
        for k in range(len(TIERS))
    ]


def channel_truths(world: World) -> list[ChannelTruth]:
    """True channel parameters and realised impressions, clicks, caused orders and spend."""
    touch = world.touch
    caused = np.bincount(
        touch.channel[world.buys.cause[world.buys.cause >= 0]], minlength=len(CHANNELS)
    )
    out = []
    for c, channel in enumerate(CHANNELS):
        rows = touch.channel == c
        out.append(
            ChannelTruth(
                channel=channel.name,
                identifier=channel.identifier,
                impressions_per_year=channel.impressions_per_year,
                click_through_rate=channel.click_through_rate,
                incremental_conversion_rate_per_click=channel.effect,
                mean_lag_days=channel.mean_lag_days,
                max_lag_days=MAX_LAG_DAYS,
                cost_per_impression=channel.cost_per_impression,
                cost_per_click=channel.cost_per_click,
                impressions=int(np.count_nonzero(rows & (touch.kind == 0))),
                clicks=int(np.count_nonzero(rows & (touch.kind == 1))),
                non_causal_clicks=int(np.count_nonzero(rows & (touch.kind == 1) & ~touch.causal)),
                incremental_orders=int(caused[c]),
                spend=round(float(touch.cost[rows].sum()), 2),
            )
        )
    return out


def delivery_truth(world: World, labels: list[TextLabel]) -> dict[str, float]:
    """How often late and on-time parcels led to a logistics-delay ticket."""
    parcels = world.parcels
    delayed = parcels.delayed
    order_ids = [world.online.order_id[o] for o in parcels.order.tolist()]
    complained = {
        lab.order_id for lab in labels if lab.source == "tickets" and lab.topic == "logistics_delay"
    }
    hit = np.array([o in complained for o in order_ids], dtype=bool)
    late, on_time = max(int(delayed.sum()), 1), max(int((~delayed).sum()), 1)
    return {
        "parcels": float(len(parcels)),
        "delayed_parcels": float(delayed.sum()),
        "delay_threshold_days": DELAY_THRESHOLD_DAYS,
        "logistics_tickets_per_delayed_parcel": round(float((hit & delayed).sum()) / late, 4),
        "logistics_tickets_per_on_time_parcel": round(float((hit & ~delayed).sum()) / on_time, 4),
    }


def write_truth_tables(
    folder: Path, world: World, labels: list[TextLabel], touchpoint_ids: list[str]
) -> dict[str, str]:
    """``people.parquet``, ``orders.parquet`` and ``texts.parquet``; returns name -> path."""
    write_parquet(folder / "people.parquet", _people_table(world))
    write_parquet(folder / "orders.parquet", _orders_table(world, touchpoint_ids))
    write_parquet(folder / "texts.parquet", _texts_table(labels))
    return {
        "people": "ground_truth/people.parquet",
        "orders": "ground_truth/orders.parquet",
        "texts": "ground_truth/texts.parquet",
    }


def _people_table(world: World) -> pa.Table:
    people = world.people
    churn = [date_of_day(int(d)) if np.isfinite(d) else None for d in people.churn_day.tolist()]
    districts = [DISTRICTS[int(d)] for d in people.district]
    return pa.table({
        "person_id": people.person_id,
        "name": people.name,
        "english_name": people.english,
        "female": people.female,
        "birth_date": people.birth_day.astype("datetime64[D]"),
        "province": [d.province for d in districts],
        "city": [d.city for d in districts],
        "mobile": people.mobile,
        "mobile2": people.mobile2,
        "email": people.email,
        "email2": people.email2,
        "id_card": people.id_card,
        "occupation": people.occupation,
        "latent_tier": [TIERS[t] for t in people.tier],
        "member": people.member,
        "existing_customer": people.existing,
        "first_active_date": [date_of_day(int(d)) for d in people.start_day.tolist()],
        "churned_on": churn,
        "home_store": [STORES[s].store_id if s >= 0 else None for s in people.home_store.tolist()],
        "online_propensity": people.p_online,
        "user_id": people.user_id,
    })  # fmt: skip


def _orders_table(world: World, touchpoint_ids: list[str]) -> pa.Table:
    buys = world.buys
    keys = [""] * len(buys)
    for k, b in enumerate(world.online.purchase.tolist()):
        keys[b] = world.online.order_id[k]
    for k, b in enumerate(world.receipts.purchase.tolist()):
        keys[b] = world.receipts.receipt_no[k]
    cause = buys.cause.tolist()
    return pa.table({
        "order_key": keys,
        "person_id": [world.people.person_id[p] for p in buys.person.tolist()],
        "channel": ["online" if o else "store" for o in buys.online.tolist()],
        "caused_by_channel": [
            CHANNELS[int(world.touch.channel[c])].name if c >= 0 else None for c in cause
        ],
        "caused_by_touchpoint": [touchpoint_ids[c] if c >= 0 else None for c in cause],
        "gross_amount": buys.amounts(),
        "size_issue": buys.size_issue,
        "quality_issue": buys.quality_issue,
        "wrong_item": buys.wrong_item,
    })  # fmt: skip


def _texts_table(labels: list[TextLabel]) -> pa.Table:
    fields = list(TextLabel.__dataclass_fields__)
    return pa.table({f: [getattr(lab, f) for lab in labels] for f in fields})

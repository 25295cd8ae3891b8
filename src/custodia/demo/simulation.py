"""Simulating the world in dependency order: people, marketing, purchases, orders, parcels.

Example::

    world = simulate_world(seed=7, customers=300, tick=lambda step: None)
"""

from __future__ import annotations

from collections.abc import Callable

from custodia.demo.catalog import build_catalog
from custodia.demo.marketing import add_brand_search, simulate_touchpoints
from custodia.demo.members import enrol_members
from custodia.demo.orders import build_online_orders, build_store_receipts
from custodia.demo.population import VISITOR_RATIO, draw_devices, draw_population
from custodia.demo.purchases import simulate_purchases
from custodia.demo.sources_logistics import apply_delivery_outcomes, simulate_deliveries
from custodia.demo.world import World

SIMULATION_STEPS = ("population", "marketing", "purchases", "orders")


def simulate_world(seed: int, customers: int, tick: Callable[[str], None]) -> World:
    """Draw everything true about the demo; ``tick(step)`` is called after each step."""
    people = draw_population(seed, customers)
    devices = draw_devices(seed, people, visitors=round(customers * VISITOR_RATIO))
    tick("population")
    touch = simulate_touchpoints(seed, people, devices)
    tick("marketing")
    catalog = build_catalog()
    buys = simulate_purchases(seed, people, devices, touch, catalog)
    baseline = (buys.cause < 0) & (buys.device >= 0)
    touch = add_brand_search(
        seed, touch, buys.person[baseline], buys.device[baseline], buys.time_s[baseline]
    )
    tick("purchases")
    members = enrol_members(seed, people)
    online = build_online_orders(seed, people, members, buys, touch)
    receipts = build_store_receipts(seed, people, members, buys)
    parcels = simulate_deliveries(seed, people, buys, online)
    apply_delivery_outcomes(online, parcels)
    tick("orders")
    return World(
        seed=seed,
        people=people,
        devices=devices,
        members=members,
        touch=touch,
        buys=buys,
        online=online,
        receipts=receipts,
        parcels=parcels,
        catalog=catalog,
    )

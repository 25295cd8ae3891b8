"""The simulated world every source export is a view of.

Example::

    world.people.person_id[world.buys.person[0]]   # who made the first purchase
"""

from __future__ import annotations

from dataclasses import dataclass

from custodia.demo.catalog import Catalog
from custodia.demo.marketing import Touchpoints
from custodia.demo.members import Members
from custodia.demo.orders import OnlineOrders, StoreReceipts
from custodia.demo.population import Devices, Population
from custodia.demo.purchases import Purchases
from custodia.demo.sources_logistics import Deliveries


@dataclass(frozen=True)
class World:
    """People, devices, memberships, marketing, purchases, orders, receipts and parcels."""

    seed: int
    people: Population
    devices: Devices
    members: Members
    touch: Touchpoints
    buys: Purchases
    online: OnlineOrders
    receipts: StoreReceipts
    parcels: Deliveries
    catalog: Catalog

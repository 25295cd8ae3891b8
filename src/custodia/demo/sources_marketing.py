"""Marketing exposure and click log (``marketing/touchpoints.csv``).

Why: ad platforms report by device (``anonymous_id``), the CRM's WeChat and e-mail tools by
``member_id`` and the SMS gateway by ``phone``; one row per exposure or click, with its cost. Which
channel really moves orders is in ``ground_truth.json`` (``channels``), not here.

Example::

    rows, touchpoint_ids = write_touchpoints(out_dir, world)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custodia.demo.files import write_csv_columns
from custodia.demo.marketing import CHANNELS
from custodia.demo.timeline import local_text
from custodia.demo.vectors import pick, substream
from custodia.demo.world import World

_HEADER = (
    "touchpoint_id", "channel", "campaign", "event_type", "occurred_at", "anonymous_id",
    "member_id", "phone", "cost",
)  # fmt: skip


def write_touchpoints(out_dir: Path, world: World) -> tuple[int, list[str], list[str]]:
    """Write rows in time order; returns (rows, touchpoint id per touch row, owner id per row)."""
    touch, people, devices, members = world.touch, world.people, world.devices, world.members
    rng = substream(world.seed, "touchpoint_ids")
    n = len(touch)
    order = np.lexsort((np.arange(n), touch.time_s))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    ids = [f"TP{k:09d}" for k in rank.tolist()]
    identifier = np.array([CHANNELS[c].identifier for c in range(len(CHANNELS))])[touch.channel]
    person = np.maximum(touch.person, 0)
    device = np.maximum(touch.device, 0)
    anon = np.where(identifier == "anonymous_id", pick(devices.anonymous_id, device), "")
    record = np.maximum(members.primary[person], 0)
    member = np.where(identifier == "member_id", pick(members.member_id, record), "")
    second = np.array([m or "" for m in people.mobile2], dtype=object)[person]
    use_second = (rng.random(n) < 0.3) & (second != "")
    phone = np.where(use_second, second, pick(people.mobile, person))
    phone = np.where(identifier == "phone", phone, "")
    owners = np.where(
        touch.person >= 0, pick(people.person_id, person), pick(devices.owner_id, device)
    )
    columns = (
        np.array(ids, dtype=object)[order],
        np.array([c.name for c in CHANNELS], dtype=object)[touch.channel][order],
        np.array(touch.campaign, dtype=object)[order],
        np.where(touch.kind == 1, "click", "impression")[order],
        np.array(local_text(touch.time_s), dtype=object)[order],
        anon[order],
        member[order],
        phone[order],
        np.array([f"{c:.3f}" for c in touch.cost.tolist()], dtype=object)[order],
    )
    path = out_dir / "marketing" / "touchpoints.csv"
    count = write_csv_columns(path, _HEADER, [c.tolist() for c in columns])
    return count, ids, [str(o) for o in owners.tolist()]

"""Store POS exports: ``pos/store_<STORE>_<YYYY-MM>.csv``, one row per receipt line.

Why: store systems upload monthly CSV files (UTF-8 with a byte-order mark, as Excel-friendly
exports in China are). Two real-world failures are injected and recorded: a file re-uploaded under
a second name (``..._reupload.csv``) repeating receipts already delivered, and, when asked, one
store whose uploads stop on a given day so that its later sales never arrive.

Example::

    result = write_pos(out_dir, world, inject_outage=True)
    result.rows, result.files, result.outage
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from custodia.demo.files import money, write_csv
from custodia.demo.models import ProblemRecord, StoreOutage
from custodia.demo.population import STORES
from custodia.demo.timeline import DAY, date_of_day, local_text, month_labels
from custodia.demo.vectors import BoolArray, IntArray, substream
from custodia.demo.world import World

REUPLOAD_SHARE = 0.04
OUTAGE_FROM_DAY = (600, 700)
POS_ENCODING = "utf-8-sig"
_HEADER = (
    "receipt_no", "store_id", "till", "loyalty_card_no", "phone", "sold_at", "sku", "item_name",
    "size", "qty", "price", "amount", "payment_method",
)  # fmt: skip


@dataclass(frozen=True)
class PosResult:
    """What the POS export wrote and which receipts are where."""

    rows: int
    files: int
    exported: BoolArray
    outage: StoreOutage | None
    duplicates: list[ProblemRecord]


def write_pos(out_dir: Path, world: World, *, inject_outage: bool) -> PosResult:
    """Write monthly files per store, the re-uploads, and apply the outage if injected."""
    rng = substream(world.seed, "pos")
    receipts, buys = world.receipts, world.buys
    time_s = buys.time_s[receipts.purchase]
    store = buys.store[receipts.purchase]
    exported = np.ones(len(receipts), dtype=bool)
    outage = None
    if inject_outage and len(receipts):
        outage, exported = _outage(rng, world, store, time_s)
    months = month_labels(time_s)
    groups: dict[tuple[int, str], list[int]] = {}
    for k in np.flatnonzero(exported).tolist():
        groups.setdefault((int(store[k]), months[k]), []).append(k)
    lines = _line_rows(world)
    rows = files = 0
    duplicates: list[ProblemRecord] = []
    again_flags = rng.random(len(groups)) < REUPLOAD_SHARE
    if len(groups) and not again_flags.any():
        again_flags[rng.integers(0, len(groups))] = True
    for ((s, month), members), again_flag in zip(sorted(groups.items()), again_flags, strict=True):
        name = f"store_{STORES[s].store_id}_{month}"
        rows += _write_file(out_dir / "pos" / f"{name}.csv", members, lines)
        files += 1
        if again_flag:
            again = _reupload_span(rng, members, time_s)
            rows += _write_file(out_dir / "pos" / f"{name}_reupload.csv", again, lines)
            files += 1
            duplicates += [
                ProblemRecord(
                    key=receipts.receipt_no[k], kind="reupload", detail=f"{name}_reupload.csv"
                )
                for k in again
            ]
    return PosResult(rows, files, exported, outage, duplicates)


def _outage(
    rng: np.random.Generator, world: World, store: IntArray, time_s: IntArray
) -> tuple[StoreOutage, BoolArray]:
    busy = np.bincount(store, minlength=len(STORES))
    candidates = np.flatnonzero(busy >= np.median(busy[busy > 0]))
    victim = int(candidates[rng.integers(0, len(candidates))])
    day = int(rng.integers(*OUTAGE_FROM_DAY))
    lost = (store == victim) & (time_s >= day * DAY)
    lines = int(world.buys.line_count[world.receipts.purchase[lost]].sum())
    outage = StoreOutage(
        store_id=STORES[victim].store_id,
        uploads_stop_on=date_of_day(day),
        receipts_lost=int(lost.sum()),
        lines_lost=lines,
    )
    return outage, ~lost


def _reupload_span(rng: np.random.Generator, members: list[int], time_s: IntArray) -> list[int]:
    """Receipts of a run of consecutive days inside the month (what a retried upload repeats)."""
    days = time_s[members] // DAY
    first = int(days[rng.integers(0, len(days))])
    span = int(rng.integers(3, 11))
    return [k for k, d in zip(members, days.tolist(), strict=True) if first <= d < first + span]


def _line_rows(world: World) -> list[list[tuple[str | int, ...]]]:
    """All line rows per receipt, pre-formatted once and reused by re-uploads."""
    receipts, buys, catalog, members = world.receipts, world.buys, world.catalog, world.members
    sold = local_text(buys.time_s[receipts.purchase])
    out: list[list[tuple[str | int, ...]]] = []
    for k, b in enumerate(receipts.purchase.tolist()):
        record = int(receipts.member_record[k])
        head = (
            receipts.receipt_no[k], STORES[int(buys.store[b])].store_id, receipts.till[k],
            members.member_id[record] if record >= 0 else "", receipts.phone[k] or "", sold[k],
        )  # fmt: skip
        start, count = int(buys.line_start[b]), int(buys.line_count[b])
        lines: list[tuple[str | int, ...]] = []
        for j in range(start, start + count):
            sku, qty, price = (
                int(buys.line_sku[j]),
                int(buys.line_qty[j]),
                float(buys.line_price[j]),
            )
            lines.append((
                *head, catalog.sku[sku], catalog.name[sku], buys.line_size[j], qty, money(price),
                money(qty * price), receipts.payment[k],
            ))  # fmt: skip
        out.append(lines)
    return out


def _write_file(path: Path, members: list[int], lines: list[list[tuple[str | int, ...]]]) -> int:
    rows = (row for k in members for row in lines[k])
    return write_csv(path, _HEADER, rows, encoding=POS_ENCODING)

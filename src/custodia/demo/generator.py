"""``generate_demo``: simulate the world, write every source and the ground truth.

Example::

    manifest = generate_demo(Path("demo-data"), customers=2_000, seed=7)
    [s.name for s in manifest.sources]
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from custodia.core.errors import ValidationError
from custodia.demo.background import start_clickstream
from custodia.demo.ground_truth import TruthBook
from custodia.demo.models import DemoManifest, DemoSource, GroundTruth, ProblemRecord, StoreOutage
from custodia.demo.simulation import SIMULATION_STEPS, simulate_world
from custodia.demo.sources_clickstream import ClickstreamResult
from custodia.demo.sources_crm import LEVEL_THRESHOLDS, write_crm
from custodia.demo.sources_ecommerce import unlinked_orders, write_orders
from custodia.demo.sources_enrichment import write_enrichment
from custodia.demo.sources_logistics import write_deliveries
from custodia.demo.sources_marketing import write_touchpoints
from custodia.demo.sources_pos import POS_ENCODING, write_pos
from custodia.demo.sources_service import TextLabel, write_reviews, write_tickets
from custodia.demo.timeline import LAST_SIX_MONTHS_DAY, TODAY, WINDOW_END, WINDOW_START, date_of_day
from custodia.demo.truth_report import (
    channel_truths,
    delivery_truth,
    tier_truths,
    write_truth_tables,
)
from custodia.demo.world import World

GENERATOR_VERSION = "1.0.0"
MIN_CUSTOMERS = 50
MAX_CUSTOMERS = 2_000_000
WRITE_STEPS = (
    "crm", "ecommerce", "pos", "touchpoints", "service", "logistics", "enrichment", "clickstream",
    "ground_truth",
)  # fmt: skip
LOCAL = "Asia/Shanghai"
ProgressCallback = Callable[[str, int, int], None]


@dataclass
class _Run:
    """Shared state of one generation: progress, truth book, sources written so far."""

    out_dir: Path
    world: World
    progress: ProgressCallback | None
    total: int
    done: int = 0
    book: TruthBook = field(default_factory=TruthBook)
    sources: list[DemoSource] = field(default_factory=list)
    labels: list[TextLabel] = field(default_factory=list)
    touchpoint_ids: list[str] = field(default_factory=list)
    outage: StoreOutage | None = None
    missing: dict[str, dict[str, int]] = field(default_factory=dict)

    def tick(self, step: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(step, self.done, self.total)

    def source(self, **fields: object) -> None:
        self.sources.append(DemoSource.model_validate(fields))


def generate_demo(
    out_dir: Path,
    *,
    customers: int,
    seed: int,
    progress: ProgressCallback | None = None,
    inject_outage: bool = True,
) -> DemoManifest:
    """Write a reproducible multi-source demo data set for the brand "Lumière 霓裳".

    Same ``seed`` and parameters give byte-identical files. ``progress(step, done, total)`` is
    called after each of the simulation and writing steps. ``out_dir`` must be absent or empty.

    Example::

        manifest = generate_demo(Path("demo-data"), customers=2_000, seed=7)
        manifest.source("ecommerce_orders").records   # number of online orders
    """
    _validate(out_dir, customers, seed)
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived containers, no cycles: collection only costs time
    try:
        return _generate(out_dir, customers, seed, progress, inject_outage)
    finally:
        if collecting:
            gc.enable()


def _generate(
    out_dir: Path,
    customers: int,
    seed: int,
    progress: ProgressCallback | None,
    inject_outage: bool,
) -> DemoManifest:
    total = len(SIMULATION_STEPS) + len(WRITE_STEPS)
    ticks: list[str] = []

    def early(step: str) -> None:
        ticks.append(step)
        if progress is not None:
            progress(step, len(ticks), total)

    world = simulate_world(seed, customers, early)
    run = _Run(out_dir, world, progress, total, done=len(ticks))
    clickstream = start_clickstream(out_dir, world)
    try:
        for step, writer in zip(WRITE_STEPS[:-2], _WRITERS, strict=True):
            writer(run, inject_outage)
            run.tick(step)
    except BaseException:
        clickstream.cancel()
        raise
    _clickstream(run, clickstream.result())
    run.tick("clickstream")
    manifest = _finish(run, seed, customers, inject_outage)
    run.tick("ground_truth")
    return manifest


def _validate(out_dir: Path, customers: int, seed: int) -> None:
    if not MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS:
        raise ValidationError("customers", f"between {MIN_CUSTOMERS} and {MAX_CUSTOMERS}")
    if seed < 0:
        raise ValidationError("seed", "non-negative integer")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValidationError("out_dir", "must be absent or an empty directory")
    out_dir.mkdir(parents=True, exist_ok=True)


def _crm(run: _Run, _: bool) -> None:
    members, points, problems = write_crm(run.out_dir, run.world)
    w = run.world
    run.book.add_records(
        "crm", "member_id", w.members.member_id, [w.people.person_id[p] for p in w.members.person]
    )
    for name, description in _CRM_PROBLEMS.items():
        run.book.add_problem(name, "crm", description, problems.records[name])
    run.book.add_problem("crm_duplicate_members", "crm", _DUPLICATES, _duplicate_records(w))
    run.missing["crm"] = problems.missing
    path = "crm/members.db"
    run.source(
        name="crm_members",
        format="sqlite",
        path=path,
        table="members",
        entity="customers",
        records=members,
        files=1,
        timezone=LOCAL,
        description="Loyalty members (CRM).",
    )
    run.source(name="crm_member_points", format="sqlite", path=path, table="member_points",
               entity="loyalty_points", records=points, files=1, timezone=LOCAL,
               description="Loyalty points per member record.")  # fmt: skip


_CRM_PROBLEMS = {
    "invalid_phones": "Mobile numbers that cannot be valid (10 or 12 digits, letters, junk).",
    "phone_format_variants": "Valid numbers written with +86, dashes, spaces or full-width digits.",
    "invalid_id_cards": "Resident IDs with a wrong checksum or length, or whose birth date "
    "disagrees with the birthday field.",
    "name_variants": "Names with typos (duplicate sign-ups) or full-width / spacing variants.",
    "member_level_inconsistent": "Member level set by hand, not matching the spend rule.",
}
_DUPLICATES = "One person holding two member IDs (second sign-up with another phone)."


def _duplicate_records(world: World) -> list[ProblemRecord]:
    members = world.members
    return [
        ProblemRecord(
            key=members.member_id[k],
            kind="second_member_id",
            detail=members.member_id[int(members.primary[int(members.person[k])])],
        )
        for k in np.flatnonzero(members.duplicate)
    ]


def _ecommerce(run: _Run, _: bool) -> None:
    w = run.world
    lines = write_orders(run.out_dir, w)
    persons = [w.people.person_id[p] for p in w.buys.person[w.online.purchase]]
    run.book.add_records("ecommerce", "order_id", w.online.order_id, persons)
    run.book.add_problem(
        "unlinked_member_orders", "ecommerce",
        "Orders by logged-in members whose member_id is missing (account never bound).",
        [ProblemRecord(key=o, kind="member_id_missing") for o in unlinked_orders(w)],
    )  # fmt: skip
    typos = [
        ProblemRecord(key=w.online.order_id[k], kind="typo", detail=w.online.receiver_name[k])
        for k in np.flatnonzero(w.online.name_typo)
    ]
    run.book.add_problem("order_name_typos", "ecommerce", "Receiver names with a typo.", typos)
    run.source(name="ecommerce_orders", format="jsonl", path="ecommerce/orders.jsonl",
               entity="orders", records=lines, files=1, timezone=LOCAL,
               description="Online shop orders (web, app, WeChat mini-program).")  # fmt: skip


def _pos(run: _Run, inject_outage: bool) -> None:
    w = run.world
    result = write_pos(run.out_dir, w, inject_outage=inject_outage)
    exported = np.flatnonzero(result.exported)
    keys = [w.receipts.receipt_no[k] for k in exported]
    persons = [w.people.person_id[p] for p in w.buys.person[w.receipts.purchase[exported]]]
    run.book.add_records("pos", "receipt_no", keys, persons)
    run.book.add_problem(
        "duplicated_pos_uploads", "pos",
        "Receipts delivered twice: the same lines again in a *_reupload.csv file.",
        result.duplicates,
    )  # fmt: skip
    run.outage = result.outage
    run.source(name="pos_receipts", format="csv", path="pos/store_*.csv", entity="pos_receipts",
               records=result.rows, files=result.files, encoding=POS_ENCODING, timezone=LOCAL,
               description="Store POS exports, one row per receipt line.")  # fmt: skip


def _clickstream(run: _Run, result: ClickstreamResult) -> None:
    run.book.add_records(
        "clickstream", "anonymous_id", result.anonymous_ids, result.anonymous_owner
    )
    run.book.add_records("clickstream", "user_id", result.user_ids, result.user_owner)
    run.book.add_problem(
        "device_clock_skew", "clickstream",
        "App devices whose clock is off: originalTimestamp differs from timestamp.",
        [ProblemRecord(key=a, kind="clock_skew") for a in result.skewed_devices],
    )  # fmt: skip
    run.source(name="clickstream", format="segment_batch", path="clickstream/batch-*.json",
               entity="events", records=result.events, files=result.files, timezone="UTC",
               description="Segment HTTP API batches from the website and the apps.")  # fmt: skip


def _touchpoints(run: _Run, _: bool) -> None:
    rows, ids, owners = write_touchpoints(run.out_dir, run.world)
    run.touchpoint_ids = ids
    run.book.add_records("marketing", "touchpoint_id", ids, owners)
    run.source(name="marketing_touchpoints", format="csv", path="marketing/touchpoints.csv",
               entity="touchpoints", records=rows, files=1, timezone=LOCAL,
               description="Channel exposures and clicks with cost.")  # fmt: skip


def _service(run: _Run, _: bool) -> None:
    tickets = write_tickets(run.out_dir, run.world.seed, run.world)
    reviews = write_reviews(run.out_dir, run.world.seed, run.world)
    run.labels = tickets + reviews
    for source, labels in (("service_tickets", tickets), ("service_reviews", reviews)):
        run.book.add_records(source, "text_id", [x.text_id for x in labels],
                             [x.person_id for x in labels])  # fmt: skip
    run.book.add_problem(
        "ticket_name_typos", "service_tickets", "Customer names typed with a typo by agents.",
        [ProblemRecord(key=x.text_id, kind="typo", detail=x.name_variant)
         for x in tickets if x.name_variant],
    )  # fmt: skip
    run.book.add_problem(
        "personal_data_in_text", "service", "Free texts that contain a phone or an order number.",
        [ProblemRecord(key=x.text_id, kind=x.pii) for x in run.labels if x.pii],
    )  # fmt: skip
    run.source(
        name="service_tickets",
        format="jsonl",
        path="service/tickets.jsonl",
        entity="tickets",
        records=len(tickets),
        files=1,
        timezone=LOCAL,
        description="Customer-service tickets (Chinese and English).",
    )
    run.source(name="service_reviews", format="csv", path="service/reviews.csv", entity="reviews",
               records=len(reviews), files=1, timezone=LOCAL,
               description="Product reviews with rating (Chinese and English).")  # fmt: skip


def _logistics(run: _Run, _: bool) -> None:
    w = run.world
    rows = write_deliveries(run.out_dir, w.people, w.buys, w.online, w.parcels)
    persons = [w.people.person_id[p] for p in w.buys.person[w.online.purchase[w.parcels.order]]]
    run.book.add_records("logistics", "tracking_no", w.parcels.tracking_no, persons)
    mismatches = [
        ProblemRecord(key=w.online.order_id[int(w.parcels.order[k])], kind=str(kind),
                      detail=w.parcels.tracking_no[k])
        for k, kind in enumerate(w.parcels.mismatch) if kind
    ]  # fmt: skip
    run.book.add_problem(
        "delivery_address_mismatch", "logistics",
        "Parcels shipped to an address different from the order's.", mismatches,
    )  # fmt: skip
    run.source(name="logistics_deliveries", format="csv", path="logistics/deliveries.csv",
               entity="deliveries", records=rows, files=1, timezone=LOCAL,
               description="Courier deliveries for online orders.")  # fmt: skip


def _enrichment(run: _Run, _: bool) -> None:
    result = write_enrichment(run.out_dir, run.world)
    run.book.add_records("enrichment", "mobile", result.keys, result.owners)
    run.book.add_problem(
        "enrichment_phone_format", "enrichment", "Vendor keys written as +86-<mobile>.",
        result.formatted,
    )  # fmt: skip
    run.source(name="enrichment_third_party", format="csv", path="enrichment/third_party.csv",
               entity="enrichment", records=result.rows, files=1, timezone=LOCAL,
               description="Third-party enrichment keyed by mobile number.")  # fmt: skip


_WRITERS: tuple[Callable[[_Run, bool], None], ...] = (
    _crm, _ecommerce, _pos, _touchpoints, _service, _logistics, _enrichment,
)  # fmt: skip


def _identity_problems(run: _Run) -> None:
    """People who show up under several phones or e-mails across the exports."""
    w = run.world
    people = w.people
    second_used = np.zeros(people.n, dtype=bool)
    second_used[w.buys.person[w.online.purchase[w.online.second_phone]]] = True
    second_used[w.buys.person[w.receipts.purchase[w.receipts.second_phone]]] = True
    second_used[w.members.person[w.members.duplicate]] = True
    run.book.add_problem(
        "multiple_phones_per_person", "all",
        "People whose second mobile appears in a parcel, a POS look-up or a second CRM record.",
        [ProblemRecord(key=people.person_id[p], kind="second_phone")
         for p in np.flatnonzero(second_used)],
    )  # fmt: skip
    dups = w.members.person[w.members.duplicate]
    run.book.add_problem(
        "multiple_emails_per_person", "crm",
        "People whose duplicate CRM record carries a second e-mail address.",
        [ProblemRecord(key=people.person_id[p], kind="second_email")
         for p in sorted(set(dups.tolist())) if people.email2[p]],
    )  # fmt: skip


def _finish(run: _Run, seed: int, customers: int, inject_outage: bool) -> DemoManifest:
    _identity_problems(run)
    truth_dir = run.out_dir / "ground_truth"
    run.book.write_persons(truth_dir / "persons.parquet")
    files = {"persons": "ground_truth/persons.parquet"}
    files |= write_truth_tables(truth_dir, run.world, run.labels, run.touchpoint_ids)
    truth = GroundTruth(
        seed=seed,
        customers=customers,
        visitors=int(np.count_nonzero(run.world.devices.owner < 0)),
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        today=TODAY,
        last_six_months_start=date_of_day(LAST_SIX_MONTHS_DAY),
        member_level_thresholds=LEVEL_THRESHOLDS,
        tiers=tier_truths(run.world),
        churned_people=int(np.isfinite(run.world.people.churn_day).sum()),
        channels=channel_truths(run.world),
        delivery=delivery_truth(run.world, run.labels),
        outage=run.outage,
        problems=run.book.problems,
        problem_counts=run.book.counts(),
        missing_fields=run.missing,
        files=files,
    )
    _write_json(run.out_dir / "ground_truth.json", truth.model_dump_json(indent=1))
    manifest = DemoManifest(
        seed=seed,
        customers=customers,
        generator_version=GENERATOR_VERSION,
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        today=TODAY,
        inject_outage=inject_outage,
        sources=run.sources,
        ground_truth="ground_truth.json",
        ground_truth_files=sorted(files.values()),
    )
    _write_json(run.out_dir / "manifest.json", manifest.model_dump_json(indent=2))
    return manifest


def _write_json(path: Path, text: str) -> None:
    path.write_text(text + "\n", encoding="utf-8")

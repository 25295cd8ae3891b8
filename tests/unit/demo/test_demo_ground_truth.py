"""The ground truth matches the data: injected problems really are where it says they are."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from custodia.demo.population import TIERS


def test_duplicated_pos_receipts_appear_twice(demo: Any) -> None:
    files_of: dict[str, set[str]] = defaultdict(set)
    for name, row in demo.pos:
        files_of[row["receipt_no"]].add(name)
    problem = demo.truth.problem("duplicated_pos_uploads")
    listed = {r.key for r in problem.records}
    assert problem.count == len(listed) > 0
    twice = {k for k, files in files_of.items() if len(files) == 2}
    assert twice == listed
    for record in problem.records:
        assert record.detail in files_of[record.key]
        assert any(not f.endswith("_reupload.csv") for f in files_of[record.key])


def test_store_outage_stops_uploads_from_its_day(demo: Any) -> None:
    outage = demo.truth.outage
    assert outage is not None and outage.receipts_lost > 0
    store_rows = [row for _, row in demo.pos if row["store_id"] == outage.store_id]
    assert store_rows
    assert max(row["sold_at"][:10] for row in store_rows) < outage.uploads_stop_on


def test_no_outage_when_not_injected(quiet_demo: Any) -> None:
    assert quiet_demo.truth.outage is None
    assert quiet_demo.manifest.inject_outage is False


def test_delivery_address_mismatches_are_exactly_the_listed_ones(demo: Any) -> None:
    ordered = {o["order_id"]: o["shipping"]["address"] for o in demo.orders}
    differing = {
        row["order_id"]
        for row in demo.csv("logistics/deliveries.csv")
        if row["ship_to_address"] != ordered[row["order_id"]]
    }
    problem = demo.truth.problem("delivery_address_mismatch")
    assert problem.count == len(differing) > 0
    assert {r.key for r in problem.records} == differing


def test_unlinked_member_orders_are_counted(demo: Any) -> None:
    unlinked = {o["order_id"] for o in demo.orders if o["user_id"] and not o["member_id"]}
    assert demo.problem_keys("unlinked_member_orders") == unlinked
    assert demo.truth.problem_counts["unlinked_member_orders"] == len(unlinked)


def test_duplicate_members_map_to_the_same_person(demo: Any) -> None:
    persons = [r for r in demo.parquet("ground_truth/persons.parquet") if r["source"] == "crm"]
    ids_per_person = Counter(r["person_id"] for r in persons)
    problem = demo.truth.problem("crm_duplicate_members")
    assert problem.count == sum(n - 1 for n in ids_per_person.values()) > 0
    person_of = {r["record_key"]: r["person_id"] for r in persons}
    for record in problem.records:
        assert person_of[record.key] == person_of[record.detail]


def test_member_levels_follow_spend_except_listed_ones(quiet_demo: Any) -> None:
    spend: Counter[str] = Counter()
    for order in quiet_demo.orders:
        if order["member_id"] and order["status"] in ("completed", "shipped"):
            spend[order["member_id"]] += order["goods_amount"] - order["discount_amount"]
    seen = set()
    for name, row in quiet_demo.pos:
        key = (row["receipt_no"], row["sku"], row["size"], row["qty"], row["price"])
        if row["loyalty_card_no"] and key not in seen and "_reupload" not in name:
            spend[row["loyalty_card_no"]] += float(row["amount"])
        seen.add(key)
    thresholds = quiet_demo.truth.member_level_thresholds
    listed = quiet_demo.problem_keys("member_level_inconsistent")
    mismatched = set()
    for row in quiet_demo.members:
        expected = "REGULAR"
        for level in TIERS[1:]:
            if spend[row["member_id"]] >= thresholds[level] - 0.005:
                expected = level
        if row["level_code"] != expected:
            mismatched.add(row["member_id"])
    assert mismatched == listed
    assert listed


def test_every_record_key_maps_to_a_person(demo: Any) -> None:
    mapped: dict[str, set[str]] = defaultdict(set)
    for row in demo.parquet("ground_truth/persons.parquet"):
        mapped[row["source"]].add(row["record_key"])
    assert {r["member_id"] for r in demo.members} == mapped["crm"]
    assert {o["order_id"] for o in demo.orders} == mapped["ecommerce"]
    assert {row["receipt_no"] for _, row in demo.pos} == mapped["pos"]
    assert {t["ticket_id"] for t in demo.tickets} == mapped["service_tickets"]
    tracking = {r["tracking_no"] for r in demo.csv("logistics/deliveries.csv")}
    assert tracking == mapped["logistics"]
    touch = {r["touchpoint_id"] for r in demo.csv("marketing/touchpoints.csv")}
    assert touch == mapped["marketing"]
    anonymous = {e["anonymousId"] for _, e in demo.events if "anonymousId" in e}
    assert anonymous <= mapped["clickstream"]


def test_text_labels_cover_every_text_with_known_types(demo: Any) -> None:
    labels = demo.parquet("ground_truth/texts.parquet")
    reviews = demo.csv("service/reviews.csv")
    assert len(labels) == len(demo.tickets) + len(reviews)
    types = Counter(lab["complaint_type"] for lab in labels)
    assert {"logistics_delay", "size_issue", "none"} <= set(types)
    assert {lab["sentiment"] for lab in labels} == {"negative", "neutral", "positive"}
    text_of = {t["ticket_id"]: t["text"] for t in demo.tickets}
    text_of |= {r["review_id"]: r["content"] for r in reviews}
    for lab in labels:
        if "phone" in lab["pii"]:
            assert any(ch.isdigit() for ch in text_of[lab["text_id"]])
        if "order_id" in lab["pii"]:
            assert "LM" in text_of[lab["text_id"]]


def test_late_parcels_draw_more_logistics_complaints(demo: Any) -> None:
    delivery = demo.truth.delivery
    assert delivery["delayed_parcels"] > 0
    late = delivery["logistics_tickets_per_delayed_parcel"]
    assert late > 5 * delivery["logistics_tickets_per_on_time_parcel"]


def test_caused_orders_match_channel_truth(demo: Any) -> None:
    orders = demo.parquet("ground_truth/orders.parquet")
    caused = Counter(o["caused_by_channel"] for o in orders if o["caused_by_channel"])
    for channel in demo.truth.channels:
        assert caused[channel.channel] == channel.incremental_orders
    assert sum(caused.values()) > 0
    baidu = next(c for c in demo.truth.channels if c.channel == "baidu_search")
    assert baidu.non_causal_clicks > 0


def test_problem_counts_match_their_records(demo: Any) -> None:
    truth = demo.truth
    assert truth.problem_counts == {p.name: len(p.records) for p in truth.problems}
    for name in ("invalid_phones", "invalid_id_cards", "member_level_inconsistent",
                 "name_variants", "multiple_phones_per_person"):  # fmt: skip
        assert truth.problem_counts[name] > 0, name

"""Every source is readable in its native shape and agrees with the manifest."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from custodia.demo.marketing import CHANNELS

_TRACK_EVENTS = {
    "Product Viewed", "Product Added", "Element Clicked", "Signed Up", "Checkout Started",
    "Order Completed",
}  # fmt: skip


def test_manifest_lists_every_source_with_true_counts(demo: Any) -> None:
    m = demo.manifest
    assert m.customers == 300 and m.seed == 11
    counts = {s.name: s.records for s in m.sources}
    assert counts["crm_members"] == len(demo.members)
    assert counts["crm_member_points"] == len(demo.sql("SELECT member_id FROM member_points"))
    assert counts["ecommerce_orders"] == len(demo.orders)
    assert counts["pos_receipts"] == len(demo.pos)
    assert counts["clickstream"] == len(demo.events)
    assert counts["marketing_touchpoints"] == len(demo.csv("marketing/touchpoints.csv"))
    assert counts["service_tickets"] == len(demo.tickets)
    assert counts["service_reviews"] == len(demo.csv("service/reviews.csv"))
    assert counts["logistics_deliveries"] == len(demo.csv("logistics/deliveries.csv"))
    assert counts["enrichment_third_party"] == len(demo.csv("enrichment/third_party.csv"))
    formats = {s.name: s.format for s in m.sources}
    assert formats["clickstream"] == "segment_batch" and formats["crm_members"] == "sqlite"
    assert all(n > 0 for n in counts.values())


def test_orders_have_items_and_consistent_amounts(demo: Any) -> None:
    for order in demo.orders:
        assert order["items"]
        goods = sum(i["qty"] * i["unit_price"] for i in order["items"])
        assert abs(goods - order["goods_amount"]) < 0.01
        expected = order["goods_amount"] - order["discount_amount"] + order["shipping_fee"]
        assert abs(order["pay_amount"] - expected) < 0.01
        assert order["member_id"] or order["user_id"] or order["buyer_phone"]


def test_segment_batches_have_the_http_api_shape(demo: Any) -> None:
    sizes = Counter(number for number, _ in demo.events)
    assert max(sizes.values()) <= 500
    assert sorted(sizes) == list(range(1, len(sizes) + 1))
    types = Counter(event["type"] for _, event in demo.events)
    assert {"track", "page", "screen", "identify"} <= set(types)
    message_ids = [event["messageId"] for _, event in demo.events]
    assert len(set(message_ids)) == len(message_ids)
    for _, event in demo.events:
        assert event["timestamp"].endswith("Z") and event["originalTimestamp"].endswith("Z")
        assert "library" in event["context"]
        if event["type"] == "track":
            assert event["event"] in _TRACK_EVENTS
        if event["type"] != "alias":
            assert event["anonymousId"]


def test_order_completed_events_refer_to_real_orders(demo: Any) -> None:
    order_ids = {o["order_id"] for o in demo.orders}
    completed = [
        e["properties"]["order_id"] for _, e in demo.events if e.get("event") == "Order Completed"
    ]
    assert completed
    assert set(completed) <= order_ids


def test_campaign_context_names_a_known_channel(demo: Any) -> None:
    channels = {c.name for c in CHANNELS}
    sources = {
        e["context"]["campaign"]["source"] for _, e in demo.events if "campaign" in e["context"]
    }
    assert sources and sources <= channels


def test_anonymous_ids_are_seen_before_and_after_identify(demo: Any) -> None:
    by_anon: dict[str, list[tuple[str, int, dict[str, Any]]]] = defaultdict(list)
    for number, event in demo.events:
        if "anonymousId" in event:
            by_anon[event["anonymousId"]].append((event["timestamp"], number, event))
    stitched = 0
    for items in by_anon.values():
        identifies = [t for t, _, e in items if e["type"] == "identify"]
        if not identifies:
            continue
        first = min(identifies)
        before = [(n, e) for t, n, e in items if t < first]
        after = [(n, e) for t, n, e in items if t > first]
        assert all("userId" not in e for _, e in before)
        assert all("userId" in e for _, e in after)
        if before and after:
            stitched += 1
    assert stitched >= 5


def test_heatmap_clicks_carry_coordinates_inside_the_page(demo: Any) -> None:
    clicks = [e["properties"] for _, e in demo.events if e.get("event") == "Element Clicked"]
    assert clicks
    for p in clicks:
        assert 0 <= p["x"] <= p["viewport_width"] and p["y"] >= 0
        assert p["element_id"] and p["page_path"].startswith("/")


def test_pos_files_are_per_store_and_month_with_bom(demo: Any) -> None:
    names = {name for name, _ in demo.pos}
    assert all(n.startswith("store_") and n.endswith(".csv") for n in names)
    first = sorted((demo.folder / "pos").glob("store_*.csv"))[0].read_bytes()
    assert first.startswith(b"\xef\xbb\xbf")
    for name, row in demo.pos:
        assert row["store_id"] in name
        assert row["sold_at"][:7] in name
        assert abs(float(row["amount"]) - int(row["qty"]) * float(row["price"])) < 0.01
        assert row["loyalty_card_no"] == "" or row["loyalty_card_no"].startswith("M")


def test_tickets_and_reviews_are_in_both_languages(demo: Any) -> None:
    reviews = demo.csv("service/reviews.csv")
    languages = Counter(t["language"] for t in demo.tickets) + Counter(
        r["language"] for r in reviews
    )
    assert languages["zh"] > languages["en"] > 0
    assert all(1 <= int(r["rating"]) <= 5 for r in reviews)


def test_touchpoints_use_the_identifier_of_their_channel(demo: Any) -> None:
    identifier = {c.name: c.identifier for c in CHANNELS}
    for row in demo.csv("marketing/touchpoints.csv"):
        filled = [k for k in ("anonymous_id", "member_id", "phone") if row[k]]
        assert filled == [identifier[row["channel"]]]
        assert row["event_type"] in ("impression", "click")

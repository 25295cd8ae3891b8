"""The canonical customer data model: every table's Arrow schema and every column's classification.

This module is the one place where table shapes are declared. Storage creates Delta tables from it,
the catalog and ``docs/data-model.md`` are generated from it, privacy reads the tiers from it, and
pipelines write to these names. Names here are part of the public contract.

Example::

    from custodia.core.tables import TABLES, table_spec
    spec = table_spec("orders")
    spec.arrow_schema()            # pyarrow.Schema with field metadata (tier, description)
    spec.column("phone").tier      # Tier.L2
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from custodia.core.analysis_tables import ANALYSIS_TABLES
from custodia.core.errors import TableNotFoundError
from custodia.core.table_model import (
    JSON,
    L1,
    L2,
    L3,
    MONEY,
    TS,
    ColumnSpec,
    S,
    TableSpec,
    _c,
)
from custodia.core.types import Domain, Home, Zone

__all__ = ["JSON", "MONEY", "TABLES", "TS", "ColumnSpec", "TableSpec", "lake_tables", "table_spec"]

# Columns every lakehouse table carries: where the row came from and which run wrote it.
_LINEAGE = (
    _c("source", S, L1, "Name of the source that supplied the row", nullable=False),
    _c("run_id", S, L1, "Pipeline run that wrote the row (see `custodia runs`)"),
    _c("loaded_at", TS, L1, "When Custodia stored the row"),
)

SOURCE_RECORDS_RAW = TableSpec(
    name="source_records_raw",
    zone=Zone.RAW,
    domain=Domain.GOVERNANCE,
    description=(
        "Every record of every batch source exactly as it arrived (one JSON document per row), "
        "before any mapping. The landing zone that lineage and replays go back to."
    ),
    columns=(
        _c("raw_id", S, L1, "Surrogate key: source, file and position", nullable=False),
        _c("entity", S, L1, "What the source calls the record (customers, orders, ...)"),
        _c("source_file", S, L1, "File or table the record was read from, relative to the source"),
        _c("position", pa.int64(), L1, "Row number or line number within that file or table"),
        _c("payload", JSON, L3, "The record as delivered, as JSON text", personal=True),
        *_LINEAGE,
    ),
    key=("raw_id",),
    partition_by=("source",),
    time_column="loaded_at",
)

QUARANTINE = TableSpec(
    name="quarantine",
    zone=Zone.RAW,
    domain=Domain.GOVERNANCE,
    description=(
        "Everything that could not be stored as it should: events that break the spec or a "
        "tracking plan, lines that cannot be read, rows a mapping cannot map. Kept with the "
        "original payload and the reason, never dropped; replayed once the cause is fixed."
    ),
    columns=(
        _c("quarantine_id", S, L1, "Surrogate key", nullable=False),
        _c("kind", S, L1, "event | record | line"),
        _c("entity", S, L1, "What the source calls the record (events, orders, ...)"),
        _c("rule", S, L1, "The rule that was broken (e.g. event:required, invalid_json)"),
        _c("field", S, L1, "The field the rule is about, if any"),
        _c("reason", S, L1, "One line saying what is wrong; never contains the value"),
        _c("payload", JSON, L3, "The original message, record or line", personal=True),
        _c("source_file", S, L1, "File or table the payload came from, if any"),
        _c("position", pa.int64(), L1, "Line or row number within that file"),
        _c("received_at", TS, L1, "When the payload reached Custodia"),
        _c("status", S, L1, "open (not stored) | flagged (stored) | replayed | discarded"),
        _c("resolved_at", TS, L1, "When it was replayed or discarded"),
        _c("resolved_run_id", S, L1, "The run that replayed it"),
        *_LINEAGE,
    ),
    key=("quarantine_id",),
    partition_by=("source",),
    time_column="received_at",
)

EVENTS = TableSpec(
    name="events",
    zone=Zone.RAW,
    domain=Domain.BEHAVIOUR,
    description=(
        "Behavioural events in the Segment spec shape (track, identify, page, screen, group, "
        "alias), "
        "from the HTTP collector and event batch files. Stored once per message_id."
    ),
    columns=(
        _c(
            "message_id",
            S,
            L1,
            "Unique message id; a retry is stored once",
            nullable=False,
        ),
        _c("type", S, L1, "track | identify | page | screen | group | alias", nullable=False),
        _c("event", S, L1, "Event name for track calls (e.g. Order Completed)"),
        _c("name", S, L1, "Page or screen name"),
        _c("user_id", S, L2, "Known user id supplied by the source", personal=True),
        _c("anonymous_id", S, L2, "Device or cookie id before the user is known", personal=True),
        _c("previous_id", S, L2, "Previous id for alias calls", personal=True),
        _c("group_id", S, L1, "Account or group id for group calls"),
        _c("traits", JSON, L2, "Traits from identify/group calls (JSON)", personal=True),
        _c("properties", JSON, L2, "Event properties (JSON)", personal=True),
        _c(
            "context",
            JSON,
            L2,
            "Context: library, device, ip, page, ... (JSON)",
            personal=True,
        ),
        _c("integrations", JSON, L1, "Destinations the sender enabled or disabled (JSON)"),
        _c("timestamp", TS, L1, "When the event happened, corrected for client clock skew"),
        _c("original_timestamp", TS, L1, "Timestamp as sent by the client"),
        _c("sent_at", TS, L1, "When the client sent the batch"),
        _c("received_at", TS, L1, "When Custodia received the batch"),
        _c("event_date", pa.date32(), L1, "UTC date of `timestamp` (partition column)"),
        *_LINEAGE,
    ),
    key=("message_id",),
    partition_by=("event_date", "source"),
    time_column="timestamp",
)

CUSTOMER_RECORDS = TableSpec(
    name="customer_records",
    zone=Zone.STAGED,
    domain=Domain.CUSTOMER,
    description=(
        "Customer records from every source (CRM members, online accounts, POS loyalty, "
        "third-party enrichment), mapped to one shape. Identity resolution reads this table."
    ),
    columns=(
        _c("record_id", S, L1, "Surrogate key derived from source and source key", nullable=False),
        _c("source_key", S, L2, "The record's key in its source system", personal=True),
        _c("member_id", S, L2, "Membership / loyalty card number", personal=True),
        _c("user_id", S, L2, "Online account id", personal=True),
        _c("name", S, L2, "Full name as given (Chinese or English)", personal=True),
        _c("gender", S, L2, "Gender as given", personal=True),
        _c("birthday", pa.date32(), L2, "Date of birth", personal=True),
        _c("resident_id", S, L3, "Resident identity card number (GB 11643)", personal=True),
        _c("phone", S, L2, "Mobile phone number as given", personal=True),
        _c("email", S, L2, "Email address as given", personal=True),
        _c("member_level", S, L1, "Membership tier (e.g. gold 金卡)"),
        _c("province", S, L1, "Province"),
        _c("city", S, L1, "City"),
        _c("address", S, L2, "Street address", personal=True),
        _c("occupation", S, L1, "Occupation"),
        _c("industry", S, L1, "Industry (third-party enrichment)"),
        _c("income_band", S, L3, "Income band (third-party enrichment)", personal=True),
        _c("credit_band", S, L3, "Credit band (third-party enrichment)", personal=True),
        _c("registered_at", TS, L1, "When the customer registered with the source"),
        _c("updated_at", TS, L1, "When the source last changed the record"),
        *_LINEAGE,
    ),
    key=("record_id",),
    partition_by=("source",),
    time_column="updated_at",
)

PROFILES = TableSpec(
    name="profiles",
    zone=Zone.CURATED,
    domain=Domain.CUSTOMER,
    description="One golden profile per person, built by identity resolution and survivorship.",
    columns=(
        _c("profile_id", S, L1, "Stable profile id; survives reruns and merges", nullable=False),
        _c("name", S, L2, "Golden name", personal=True),
        _c("gender", S, L2, "Golden gender", personal=True),
        _c("birthday", pa.date32(), L2, "Golden date of birth", personal=True),
        _c("resident_id", S, L3, "Golden resident ID number", personal=True),
        _c("phone", S, L2, "Primary phone, E.164", personal=True),
        _c("email", S, L2, "Primary email, normalized", personal=True),
        _c("member_level", S, L1, "Membership tier"),
        _c("province", S, L1, "Province"),
        _c("city", S, L1, "City"),
        _c("occupation", S, L1, "Occupation"),
        _c("industry", S, L1, "Industry"),
        _c("credit_band", S, L3, "Credit band", personal=True),
        _c("record_count", pa.int32(), L1, "Number of source records merged into the profile"),
        _c("first_seen", TS, L1, "Earliest activity of the person in any source"),
        _c("last_seen", TS, L1, "Latest activity of the person in any source"),
        _c("updated_at", TS, L1, "When the profile was last rebuilt"),
    ),
    key=("profile_id",),
    time_column="updated_at",
)

CUSTOMER_RECORDS_FILLED = TableSpec(
    name="customer_records_filled",
    zone=Zone.CURATED,
    domain=Domain.CUSTOMER,
    description=(
        "Customer records after cleansing, with their gaps filled from the golden profile of "
        "the same person (survivorship); `filled_columns` says which values came from where. "
        "Rebuilt by `custodia cleanse`; identity resolution never reads it."
    ),
    columns=(
        *CUSTOMER_RECORDS.columns,
        _c("profile_id", S, L1, "Profile the record belongs to (none when it has no identifier)"),
        _c(
            "filled_columns",
            JSON,
            L1,
            'Columns filled by cleansing and their origin (JSON, e.g. {"email": "profiles"})',
        ),
    ),
    key=("record_id",),
    partition_by=("source",),
    lineage=("customer_records", "profiles", "profile_identifiers"),
    time_column="updated_at",
)

PROFILE_IDENTIFIERS = TableSpec(
    name="profile_identifiers",
    zone=Zone.CURATED,
    domain=Domain.CUSTOMER,
    description="Every identifier that points at a profile; any of them finds the person.",
    columns=(
        _c("profile_id", S, L1, "Profile the identifier belongs to", nullable=False),
        _c("id_type", S, L1, "phone | email | resident_id | member_id | user_id | anonymous_id"),
        _c(
            "id_value_normalized",
            S,
            L3,
            "Normalized identifier value, or its blind index for L3 types",
            personal=True,
        ),
        _c("source", S, L1, "Source the identifier was seen in"),
        _c("record_id", S, L1, "Source record that carried the identifier"),
        _c("first_seen", TS, L1, "First time the identifier was seen"),
        _c("last_seen", TS, L1, "Last time the identifier was seen"),
    ),
    key=("profile_id", "id_type", "id_value_normalized", "record_id"),
    time_column="last_seen",
)

PROFILE_KEYS = TableSpec(
    name="profile_keys",
    zone=Zone.CURATED,
    domain=Domain.CUSTOMER,
    description=(
        "How each customer reference, as written in orders, touchpoints, interactions and "
        "events (user and anonymous ids), leads to its live profile. Rebuilt when identity "
        "resolution or those tables change; analyses join on it."
    ),
    columns=(
        _c("ref_type", S, L1, "phone | email | member_id | user_id | anonymous_id", nullable=False),
        _c("ref_value", S, L2, "The reference exactly as the table writes it", personal=True),
        _c("profile_id", S, L1, "The live profile it belongs to", nullable=False),
        _c(
            "profile_key",
            pa.int64(),
            L1,
            "The profile as a number, the same on every row of this build (1, 2, ... in "
            "profile_id order): analyses join and group on it instead of the text id; it is "
            "renumbered when the table is rebuilt",
        ),
        _c(
            "candidates",
            pa.int32(),
            L1,
            "Profiles holding it (more than 1: shared, lowest id kept)",
        ),
        _c("updated_at", TS, L1, "When the link was built"),
    ),
    key=("ref_type", "ref_value"),
    lineage=("profile_identifiers", "orders", "touchpoints", "interactions", "events"),
    time_column="updated_at",
)

IDENTITY_EDGES = TableSpec(
    name="identity_edges",
    zone=Zone.CURATED,
    domain=Domain.CUSTOMER,
    home=Home.STORE,
    description=(
        "Append-only identity graph: each edge links two records with the rule, score and "
        "evidence that justified it. Undoing an edge sets undone_at; nothing is deleted."
    ),
    columns=(
        _c("edge_id", S, L1, "Surrogate key", nullable=False),
        _c("left_record", S, L1, "Record id on one side"),
        _c("right_record", S, L1, "Record id on the other side"),
        _c("rule", S, L1, "Deterministic rule or probabilistic model that made the edge"),
        _c("score", pa.float64(), L1, "Match weight or probability (1.0 for deterministic rules)"),
        _c("evidence", JSON, L2, "Which identifiers or comparisons agreed (JSON)", personal=True),
        _c("created_at", TS, L1, "When the edge was added"),
        _c("created_by", S, L1, "Run or user that added the edge"),
        _c("refused_reason", S, L1, "Why the last clustering refused the edge (guard, limit)"),
        _c("undone_at", TS, L1, "When the edge was undone by an unmerge, if ever"),
        _c("undone_by", S, L1, "Who undid the edge"),
    ),
    key=("edge_id",),
    time_column="created_at",
)

ORDERS = TableSpec(
    name="orders",
    zone=Zone.STAGED,
    domain=Domain.TRANSACTION,
    description="Orders from every channel: online shop orders and offline store POS receipts.",
    columns=(
        _c(
            "order_id",
            S,
            L1,
            "Surrogate key from source and order number",
            nullable=False,
        ),
        _c("source_key", S, L1, "Order or receipt number in the source system"),
        _c("channel", S, L1, "online | pos"),
        _c("store_id", S, L1, "Store code for POS receipts"),
        _c("customer_ref_type", S, L1, "Which identifier links the order to a customer"),
        _c("customer_ref", S, L2, "The identifier value (member id, phone, ...)", personal=True),
        _c("ordered_at", TS, L1, "When the order was placed or the receipt issued"),
        _c("status", S, L1, "Order status"),
        _c("currency", S, L1, "ISO 4217 currency code"),
        _c("total_amount", MONEY, L2, "Order total (part of purchase history)", personal=True),
        _c("item_count", pa.int32(), L1, "Number of units"),
        _c("payment_method", S, L1, "Payment method"),
        _c("coupon_code", S, L1, "Coupon used, if any"),
        _c("ship_to_name", S, L2, "Receiver name", personal=True),
        _c("ship_to_phone", S, L2, "Receiver phone", personal=True),
        _c("ship_to_address", S, L2, "Shipping address", personal=True),
        _c("ship_to_city", S, L1, "Shipping city"),
        *_LINEAGE,
    ),
    key=("order_id",),
    partition_by=("channel",),
    time_column="ordered_at",
)

ORDER_LINES = TableSpec(
    name="order_lines",
    zone=Zone.STAGED,
    domain=Domain.TRANSACTION,
    description="Line items of orders and POS receipts.",
    columns=(
        _c("line_id", S, L1, "Surrogate key: order id and line number", nullable=False),
        _c("order_id", S, L1, "Order the line belongs to", nullable=False),
        _c("line_number", pa.int32(), L1, "Position within the order"),
        _c("sku", S, L1, "Stock keeping unit"),
        _c("product_name", S, L1, "Product name"),
        _c("category", S, L1, "Product category"),
        _c("quantity", pa.int32(), L1, "Units"),
        _c("unit_price", MONEY, L1, "Price per unit"),
        _c("line_amount", MONEY, L2, "Amount paid for the line", personal=True),
        *_LINEAGE,
    ),
    key=("line_id",),
    time_column="loaded_at",
)

INTERACTIONS = TableSpec(
    name="interactions",
    zone=Zone.STAGED,
    domain=Domain.SERVICE,
    description=(
        "Customer service tickets, chats and product reviews (Chinese and English), with the "
        "structured tags that text mining derives from them."
    ),
    columns=(
        _c("interaction_id", S, L1, "Surrogate key", nullable=False),
        _c("source_key", S, L1, "Ticket or review id in the source"),
        _c("kind", S, L1, "ticket | chat | review"),
        _c("customer_ref_type", S, L1, "Which identifier links it to a customer"),
        _c("customer_ref", S, L2, "The identifier value", personal=True),
        _c("order_ref", S, L1, "Order number mentioned, if any"),
        _c("channel", S, L1, "phone, online chat, app, marketplace, ..."),
        _c("created_at", TS, L1, "When the customer reached out or posted"),
        _c("language", S, L1, "zh | en"),
        _c("subject", S, L2, "Subject line", personal=True),
        _c("text", pa.large_string(), L3, "Free text; may contain personal data", personal=True),
        _c("rating", pa.int8(), L1, "Star rating for reviews (1-5)"),
        _c("status", S, L1, "open | resolved | closed"),
        _c("resolved_at", TS, L1, "When the ticket was resolved"),
        _c("complaint_type", S, L1, "Derived complaint type (e.g. logistics_delay)"),
        _c("sentiment", S, L1, "Derived sentiment: negative | neutral | positive"),
        _c("tags", JSON, L1, "Derived tags (JSON list)"),
        *_LINEAGE,
    ),
    key=("interaction_id",),
    partition_by=("kind",),
    time_column="created_at",
)

TOUCHPOINTS = TableSpec(
    name="touchpoints",
    zone=Zone.STAGED,
    domain=Domain.MARKETING,
    description="Marketing exposures and clicks per channel and campaign (attribution input).",
    columns=(
        _c("touchpoint_id", S, L1, "Surrogate key", nullable=False),
        _c("customer_ref_type", S, L1, "member_id | anonymous_id | phone"),
        _c("customer_ref", S, L2, "The identifier value", personal=True),
        _c("channel", S, L1, "douyin_ads, xiaohongshu, wechat, baidu_search, email, sms, ..."),
        _c("campaign", S, L1, "Campaign name"),
        _c("interaction", S, L1, "impression | click"),
        _c("occurred_at", TS, L1, "When the exposure or click happened"),
        _c("cost", MONEY, L1, "Media cost attributed to this touchpoint"),
        *_LINEAGE,
    ),
    key=("touchpoint_id",),
    partition_by=("channel",),
    time_column="occurred_at",
)

DELIVERIES = TableSpec(
    name="deliveries",
    zone=Zone.STAGED,
    domain=Domain.LOGISTICS,
    description="Logistics delivery records for online orders.",
    columns=(
        _c("delivery_id", S, L1, "Surrogate key", nullable=False),
        _c("order_source_key", S, L1, "Order number the delivery ships"),
        _c("carrier", S, L1, "Carrier (SF, JD, ZTO, ...)"),
        _c("tracking_no", S, L1, "Carrier tracking number"),
        _c("ship_to_address", S, L2, "Delivery address", personal=True),
        _c("ship_to_city", S, L1, "Delivery city"),
        _c("recipient_phone", S, L2, "Recipient phone", personal=True),
        _c("shipped_at", TS, L1, "When the parcel left the warehouse"),
        _c("delivered_at", TS, L1, "When the parcel was delivered"),
        _c("status", S, L1, "in_transit | delivered | returned | lost"),
        *_LINEAGE,
    ),
    key=("delivery_id",),
    time_column="shipped_at",
)

CONSENTS = TableSpec(
    name="consents",
    zone=Zone.CURATED,
    domain=Domain.GOVERNANCE,
    home=Home.STORE,
    description="Consent per person and purpose, with notice version, channel, actor and time.",
    columns=(
        _c("consent_id", S, L1, "Surrogate key", nullable=False),
        _c("profile_id", S, L1, "Person the consent belongs to"),
        _c("purpose", S, L1, "marketing, personalization, analytics, risk, sharing, sensitive"),
        _c("status", S, L1, "granted | withdrawn"),
        _c("notice_version", S, L1, "Version of the privacy notice shown"),
        _c("channel", S, L1, "Where the choice was made (web, app, store, portal)"),
        _c("actor", S, L1, "Whose choice it is: customer, guardian or agent:WHO"),
        _c("recorded_by", S, L1, "Who entered it: token:NAME (API) or cli:USER"),
        _c("recorded_at", TS, L1, "When the choice was recorded"),
        _c("expires_at", TS, L1, "When the consent lapses, if ever"),
    ),
    key=("consent_id",),
    time_column="recorded_at",
)

AUDIT_LOG = TableSpec(
    name="audit_log",
    zone=Zone.CURATED,
    domain=Domain.GOVERNANCE,
    home=Home.STORE,
    description=(
        "Tamper-evident audit trail: each entry hashes the previous one, so an edited or deleted "
        "entry breaks the chain."
    ),
    columns=(
        _c("seq", pa.int64(), L1, "Position in the chain", nullable=False),
        _c("at", TS, L1, "When the action happened"),
        _c("actor", S, L1, "User, token or job that acted"),
        _c("action", S, L1, "What was done (token.issue, data.unmask, privacy.erase, ...)"),
        _c("resource", S, L1, "What it was done to"),
        _c("subject_ref", S, L1, "Profile id of the person concerned, if any"),
        _c("details", JSON, L1, "Non-personal details (JSON)"),
        _c("prev_hash", S, L1, "Hash of the previous entry"),
        _c("hash", S, L1, "SHA-256 of this entry and prev_hash"),
    ),
    key=("seq",),
    time_column="at",
)

TABLES: tuple[TableSpec, ...] = (
    SOURCE_RECORDS_RAW,
    EVENTS,
    QUARANTINE,
    CUSTOMER_RECORDS,
    ORDERS,
    ORDER_LINES,
    INTERACTIONS,
    TOUCHPOINTS,
    DELIVERIES,
    PROFILES,
    PROFILE_IDENTIFIERS,
    PROFILE_KEYS,
    CUSTOMER_RECORDS_FILLED,
    IDENTITY_EDGES,
    CONSENTS,
    AUDIT_LOG,
    *ANALYSIS_TABLES,
)


def table_spec(name: str) -> TableSpec:
    """Look a canonical table up by name; the error lists the known names."""
    for spec in TABLES:
        if spec.name == name:
            return spec
    known = ", ".join(t.name for t in TABLES)
    raise TableNotFoundError(f"unknown table '{name}'; known tables: {known}")


def lake_tables() -> Iterator[TableSpec]:
    """The tables that live in the Delta lakehouse."""
    return (t for t in TABLES if t.home is Home.LAKE)

"""Table metadata of the operational store (SQLite or PostgreSQL, one definition).

Table and column names here are a contract: the API, the CLI, the pipeline and the migrations
all rely on them. Change them only through a new Alembic migration in
``custodia/storage/migrations/versions`` (migration ``0001`` creates everything listed here, and a
test compares a migrated database with this metadata so the two cannot drift apart).

Two portable types keep SQLite and PostgreSQL behaving the same:

- :class:`UTCDateTime` stores timezone-aware UTC datetimes and always returns aware UTC values,
  even on SQLite, which has no time zone support of its own.
- ``JSON`` columns use SQLAlchemy's generic ``JSON`` type (TEXT on SQLite, ``json`` on PostgreSQL).

Example::

    from custodia.storage.store_schema import METADATA, pipeline_runs

    select(pipeline_runs.c.run_id).where(pipeline_runs.c.status == "running")
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TypeAlias

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from custodia.core.errors import ValidationError

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
"""A value that survives a JSON round trip unchanged."""

JsonObject: TypeAlias = dict[str, JsonValue]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so later migrations can address constraints by name."""

METADATA = MetaData(naming_convention=NAMING_CONVENTION)

RUN_STATUSES = ("running", "succeeded", "failed")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is aware UTC on the way in and on the way out, on every backend.

    Naive datetimes are refused when bound: their meaning depends on the machine that made them.
    SQLite stores the UTC wall time as sortable text; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("UTCDateTime refuses naive datetimes; pass an aware datetime")
        as_utc = value.astimezone(UTC)
        return as_utc.replace(tzinfo=None) if dialect.name == "sqlite" else as_utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _auto_bigint() -> BigInteger:
    """BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements."""
    return BigInteger().with_variant(Integer(), "sqlite")


workspace_info = Table(
    "workspace_info",
    METADATA,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    METADATA,
    Column("token_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("kind", String(16), nullable=False, server_default="api"),
    Column("user_id", String(40), nullable=True),
    Index(None, "user_id"),
)
"""Bearer tokens of staff and services. ``kind`` is ``api`` (issued for a person or a service,
no expiry unless given) or ``session`` (issued by a console login to the user ``user_id``, always
expiring); both are verified the same way."""

pipeline_runs = Table(
    "pipeline_runs",
    METADATA,
    Column("run_id", String(64), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("params", JSON(none_as_null=True), nullable=True),
    Column("stats", JSON(none_as_null=True), nullable=True),
    Column("error", Text, nullable=True),
    CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
    Index(None, "started_at"),
)

run_steps = Table(
    "run_steps",
    METADATA,
    Column("step_id", _auto_bigint(), primary_key=True, autoincrement=True),
    Column(
        "run_id",
        String(64),
        ForeignKey("pipeline_runs.run_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("step", String(128), nullable=False),
    Column("source", String(128), nullable=True),
    Column("rows_in", BigInteger, nullable=False),
    Column("rows_stored", BigInteger, nullable=False),
    Column("rows_rejected", BigInteger, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("detail", JSON(none_as_null=True), nullable=True),
    Index(None, "run_id"),
)

source_watermarks = Table(
    "source_watermarks",
    METADATA,
    Column("source", String(128), primary_key=True),
    Column("entity", String(128), primary_key=True),
    Column("watermark", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    METADATA,
    Column("seq", _auto_bigint(), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("resource", String(200), nullable=False),
    Column("subject_ref", String(200), nullable=True),
    Column("details", JSON(none_as_null=True), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Index(None, "subject_ref"),
    Index(None, "at"),
)

consents = Table(
    "consents",
    METADATA,
    Column("seq", _auto_bigint(), primary_key=True, autoincrement=True),
    Column("consent_id", String(40), nullable=False, unique=True),
    Column("profile_id", String(40), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("notice_version", String(64), nullable=True),
    Column("channel", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('granted', 'withdrawn')", name="status_known"),
    Index(None, "profile_id", "purpose"),
    Index(None, "purpose", "profile_id"),
)
"""Append-only consent ledger: one row per choice; the newest row (``seq``) per profile and
purpose is the current state. ``actor`` made the choice, ``recorded_by`` entered it."""

collector_sources = Table(
    "collector_sources",
    METADATA,
    Column("name", String(64), primary_key=True),
    Column("write_key_hash", String(64), nullable=False, unique=True),
    Column("write_key_prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("rate_limit_per_second", Integer, nullable=True),
    Column("tracking_plan", JSON(none_as_null=True), nullable=True),
    Column("disabled_at", UTCDateTime, nullable=True),
)
"""Sources that send events to the HTTP collector; write keys are stored as SHA-256 digests."""

lineage_events = Table(
    "lineage_events",
    METADATA,
    Column("event_id", _auto_bigint(), primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("job", String(200), nullable=False),
    Column("event_type", String(16), nullable=False),
    Column("event_time", UTCDateTime, nullable=False),
    Column("payload", JSON(none_as_null=True), nullable=False),
    Index(None, "run_id"),
    Index(None, "job", "event_time"),
)
"""OpenLineage-shaped run events (START / COMPLETE / FAIL) of every load, one JSON each."""

identity_records = Table(
    "identity_records",
    METADATA,
    Column("record_id", String(64), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("profile_id", String(40), nullable=True),
    Column("flags", JSON(none_as_null=True), nullable=True),
    Column("first_seen", UTCDateTime, nullable=True),
    Column("last_seen", UTCDateTime, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=False),
    Index(None, "profile_id"),
)
"""Every record identity resolution has seen: its profile and the identifiers it flagged as bad."""

identity_identifiers = Table(
    "identity_identifiers",
    METADATA,
    Column("record_id", String(64), primary_key=True),
    Column("id_type", String(32), primary_key=True),
    Column("value", String(320), primary_key=True),
    Index(None, "id_type", "value"),
)
"""Valid normalized identifiers of each record: the index for matching and profile lookups."""

identity_edges = Table(
    "identity_edges",
    METADATA,
    Column("edge_id", String(40), primary_key=True),
    Column("left_record", String(64), nullable=False),
    Column("right_record", String(64), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", JSON(none_as_null=True), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("refused_reason", String(64), nullable=True),
    Column("undone_at", UTCDateTime, nullable=True),
    Column("undone_by", String(200), nullable=True),
    Index(None, "left_record"),
    Index(None, "right_record"),
)
"""Append-only identity graph; an unmerge sets ``undone_at``, a guard sets ``refused_reason``."""

profile_registry = Table(
    "profile_registry",
    METADATA,
    Column("profile_id", String(40), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("merged_into", String(40), nullable=True),
    Column("merged_at", UTCDateTime, nullable=True),
    Column("record_count", Integer, nullable=False),
    Column("traits", JSON(none_as_null=True), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "merged_into"),
)
"""Every profile id ever issued: live ones with their golden traits, merged ones as aliases."""

quality_results = Table(
    "quality_results",
    METADATA,
    Column("result_id", _auto_bigint(), primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("measured_at", UTCDateTime, nullable=False),
    Column("rule", String(80), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("column_name", String(64), nullable=False),
    Column("dimension", String(16), nullable=False),
    Column("source", String(128), nullable=False),
    Column("day", Date, nullable=True),
    Column("checked", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("anomalies", JSON(none_as_null=True), nullable=True),
    Index(None, "run_id"),
    Index(None, "rule", "measured_at"),
)
"""What each quality rule checked and found failing, per run, source and day (a time series)."""

quality_scores = Table(
    "quality_scores",
    METADATA,
    Column("score_id", _auto_bigint(), primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("measured_at", UTCDateTime, nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("column_name", String(64), nullable=False),
    Column("source", String(128), nullable=False),
    Column("day", Date, nullable=True),
    Column("dimension", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("rules", Integer, nullable=False),
    Column("checked", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Index(None, "run_id"),
    Index(None, "table_name", "dimension", "measured_at"),
)
"""Quality scores (0..1) per table, column, source and day and dimension, one set per run."""

quality_alerts = Table(
    "quality_alerts",
    METADATA,
    Column("alert_id", String(40), primary_key=True),
    Column("alert_key", String(220), nullable=False),
    Column("rule", String(80), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("column_name", String(64), nullable=False),
    Column("source", String(128), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("checked", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("failure_rate", Float, nullable=False),
    Column("threshold", String(200), nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("opened_run_id", String(64), nullable=False),
    Column("last_run_id", String(64), nullable=False),
    Column("resolved_run_id", String(64), nullable=True),
    Column("deliveries", JSON(none_as_null=True), nullable=True),
    Index(None, "alert_key", "status"),
    Index(None, "status", "opened_at"),
)
"""Threshold alerts: one open alert per rule (and source) until the metric recovers."""

review_tasks = Table(
    "review_tasks",
    METADATA,
    Column("task_id", String(40), primary_key=True),
    Column("rule", String(80), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("record_key", String(200), nullable=False),
    Column("column_name", String(64), nullable=False),
    Column("profile_id", String(40), nullable=True),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("alert_id", String(40), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("note", Text, nullable=True),
    Index(None, "status", "created_at"),
    Index(None, "rule", "table_name", "record_key"),
)
"""Anomalies on high-value customers waiting for a data steward (pending, then a decision)."""

quality_corrections = Table(
    "quality_corrections",
    METADATA,
    Column("correction_id", String(40), primary_key=True),
    Column("table_name", String(64), nullable=False),
    Column("record_key", String(200), nullable=False),
    Column("column_name", String(64), nullable=False),
    Column("value", JSON(none_as_null=True), nullable=True),
    Column("task_id", String(40), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Index(None, "table_name", "active"),
    Index(None, "table_name", "record_key", "column_name"),
)
"""Values a data steward set by hand; the pipeline re-applies active ones after every load."""

data_keys = Table(
    "data_keys",
    METADATA,
    Column("key_id", String(40), primary_key=True),
    Column("customer_id", String(64), nullable=False, unique=True),
    Column("kek_id", String(40), nullable=False),
    Column("wrapped_key", String(200), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rewrapped_at", UTCDateTime, nullable=True),
    Column("shredded_at", UTCDateTime, nullable=True),
    Column("shredded_by", String(200), nullable=True),
    Index(None, "kek_id"),
)
"""One data key (DEK) per customer, wrapped by a master key version (``kek_id``) kept outside
the store; ``wrapped_key`` is NULL once the key is shredded (crypto-shredding)."""

blind_indexes = Table(
    "blind_indexes",
    METADATA,
    Column("customer_id", String(64), primary_key=True),
    Column("id_type", String(32), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Index(None, "id_type", "digest"),
)
"""Keyed HMAC digests of a customer's normalized identifiers, for exact matching without values."""

dp_budgets = Table(
    "dp_budgets",
    METADATA,
    Column("analyst", String(200), primary_key=True),
    Column("epsilon_total", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(200), nullable=False),
    CheckConstraint("epsilon_total >= 0", name="epsilon_total_non_negative"),
)
"""The differential-privacy budget granted to each analyst (API token name); what they spent is
the sum of their ``dp_releases``."""

dp_releases = Table(
    "dp_releases",
    METADATA,
    Column("release_id", String(40), primary_key=True),
    Column("analyst", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("aggregate", String(16), nullable=False),
    Column("measure", String(64), nullable=True),
    Column("group_by", JSON(none_as_null=True), nullable=True),
    Column("epsilon", Float, nullable=False),
    CheckConstraint("epsilon > 0", name="epsilon_positive"),
    Index(None, "analyst"),
)
"""One row per differentially private release: the epsilon it debited from its analyst's budget."""

unmask_requests = Table(
    "unmask_requests",
    METADATA,
    Column("request_id", String(40), primary_key=True),
    Column("profile_id", String(40), nullable=False),
    Column("fields", JSON(none_as_null=True), nullable=False),
    Column("tier", String(2), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("justification", Text, nullable=True),
    Column("requester_token_id", String(64), nullable=False),
    Column("requester", String(200), nullable=False),
    Column("requester_role", String(32), nullable=False),
    Column("approvals_needed", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
    Index(None, "profile_id"),
    Index(None, "requester_token_id", "status"),
)
"""Requests to see masked fields of one customer in clear: requester, profile, fields, purpose
and expiry; ``approved`` once enough distinct approvers agreed."""

unmask_approvals = Table(
    "unmask_approvals",
    METADATA,
    Column(
        "request_id",
        String(40),
        ForeignKey("unmask_requests.request_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("approver_token_id", String(64), primary_key=True),
    Column("approver", String(200), nullable=False),
    Column("approver_role", String(32), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    CheckConstraint("decision IN ('approve', 'reject')", name="decision_known"),
)
"""One decision per approver and request (so two approvals are two distinct approvers)."""


portal_tokens = Table(
    "portal_tokens",
    METADATA,
    Column("token_id", String(64), primary_key=True),
    Column("profile_id", String(40), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Index(None, "profile_id"),
)
"""Customer portal tokens: each reaches only ``/v1/portal/*`` and only its own profile; always
expires. Kept apart from ``api_tokens`` so neither kind can pass for the other."""

user_expiries = Table(
    "user_expiries",
    METADATA,
    Column("expiry_id", String(40), primary_key=True),
    Column("profile_id", String(40), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("names", JSON(none_as_null=True), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("enforced_at", UTCDateTime, nullable=True),
    Column("receipt_id", String(40), nullable=True),
    CheckConstraint("scope IN ('fields', 'categories')", name="scope_known"),
    CheckConstraint("status IN ('pending', 'enforced', 'cancelled')", name="status_known"),
    Index(None, "status", "expires_at"),
    Index(None, "profile_id"),
)
"""Expiries a customer set on their own data ("delete after use"): the retention job removes
the named fields or categories of ``profile_id`` once ``expires_at`` passes and marks the row
``enforced`` with its receipt."""

subject_requests = Table(
    "subject_requests",
    METADATA,
    Column("request_id", String(40), primary_key=True),
    Column("profile_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("receipt_id", String(40), nullable=True),
    CheckConstraint("kind IN ('export', 'erasure')", name="kind_known"),
    CheckConstraint(
        "status IN ('received', 'in_progress', 'completed', 'rejected')", name="status_known"
    ),
    Index(None, "profile_id"),
    Index(None, "status"),
)
"""Access (export) and erasure requests made by customers, for the privacy officer to fulfil."""

users = Table(
    "users",
    METADATA,
    Column("user_id", String(40), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("username_key", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime, nullable=True),
    CheckConstraint("status IN ('active', 'disabled')", name="status_known"),
)
"""People who log in to the console with a username and password. ``username_key`` is the
NFKC-normalised, case-folded username (unique, so ``Alice`` and ``ａｌｉｃｅ`` are one user);
``password_hash`` is an Argon2id PHC string, never the password."""

login_throttle = Table(
    "login_throttle",
    METADATA,
    Column("throttle_key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Index(None, "last_failure_at"),
)
"""Failed logins per username, known or not (keyed by a keyed hash of the username, so unknown
names typed at the login form, which may be mistyped passwords, are not stored); rows are
forgotten once their last failure is old."""


STORE_TABLES = (
    workspace_info,
    api_tokens,
    pipeline_runs,
    run_steps,
    source_watermarks,
    audit_log,
    consents,
    collector_sources,
    lineage_events,
    identity_records,
    identity_identifiers,
    identity_edges,
    profile_registry,
    quality_results,
    quality_scores,
    quality_alerts,
    review_tasks,
    quality_corrections,
    data_keys,
    blind_indexes,
    dp_budgets,
    dp_releases,
    unmask_requests,
    unmask_approvals,
    portal_tokens,
    user_expiries,
    subject_requests,
    users,
    login_throttle,
)
"""Every table of the operational store, in creation order."""


def canonical_json(value: object) -> str:
    """One text form per JSON value: sorted keys, no spaces, UTF-8 kept, NaN refused.

    The audit chain hashes this form, so it must never change for the same value.

    >>> canonical_json({"b": 1, "a": "客户"})
    '{"a":"客户","b":1}'
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def to_json_value(field: str, value: object) -> JsonValue:
    """``value`` as it will come back from a JSON column (tuples become lists, and so on).

    Raises :class:`ValidationError` naming ``field`` (never the value) when ``value`` is not
    JSON-serialisable, e.g. holds a datetime, a set or NaN.
    """
    try:
        text = canonical_json(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, "json", f"{field}: must be JSON-serialisable") from exc
    result: JsonValue = json.loads(text)
    return result


def check_fits(column: Column[str], value: str) -> str:
    """Refuse text longer than ``column`` allows, the same way on SQLite (which would not care)
    and PostgreSQL (which would fail with a driver error)."""
    limit = getattr(column.type, "length", None)
    if limit is not None and len(value) > limit:
        raise ValidationError(column.name, f"max_length={limit}")
    return value

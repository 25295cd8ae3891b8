"""Collector sources (write keys) and lineage run events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collector_sources",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("write_key_hash", sa.String(64), nullable=False),
        sa.Column("write_key_prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("rate_limit_per_second", sa.Integer(), nullable=True),
        sa.Column("tracking_plan", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("disabled_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_collector_sources"),
        sa.UniqueConstraint("write_key_hash", name="uq_collector_sources_write_key_hash"),
    )
    op.create_table(
        "lineage_events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("job", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(16), nullable=False),
        sa.Column("event_time", _utc(), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_lineage_events"),
    )
    op.create_index("ix_lineage_events_run_id", "lineage_events", ["run_id"])
    op.create_index("ix_lineage_events_job_event_time", "lineage_events", ["job", "event_time"])


def downgrade() -> None:
    op.drop_table("lineage_events")
    op.drop_table("collector_sources")

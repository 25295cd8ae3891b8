"""Quality: rule results, scores, alerts, the review queue and stewards' corrections.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _auto_bigint() -> sa.BigInteger:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "quality_results",
        sa.Column("result_id", _auto_bigint(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("measured_at", _utc(), nullable=False),
        sa.Column("rule", sa.String(80), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(64), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("anomalies", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("result_id", name="pk_quality_results"),
    )
    op.create_index(
        "ix_quality_results_rule_measured_at", "quality_results", ["rule", "measured_at"]
    )
    op.create_index("ix_quality_results_run_id", "quality_results", ["run_id"])
    op.create_table(
        "quality_scores",
        sa.Column("score_id", _auto_bigint(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("measured_at", _utc(), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("score_id", name="pk_quality_scores"),
    )
    op.create_index(
        "ix_quality_scores_table_name_dimension_measured_at",
        "quality_scores",
        ["table_name", "dimension", "measured_at"],
    )
    op.create_index("ix_quality_scores_run_id", "quality_scores", ["run_id"])
    op.create_table(
        "quality_alerts",
        sa.Column("alert_id", sa.String(40), nullable=False),
        sa.Column("alert_key", sa.String(220), nullable=False),
        sa.Column("rule", sa.String(80), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("failure_rate", sa.Float(), nullable=False),
        sa.Column("threshold", sa.String(200), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.Column("resolved_at", _utc(), nullable=True),
        sa.Column("opened_run_id", sa.String(64), nullable=False),
        sa.Column("last_run_id", sa.String(64), nullable=False),
        sa.Column("resolved_run_id", sa.String(64), nullable=True),
        sa.Column("deliveries", sa.JSON(none_as_null=True), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name="pk_quality_alerts"),
    )
    op.create_index("ix_quality_alerts_status_opened_at", "quality_alerts", ["status", "opened_at"])
    op.create_index("ix_quality_alerts_alert_key_status", "quality_alerts", ["alert_key", "status"])
    op.create_table(
        "review_tasks",
        sa.Column("task_id", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(80), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(200), nullable=False),
        sa.Column("column_name", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(40), nullable=True),
        sa.Column("decided_at", _utc(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("task_id", name="pk_review_tasks"),
    )
    op.create_index("ix_review_tasks_status_created_at", "review_tasks", ["status", "created_at"])
    op.create_index(
        "ix_review_tasks_rule_table_name_record_key",
        "review_tasks",
        ["rule", "table_name", "record_key"],
    )
    op.create_table(
        "quality_corrections",
        sa.Column("correction_id", sa.String(40), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("record_key", sa.String(200), nullable=False),
        sa.Column("column_name", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("task_id", sa.String(40), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("correction_id", name="pk_quality_corrections"),
    )
    op.create_index(
        "ix_quality_corrections_table_name_record_key_column_name",
        "quality_corrections",
        ["table_name", "record_key", "column_name"],
    )
    op.create_index(
        "ix_quality_corrections_table_name_active", "quality_corrections", ["table_name", "active"]
    )


def downgrade() -> None:
    op.drop_table("quality_corrections")
    op.drop_table("review_tasks")
    op.drop_table("quality_alerts")
    op.drop_table("quality_scores")
    op.drop_table("quality_results")

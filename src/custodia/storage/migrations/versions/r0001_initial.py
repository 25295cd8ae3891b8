"""Create the operational store tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Self-contained on purpose: it spells out the tables as they were at revision 0001 instead of
importing today's metadata, so later schema changes cannot rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _auto_bigint() -> sa.BigInteger:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create_workspace_info() -> None:
    op.create_table(
        "workspace_info",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_workspace_info"),
    )


def _create_api_tokens() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("last_used_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.UniqueConstraint("prefix", name="uq_api_tokens_prefix"),
    )


def _create_pipeline_runs() -> None:
    op.create_table(
        "pipeline_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_pipeline_runs"),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name="ck_pipeline_runs_status"
        ),
    )
    op.create_index("ix_pipeline_runs_started_at", "pipeline_runs", ["started_at"])


def _create_run_steps() -> None:
    op.create_table(
        "run_steps",
        sa.Column("step_id", _auto_bigint(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step", sa.String(128), nullable=False),
        sa.Column("source", sa.String(128), nullable=True),
        sa.Column("rows_in", sa.BigInteger(), nullable=False),
        sa.Column("rows_stored", sa.BigInteger(), nullable=False),
        sa.Column("rows_rejected", sa.BigInteger(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("step_id", name="pk_run_steps"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pipeline_runs.run_id"],
            name="fk_run_steps_run_id_pipeline_runs",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_run_steps_run_id", "run_steps", ["run_id"])


def _create_source_watermarks() -> None:
    op.create_table(
        "source_watermarks",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("entity", sa.String(128), nullable=False),
        sa.Column("watermark", sa.Text(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("source", "entity", name="pk_source_watermarks"),
    )


def _create_audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", _auto_bigint(), autoincrement=True, nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("subject_ref", sa.String(200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.create_index("ix_audit_log_subject_ref", "audit_log", ["subject_ref"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def upgrade() -> None:
    _create_workspace_info()
    _create_api_tokens()
    _create_pipeline_runs()
    _create_run_steps()
    _create_source_watermarks()
    _create_audit_log()


def downgrade() -> None:
    for table in (
        "audit_log",
        "source_watermarks",
        "run_steps",
        "pipeline_runs",
        "api_tokens",
        "workspace_info",
    ):
        op.drop_table(table)

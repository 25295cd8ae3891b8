"""Customer portal: portal tokens, user-set expiries and access/erasure requests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_portal_tokens()
    _create_user_expiries()
    _create_subject_requests()


def _create_portal_tokens() -> None:
    op.create_table(
        "portal_tokens",
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("last_used_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_portal_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_portal_tokens_token_hash"),
        sa.UniqueConstraint("prefix", name="uq_portal_tokens_prefix"),
    )
    op.create_index("ix_portal_tokens_profile_id", "portal_tokens", ["profile_id"])


def _create_user_expiries() -> None:
    op.create_table(
        "user_expiries",
        sa.Column("expiry_id", sa.String(40), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("names", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("enforced_at", _utc(), nullable=True),
        sa.Column("receipt_id", sa.String(40), nullable=True),
        sa.CheckConstraint(
            "scope IN ('fields', 'categories')", name="ck_user_expiries_scope_known"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'enforced', 'cancelled')", name="ck_user_expiries_status_known"
        ),
        sa.PrimaryKeyConstraint("expiry_id", name="pk_user_expiries"),
    )
    op.create_index("ix_user_expiries_status_expires_at", "user_expiries", ["status", "expires_at"])
    op.create_index("ix_user_expiries_profile_id", "user_expiries", ["profile_id"])


def _create_subject_requests() -> None:
    op.create_table(
        "subject_requests",
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("receipt_id", sa.String(40), nullable=True),
        sa.CheckConstraint("kind IN ('export', 'erasure')", name="ck_subject_requests_kind_known"),
        sa.CheckConstraint(
            "status IN ('received', 'in_progress', 'completed', 'rejected')",
            name="ck_subject_requests_status_known",
        ),
        sa.PrimaryKeyConstraint("request_id", name="pk_subject_requests"),
    )
    op.create_index("ix_subject_requests_profile_id", "subject_requests", ["profile_id"])
    op.create_index("ix_subject_requests_status", "subject_requests", ["status"])


def downgrade() -> None:
    op.drop_table("subject_requests")
    op.drop_table("user_expiries")
    op.drop_table("portal_tokens")

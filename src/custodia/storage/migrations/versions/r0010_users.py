"""Console login: users, the login throttle, and session tokens in ``api_tokens``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _extend_api_tokens()
    _create_users()
    _create_login_throttle()


def _extend_api_tokens() -> None:
    op.add_column(
        "api_tokens",
        sa.Column("kind", sa.String(16), nullable=False, server_default="api"),
    )
    op.add_column("api_tokens", sa.Column("user_id", sa.String(40), nullable=True))
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])


def _create_users() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("username_key", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("password_changed_at", _utc(), nullable=False),
        sa.Column("last_login_at", _utc(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'disabled')", name="ck_users_status_known"),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
        sa.UniqueConstraint("username_key", name="uq_users_username_key"),
    )


def _create_login_throttle() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("throttle_key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _utc(), nullable=False),
        sa.Column("locked_until", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("throttle_key", name="pk_login_throttle"),
    )
    op.create_index("ix_login_throttle_last_failure_at", "login_throttle", ["last_failure_at"])


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("users")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("user_id")
        batch.drop_column("kind")

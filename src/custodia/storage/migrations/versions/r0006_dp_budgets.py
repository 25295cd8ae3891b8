"""Differential privacy: each analyst's epsilon budget and the releases that debited it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dp_budgets",
        sa.Column("analyst", sa.String(200), nullable=False),
        sa.Column("epsilon_total", sa.Float(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("analyst", name="pk_dp_budgets"),
        sa.CheckConstraint("epsilon_total >= 0", name="ck_dp_budgets_epsilon_total_non_negative"),
    )
    op.create_table(
        "dp_releases",
        sa.Column("release_id", sa.String(40), nullable=False),
        sa.Column("analyst", sa.String(200), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("aggregate", sa.String(16), nullable=False),
        sa.Column("measure", sa.String(64), nullable=True),
        sa.Column("group_by", sa.JSON(), nullable=True),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("release_id", name="pk_dp_releases"),
        sa.CheckConstraint("epsilon > 0", name="ck_dp_releases_epsilon_positive"),
    )
    op.create_index("ix_dp_releases_analyst", "dp_releases", ["analyst"])


def downgrade() -> None:
    op.drop_table("dp_releases")
    op.drop_table("dp_budgets")

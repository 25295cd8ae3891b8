"""Field encryption: per-customer data keys and blind index digests.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("kek_id", sa.String(40), nullable=False),
        sa.Column("wrapped_key", sa.String(200), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("rewrapped_at", _utc(), nullable=True),
        sa.Column("shredded_at", _utc(), nullable=True),
        sa.Column("shredded_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_data_keys"),
        sa.UniqueConstraint("customer_id", name="uq_data_keys_customer_id"),
    )
    op.create_index("ix_data_keys_kek_id", "data_keys", ["kek_id"])
    op.create_table(
        "blind_indexes",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("id_type", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "id_type", "digest", name="pk_blind_indexes"),
    )
    op.create_index("ix_blind_indexes_id_type_digest", "blind_indexes", ["id_type", "digest"])


def downgrade() -> None:
    op.drop_table("blind_indexes")
    op.drop_table("data_keys")

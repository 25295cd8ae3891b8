"""Consent ledger: append-only consent records per profile and purpose.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("consent_id", sa.String(40), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notice_version", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_consents"),
        sa.UniqueConstraint("consent_id", name="uq_consents_consent_id"),
        sa.CheckConstraint("status IN ('granted', 'withdrawn')", name="ck_consents_status_known"),
    )
    op.create_index("ix_consents_profile_id_purpose", "consents", ["profile_id", "purpose"])
    op.create_index("ix_consents_purpose_profile_id", "consents", ["purpose", "profile_id"])


def downgrade() -> None:
    op.drop_table("consents")

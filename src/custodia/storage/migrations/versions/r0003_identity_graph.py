"""Identity graph: records, identifiers, edges and the profile registry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "identity_records",
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=True),
        sa.Column("flags", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("first_seen", _utc(), nullable=True),
        sa.Column("last_seen", _utc(), nullable=True),
        sa.Column("resolved_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_identity_records"),
    )
    op.create_index("ix_identity_records_profile_id", "identity_records", ["profile_id"])
    op.create_table(
        "identity_identifiers",
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("id_type", sa.String(32), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("record_id", "id_type", "value", name="pk_identity_identifiers"),
    )
    op.create_index(
        "ix_identity_identifiers_id_type_value", "identity_identifiers", ["id_type", "value"]
    )
    op.create_table(
        "identity_edges",
        sa.Column("edge_id", sa.String(40), nullable=False),
        sa.Column("left_record", sa.String(64), nullable=False),
        sa.Column("right_record", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("refused_reason", sa.String(64), nullable=True),
        sa.Column("undone_at", _utc(), nullable=True),
        sa.Column("undone_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("edge_id", name="pk_identity_edges"),
    )
    op.create_index("ix_identity_edges_left_record", "identity_edges", ["left_record"])
    op.create_index("ix_identity_edges_right_record", "identity_edges", ["right_record"])
    op.create_table(
        "profile_registry",
        sa.Column("profile_id", sa.String(40), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("merged_into", sa.String(40), nullable=True),
        sa.Column("merged_at", _utc(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("traits", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", name="pk_profile_registry"),
    )
    op.create_index("ix_profile_registry_merged_into", "profile_registry", ["merged_into"])


def downgrade() -> None:
    op.drop_table("profile_registry")
    op.drop_table("identity_edges")
    op.drop_table("identity_identifiers")
    op.drop_table("identity_records")

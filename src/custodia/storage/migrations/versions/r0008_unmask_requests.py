"""Unmasking with approvals: requests and the approvers' decisions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unmask_requests",
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("profile_id", sa.String(40), nullable=False),
        sa.Column("fields", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("tier", sa.String(2), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("requester_token_id", sa.String(64), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("requester_role", sa.String(32), nullable=False),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("decided_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name="ck_unmask_requests_status_known",
        ),
        sa.PrimaryKeyConstraint("request_id", name="pk_unmask_requests"),
    )
    op.create_index("ix_unmask_requests_profile_id", "unmask_requests", ["profile_id"])
    op.create_index(
        "ix_unmask_requests_requester_token_id_status",
        "unmask_requests",
        ["requester_token_id", "status"],
    )
    op.create_table(
        "unmask_approvals",
        sa.Column("request_id", sa.String(40), nullable=False),
        sa.Column("approver_token_id", sa.String(64), nullable=False),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("approver_role", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decided_at", _utc(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approve', 'reject')", name="ck_unmask_approvals_decision_known"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["unmask_requests.request_id"],
            name="fk_unmask_approvals_request_id_unmask_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "approver_token_id", name="pk_unmask_approvals"),
    )


def downgrade() -> None:
    op.drop_table("unmask_approvals")
    op.drop_table("unmask_requests")

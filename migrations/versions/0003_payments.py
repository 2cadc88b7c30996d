"""payments: deposits and withdrawals through payment providers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wagerkit.adapters.sql.tables import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=96), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=160), nullable=False),
        sa.Column("provider_reference", sa.String(length=128), nullable=True),
        sa.Column("hold_transfer_id", sa.String(length=128), nullable=True),
        sa.Column("settle_transfer_id", sa.String(length=128), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('deposit', 'withdrawal')", name=op.f("ck_payments_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_payments_status")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "(kind = 'withdrawal') = (hold_transfer_id IS NOT NULL)",
            name=op.f("ck_payments_hold_iff_withdrawal"),
        ),
        sa.CheckConstraint(
            "status <> 'pending' OR settle_transfer_id IS NULL",
            name=op.f("ck_payments_pending_unsettled"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_payments_user_id_users")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_payments")),
        sa.UniqueConstraint("id", name=op.f("uq_payments_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
        sa.UniqueConstraint(
            "provider", "provider_reference", name=op.f("uq_payments_provider_reference")
        ),
    )
    op.create_index("ix_payments_user_seq", "payments", ["user_id", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_payments_user_seq", table_name="payments")
    op.drop_table("payments")

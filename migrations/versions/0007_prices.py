"""price ticks: one exact price per (symbol, observed_at, source)

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wagerkit.adapters.sql.tables import ExactPrice, UtcDateTime

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_ticks",
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("observed_at", UtcDateTime(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("price", ExactPrice(), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_price_ticks_price_positive")),
        sa.PrimaryKeyConstraint("symbol", "observed_at", "source", name=op.f("pk_price_ticks")),
    )


def downgrade() -> None:
    op.drop_table("price_ticks")

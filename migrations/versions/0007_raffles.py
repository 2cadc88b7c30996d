"""raffles: categories, raffles (the category terms copied in) and tickets, one sale per number

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 04:11:42.584532
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wagerkit.adapters.sql.tables import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "raffle_categories",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("ticket_price", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.Column("rake_bps", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(length=800), nullable=False),
        sa.Column("prize_mode", sa.String(length=16), nullable=False),
        sa.Column("colour", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "prize_mode IN ('proportional', 'guaranteed')",
            name=op.f("ck_raffle_categories_prize_mode"),
        ),
        sa.CheckConstraint(
            "rake_bps >= 0 AND rake_bps <= 10000", name=op.f("ck_raffle_categories_rake_bps_range")
        ),
        sa.CheckConstraint(
            "ticket_price > 0 AND capacity > 0",
            name=op.f("ck_raffle_categories_price_capacity_positive"),
        ),
        sa.CheckConstraint(
            "winners >= 1 AND winners <= capacity", name=op.f("ck_raffle_categories_winners_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raffle_categories")),
    )
    op.create_table(
        "raffles",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("category_name", sa.String(length=100), nullable=False),
        sa.Column("ticket_price", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.Column("rake_bps", sa.Integer(), nullable=False),
        sa.Column("split", sa.String(length=800), nullable=False),
        sa.Column("prize_mode", sa.String(length=16), nullable=False),
        sa.Column("colour", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("min_tickets", sa.Integer(), nullable=False),
        sa.Column("max_per_user", sa.Integer(), nullable=False),
        sa.Column("draw_mode", sa.String(length=16), nullable=False),
        sa.Column("lottery_name", sa.String(length=100), nullable=False),
        sa.Column("lottery_schedule", sa.String(length=200), nullable=False),
        sa.Column("lottery_url", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escrow_account_id", sa.BigInteger(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("public_value", sa.Text(), nullable=True),
        sa.Column("drawn_numbers", sa.Text(), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("winners_json", sa.Text(), nullable=False),
        sa.Column("drawn_at", UtcDateTime(), nullable=True),
        sa.Column("paying", sa.Boolean(), nullable=False),
        sa.Column("paid_at", UtcDateTime(), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("draw_mode IN ('lottery', 'beacon')", name=op.f("ck_raffles_draw_mode")),
        sa.CheckConstraint(
            "status <> 'drawn' OR drawn_at IS NOT NULL", name=op.f("ck_raffles_drawn_at")
        ),
        sa.CheckConstraint(
            "status = 'open' OR closed_at IS NOT NULL", name=op.f("ck_raffles_closed_at")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'closed', 'drawn', 'voided')", name=op.f("ck_raffles_status")
        ),
        sa.CheckConstraint(
            "min_tickets >= winners AND min_tickets <= capacity",
            name=op.f("ck_raffles_min_tickets"),
        ),
        sa.CheckConstraint("sold >= 0 AND sold <= capacity", name=op.f("ck_raffles_sold_range")),
        sa.ForeignKeyConstraint(
            ["escrow_account_id"],
            ["accounts.id"],
            name=op.f("fk_raffles_escrow_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raffles")),
    )
    with op.batch_alter_table("raffles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_raffles_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text(
                "status = 'open' OR paid_at IS NULL AND status IN ('drawn', 'voided')"
            ),
            sqlite_where=sa.text(
                "status = 'open' OR paid_at IS NULL AND status IN ('drawn', 'voided')"
            ),
        )

    op.create_table(
        "raffle_tickets",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("raffle_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("wallet_account_id", sa.BigInteger(), nullable=False),
        sa.Column("purchase", sa.String(length=128), nullable=False),
        sa.Column("bought_at", UtcDateTime(), nullable=False),
        sa.Column("prize", sa.BigInteger(), nullable=False),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.CheckConstraint("number >= 0", name=op.f("ck_raffle_tickets_number_not_negative")),
        sa.CheckConstraint("price > 0 AND prize >= 0", name=op.f("ck_raffle_tickets_amounts")),
        sa.ForeignKeyConstraint(
            ["raffle_id"], ["raffles.id"], name=op.f("fk_raffle_tickets_raffle_id_raffles")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_raffle_tickets_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_account_id"],
            ["accounts.id"],
            name=op.f("fk_raffle_tickets_wallet_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raffle_tickets")),
        sa.UniqueConstraint("raffle_id", "number", name="uq_raffle_tickets_raffle_number"),
    )
    with op.batch_alter_table("raffle_tickets", schema=None) as batch_op:
        batch_op.create_index("ix_raffle_tickets_purchase", ["purchase"], unique=False)
        batch_op.create_index(
            "ix_raffle_tickets_raffle_user", ["raffle_id", "user_id"], unique=False
        )
        batch_op.create_index("ix_raffle_tickets_user_id", ["user_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("raffle_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_raffle_tickets_user_id")
        batch_op.drop_index("ix_raffle_tickets_raffle_user")
        batch_op.drop_index("ix_raffle_tickets_purchase")

    op.drop_table("raffle_tickets")
    with op.batch_alter_table("raffles", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_raffles_pending",
            postgresql_where=sa.text(
                "status = 'open' OR paid_at IS NULL AND status IN ('drawn', 'voided')"
            ),
            sqlite_where=sa.text(
                "status = 'open' OR paid_at IS NULL AND status IN ('drawn', 'voided')"
            ),
        )

    op.drop_table("raffles")
    op.drop_table("raffle_categories")

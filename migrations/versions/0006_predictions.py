"""price predictions: contracts, the house's exposure rows, rounds and round bets

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wagerkit.adapters.sql.tables import ExactPrice, UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN = sa.text("status = 'open'")
_UNRESOLVED = sa.text("status NOT IN ('settled', 'voided')")


def upgrade() -> None:
    op.create_table(
        "prediction_contracts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("stake", sa.BigInteger(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("placed_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("entry_price", ExactPrice(), nullable=False),
        sa.Column("entry_at", UtcDateTime(), nullable=False),
        sa.Column("max_payout", sa.BigInteger(), nullable=False),
        sa.Column("stake_transfer_id", sa.String(length=128), nullable=False),
        sa.Column("payout_bps", sa.Integer(), nullable=False),
        sa.Column("leverage", sa.Integer(), nullable=True),
        sa.Column("cap", sa.Integer(), nullable=False),
        sa.Column("tie_rule", sa.String(length=4), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("exit_price", ExactPrice(), nullable=True),
        sa.Column("exit_at", UtcDateTime(), nullable=True),
        sa.Column("payout", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("closed_early", sa.Boolean(), nullable=False),
        sa.Column("void_reason", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'won', 'lost', 'push', 'void')",
            name=op.f("ck_prediction_contracts_status"),
        ),
        sa.CheckConstraint(
            "direction IN ('up', 'down')", name=op.f("ck_prediction_contracts_direction")
        ),
        sa.CheckConstraint(
            "kind IN ('fixed', 'multiplier')", name=op.f("ck_prediction_contracts_kind")
        ),
        sa.CheckConstraint(
            "stake > 0 AND commission >= 0 AND max_payout >= stake",
            name=op.f("ck_prediction_contracts_amounts"),
        ),
        sa.CheckConstraint(
            "payout IS NULL OR payout >= 0",
            name=op.f("ck_prediction_contracts_payout_not_negative"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (payout IS NULL)",
            name=op.f("ck_prediction_contracts_resolved_has_payout"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_prediction_contracts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_contracts")),
        sa.UniqueConstraint(
            "stake_transfer_id", name=op.f("uq_prediction_contracts_stake_transfer_id")
        ),
    )
    op.create_index(
        "ix_prediction_contracts_user", "prediction_contracts", ["user_id", "id"], unique=False
    )
    op.create_index(
        "ix_prediction_contracts_due",
        "prediction_contracts",
        ["expires_at"],
        unique=False,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )
    op.create_table(
        "prediction_exposure",
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_prediction_exposure_amount_not_negative")),
        sa.PrimaryKeyConstraint("currency", "symbol", name=op.f("pk_prediction_exposure")),
    )
    op.create_table(
        "prediction_rounds",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("symbol", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("lock_at", UtcDateTime(), nullable=False),
        sa.Column("close_at", UtcDateTime(), nullable=False),
        sa.Column("bets_close_at", UtcDateTime(), nullable=False),
        sa.Column("rake_bps", sa.Integer(), nullable=False),
        sa.Column("escrow_account_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("up_total", sa.BigInteger(), nullable=False),
        sa.Column("down_total", sa.BigInteger(), nullable=False),
        sa.Column("up_count", sa.Integer(), nullable=False),
        sa.Column("down_count", sa.Integer(), nullable=False),
        sa.Column("lock_price", ExactPrice(), nullable=True),
        sa.Column("lock_tick_at", UtcDateTime(), nullable=True),
        sa.Column("close_price", ExactPrice(), nullable=True),
        sa.Column("close_tick_at", UtcDateTime(), nullable=True),
        sa.Column("winner", sa.String(length=4), nullable=True),
        sa.Column("rake", sa.BigInteger(), nullable=False),
        sa.Column("void_reason", sa.String(length=500), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'locked', 'settling', 'settled', 'voiding', 'voided')",
            name=op.f("ck_prediction_rounds_status"),
        ),
        sa.CheckConstraint(
            "up_total >= 0 AND down_total >= 0 AND rake >= 0",
            name=op.f("ck_prediction_rounds_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["escrow_account_id"],
            ["accounts.id"],
            name=op.f("fk_prediction_rounds_escrow_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_rounds")),
        sa.UniqueConstraint("symbol", "starts_at", name="uq_prediction_rounds_symbol_starts_at"),
    )
    op.create_index(
        "ix_prediction_rounds_unresolved",
        "prediction_rounds",
        ["id"],
        unique=False,
        postgresql_where=_UNRESOLVED,
        sqlite_where=_UNRESOLVED,
    )
    op.create_table(
        "prediction_round_bets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("wallet_account_id", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", UtcDateTime(), nullable=False),
        sa.Column("transfer_id", sa.String(length=128), nullable=False),
        sa.Column("payout", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "direction IN ('up', 'down')", name=op.f("ck_prediction_round_bets_direction")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_prediction_round_bets_amount_positive")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["prediction_rounds.id"],
            name=op.f("fk_prediction_round_bets_round_id_prediction_rounds"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_prediction_round_bets_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_account_id"],
            ["accounts.id"],
            name=op.f("fk_prediction_round_bets_wallet_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_round_bets")),
        sa.UniqueConstraint("round_id", "user_id", name="uq_prediction_round_bets_round_user"),
    )
    op.create_index(
        "ix_prediction_round_bets_user", "prediction_round_bets", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_prediction_round_bets_user", table_name="prediction_round_bets")
    op.drop_table("prediction_round_bets")
    op.drop_index("ix_prediction_rounds_unresolved", table_name="prediction_rounds")
    op.drop_table("prediction_rounds")
    op.drop_table("prediction_exposure")
    op.drop_index("ix_prediction_contracts_due", table_name="prediction_contracts")
    op.drop_index("ix_prediction_contracts_user", table_name="prediction_contracts")
    op.drop_table("prediction_contracts")

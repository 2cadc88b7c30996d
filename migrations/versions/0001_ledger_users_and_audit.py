"""ledger, users and audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22 15:24:08.793456
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wagerkit.adapters.sql.tables import UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('user', 'treasury', 'house', 'escrow', 'external')",
            name=op.f("ck_accounts_kind"),
        ),
        sa.CheckConstraint(
            "(flags & 1) = 0 OR debits_posted + debits_pending <= credits_posted",
            name=op.f("ck_accounts_debits_must_not_exceed_credits"),
        ),
        sa.CheckConstraint(
            "(flags & 2) = 0 OR credits_posted + credits_pending <= debits_posted",
            name=op.f("ck_accounts_credits_must_not_exceed_debits"),
        ),
        sa.CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
            name=op.f("ck_accounts_totals_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("kind", "owner", "currency", name="uq_accounts_kind_owner_currency"),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_owner", ["owner"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_target", ["target"], unique=False)

    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("whitelisted", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("rating_sum", sa.BigInteger(), nullable=False),
        sa.Column("rating_count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("role IN ('player', 'operator', 'admin')", name=op.f("ck_users_role")),
        sa.CheckConstraint("status IN ('active', 'banned')", name=op.f("ck_users_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_users_telegram_id")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "transfers",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("debit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("pending_id", sa.String(length=128), nullable=True),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("memo", sa.String(length=500), nullable=False),
        sa.Column("timestamp", UtcDateTime(), nullable=False),
        sa.Column("debit_balance_after", sa.BigInteger(), nullable=False),
        sa.Column("debit_available_after", sa.BigInteger(), nullable=False),
        sa.Column("credit_balance_after", sa.BigInteger(), nullable=False),
        sa.Column("credit_available_after", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "(kind IN ('post', 'void')) = (pending_id IS NOT NULL)",
            name=op.f("ck_transfers_pending_id_iff_resolution"),
        ),
        sa.CheckConstraint(
            "kind IN ('single', 'pending', 'post', 'void')", name=op.f("ck_transfers_kind")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_transfers_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id", name=op.f("ck_transfers_distinct_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["accounts.id"],
            name=op.f("fk_transfers_credit_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["accounts.id"],
            name=op.f("fk_transfers_debit_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_transfers")),
        sa.UniqueConstraint("id", name=op.f("uq_transfers_id")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_transfers_pending_id")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index("ix_transfers_credit", ["credit_account_id", "seq"], unique=False)
        batch_op.create_index("ix_transfers_debit", ["debit_account_id", "seq"], unique=False)
        batch_op.create_index(
            "ix_transfers_expiring",
            ["expires_at"],
            unique=False,
            postgresql_where=sa.text("expires_at IS NOT NULL"),
            sqlite_where=sa.text("expires_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_transfers_expiring",
            postgresql_where=sa.text("expires_at IS NOT NULL"),
            sqlite_where=sa.text("expires_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_transfers_debit")
        batch_op.drop_index("ix_transfers_credit")

    op.drop_table("transfers")
    op.drop_table("users")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_target")

    op.drop_table("audit_log")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_owner")

    op.drop_table("accounts")

"""The metadata, the column types every area uses, and the core tables: users, the
ledger (accounts, transfers), audit and payments."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT primary keys that still autoincrement on SQLite (which needs INTEGER for that)
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("display_name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("telegram_id", BigInteger, unique=True),
    Column("username", String(64), unique=True),
    Column("email", String(254), unique=True),
    Column("password_hash", Text),
    Column("whitelisted", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("rating_sum", BigInteger, nullable=False, default=0),
    Column("rating_count", BigInteger, nullable=False, default=0),
    CheckConstraint("role IN ('player', 'operator', 'admin')", name="role"),
    CheckConstraint("status IN ('active', 'banned')", name="status"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("currency", String(10), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("flags", Integer, nullable=False, default=0),
    Column("debits_posted", BigInteger, nullable=False, default=0),
    Column("credits_posted", BigInteger, nullable=False, default=0),
    Column("debits_pending", BigInteger, nullable=False, default=0),
    Column("credits_pending", BigInteger, nullable=False, default=0),
    UniqueConstraint("kind", "owner", "currency", name="uq_accounts_kind_owner_currency"),
    CheckConstraint("kind IN ('user', 'treasury', 'house', 'escrow', 'external')", name="kind"),
    CheckConstraint(
        "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
        name="totals_not_negative",
    ),
    CheckConstraint(
        "(flags & 1) = 0 OR debits_posted + debits_pending <= credits_posted",
        name="debits_must_not_exceed_credits",
    ),
    CheckConstraint(
        "(flags & 2) = 0 OR credits_posted + credits_pending <= debits_posted",
        name="credits_must_not_exceed_debits",
    ),
)
Index("ix_accounts_owner", accounts.c.owner)
# balances are rewritten on every transfer: leave room on each page so that PostgreSQL can
# update them in place (HOT), without new entries in the account indexes
event.listen(
    accounts,
    "after_create",
    DDL("ALTER TABLE accounts SET (fillfactor = 50)").execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)

transfers = Table(
    "transfers",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(128), nullable=False, unique=True),
    Column("debit_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("credit_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(10), nullable=False),
    Column("code", String(32), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("pending_id", String(128)),
    Column("timeout_seconds", Integer, nullable=False, default=0),
    Column("expires_at", UtcDateTime),
    Column("reference", String(128), nullable=False, default=""),
    Column("memo", String(500), nullable=False, default=""),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("debit_balance_after", BigInteger, nullable=False),
    Column("debit_available_after", BigInteger, nullable=False),
    Column("credit_balance_after", BigInteger, nullable=False),
    Column("credit_available_after", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
    CheckConstraint("kind IN ('single', 'pending', 'post', 'void')", name="kind"),
    CheckConstraint(
        "(kind IN ('post', 'void')) = (pending_id IS NOT NULL)", name="pending_id_iff_resolution"
    ),
)
# a hold is resolved at most once; partial, so the many NULLs of ordinary transfers cost nothing
Index(
    "uq_transfers_pending_id",
    transfers.c.pending_id,
    unique=True,
    postgresql_where=transfers.c.pending_id.isnot(None),
    sqlite_where=transfers.c.pending_id.isnot(None),
)
Index("ix_transfers_debit", transfers.c.debit_account_id, transfers.c.seq)
Index("ix_transfers_credit", transfers.c.credit_account_id, transfers.c.seq)
Index(
    "ix_transfers_expiring",
    transfers.c.expires_at,
    postgresql_where=transfers.c.expires_at.isnot(None),
    sqlite_where=transfers.c.expires_at.isnot(None),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("actor_name", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("details", Text, nullable=False, default="{}"),
)
Index("ix_audit_log_target", audit_log.c.target)

# -- payments: deposits and withdrawals (docs/payments.md) ------------------------------------
payments = Table(
    "payments",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(96), nullable=False, unique=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("provider_reference", String(128)),
    Column("hold_transfer_id", String(128)),
    Column("settle_transfer_id", String(128)),
    Column("failure_reason", String(500), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # replay safety: one provider reference names one payment (NULLs do not clash)
    UniqueConstraint("provider", "provider_reference", name="uq_payments_provider_reference"),
    CheckConstraint("kind IN ('deposit', 'withdrawal')", name="kind"),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(
        "(kind = 'withdrawal') = (hold_transfer_id IS NOT NULL)", name="hold_iff_withdrawal"
    ),
    CheckConstraint("status <> 'pending' OR settle_transfer_id IS NULL", name="pending_unsettled"),
)
Index("ix_payments_user_seq", payments.c.user_id, payments.c.seq)


class ExactPrice(TypeDecorator[Decimal]):
    """An exact price (``domain.prices``: > 0, at most 18 decimals and 20 integer digits).
    PostgreSQL: ``NUMERIC(38, 18)``. SQLite has no exact numeric (its NUMERIC affinity and
    SQLAlchemy's ``Numeric`` both go through a float), so there the price is stored as its
    plain decimal text, which reads back exactly."""

    impl = Numeric(38, 18, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(38, 18, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise ValueError("prices are stored from Decimal only")
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return Decimal(value) if isinstance(value, str) else value

"""Prices and price predictions (docs/prices.md, docs/predictions.md)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from .base import BigId, ExactPrice, UtcDateTime, metadata

# price ticks (docs/prices.md): one row per (symbol, observed_at, source); the primary key's
# index serves every read, which is by symbol and a time range
price_ticks = Table(
    "price_ticks",
    metadata,
    Column("symbol", String(20), primary_key=True),
    Column("observed_at", UtcDateTime, primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("price", ExactPrice, nullable=False),
    CheckConstraint("price > 0", name="price_positive"),
)

# -- price predictions (docs/predictions.md) ---------------------------------------------------
_CONTRACT_STATUSES = "'open', 'won', 'lost', 'push', 'void'"
_ROUND_STATUSES = "'open', 'locked', 'settling', 'settled', 'voiding', 'voided'"
prediction_contracts = Table(
    "prediction_contracts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("currency", String(10), nullable=False),
    Column("symbol", String(20), nullable=False),
    Column("direction", String(4), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("stake", BigInteger, nullable=False),
    Column("duration", Integer, nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("entry_price", ExactPrice, nullable=False),
    Column("entry_at", UtcDateTime, nullable=False),
    Column("max_payout", BigInteger, nullable=False),
    # the stake's ledger transfer id: a replayed idempotency key finds its contract here
    Column("stake_transfer_id", String(128), nullable=False, unique=True),
    Column("payout_bps", Integer, nullable=False, default=0),
    Column("leverage", Integer),
    Column("cap", Integer, nullable=False, default=0),
    Column("tie_rule", String(4), nullable=False),
    Column("commission", BigInteger, nullable=False, default=0),
    Column("status", String(8), nullable=False),
    Column("exit_price", ExactPrice),
    Column("exit_at", UtcDateTime),
    Column("payout", BigInteger),
    Column("resolved_at", UtcDateTime),
    Column("closed_early", Boolean, nullable=False, default=False),
    Column("void_reason", String(500), nullable=False, default=""),
    CheckConstraint(f"status IN ({_CONTRACT_STATUSES})", name="status"),
    CheckConstraint("direction IN ('up', 'down')", name="direction"),
    CheckConstraint("kind IN ('fixed', 'multiplier')", name="kind"),
    CheckConstraint("stake > 0 AND commission >= 0 AND max_payout >= stake", name="amounts"),
    CheckConstraint("payout IS NULL OR payout >= 0", name="payout_not_negative"),
    CheckConstraint("(status = 'open') = (payout IS NULL)", name="resolved_has_payout"),
)
Index("ix_prediction_contracts_user", prediction_contracts.c.user_id, prediction_contracts.c.id)
# the job runner's claim: open contracts by expiry (partial: resolved ones cost nothing)
Index(
    "ix_prediction_contracts_due",
    prediction_contracts.c.expires_at,
    postgresql_where=text("status = 'open'"),
    sqlite_where=text("status = 'open'"),
)

# the house's exposure (sum of open contracts' maximum payouts) per currency and symbol; the
# row of symbol '*' is the total. Placements lock the rows they change (the total first).
prediction_exposure = Table(
    "prediction_exposure",
    metadata,
    Column("currency", String(10), primary_key=True),
    Column("symbol", String(20), primary_key=True),
    Column("amount", BigInteger, nullable=False, default=0),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
)

prediction_rounds = Table(
    "prediction_rounds",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("symbol", String(20), nullable=False),
    Column("currency", String(10), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("lock_at", UtcDateTime, nullable=False),
    Column("close_at", UtcDateTime, nullable=False),
    Column("bets_close_at", UtcDateTime, nullable=False),
    Column("rake_bps", Integer, nullable=False, default=0),
    Column("escrow_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("up_total", BigInteger, nullable=False, default=0),
    Column("down_total", BigInteger, nullable=False, default=0),
    Column("up_count", Integer, nullable=False, default=0),
    Column("down_count", Integer, nullable=False, default=0),
    Column("lock_price", ExactPrice),
    Column("lock_tick_at", UtcDateTime),
    Column("close_price", ExactPrice),
    Column("close_tick_at", UtcDateTime),
    Column("winner", String(4)),
    Column("rake", BigInteger, nullable=False, default=0),
    Column("void_reason", String(500), nullable=False, default=""),
    Column("updated_at", UtcDateTime),
    # the job runner creates each grid slot's round once, however many runners there are
    UniqueConstraint("symbol", "starts_at", name="uq_prediction_rounds_symbol_starts_at"),
    CheckConstraint(f"status IN ({_ROUND_STATUSES})", name="status"),
    CheckConstraint("up_total >= 0 AND down_total >= 0 AND rake >= 0", name="amounts"),
)
Index(
    "ix_prediction_rounds_unresolved",
    prediction_rounds.c.id,
    postgresql_where=text("status NOT IN ('settled', 'voided')"),
    sqlite_where=text("status NOT IN ('settled', 'voided')"),
)

prediction_round_bets = Table(
    "prediction_round_bets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("round_id", BigInteger, ForeignKey("prediction_rounds.id"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("direction", String(4), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("wallet_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("transfer_id", String(128), nullable=False),
    Column("payout", BigInteger),
    UniqueConstraint("round_id", "user_id", name="uq_prediction_round_bets_round_user"),
    CheckConstraint("direction IN ('up', 'down')", name="direction"),
    CheckConstraint("amount > 0", name="amount_positive"),
)
Index("ix_prediction_round_bets_user", prediction_round_bets.c.user_id)

"""Raffles and their tickets (docs/raffles.md)."""

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
    Text,
    UniqueConstraint,
    text,
)

from .base import BigId, UtcDateTime, metadata

# -- raffles (docs/raffles.md) ------------------------------------------------------------------
_RAFFLE_STATUSES = "'open', 'closed', 'drawn', 'voided'"
# raffles a job may still have to act on (claim_due); a partial index covers them
_RAFFLE_PENDING = "status = 'open' OR paid_at IS NULL AND status IN ('drawn', 'voided')"

raffle_categories = Table(
    "raffle_categories",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("ticket_price", BigInteger, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("winners", Integer, nullable=False),
    Column("rake_bps", Integer, nullable=False),
    Column("split", String(800), nullable=False),  # "50,30,20", or "" for equal shares
    Column("prize_mode", String(16), nullable=False),
    Column("colour", String(32), nullable=False),
    Column("currency", String(10), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("ticket_price > 0 AND capacity > 0", name="price_capacity_positive"),
    CheckConstraint("winners >= 1 AND winners <= capacity", name="winners_range"),
    CheckConstraint("rake_bps >= 0 AND rake_bps <= 10000", name="rake_bps_range"),
    CheckConstraint("prize_mode IN ('proportional', 'guaranteed')", name="prize_mode"),
)

raffles = Table(
    "raffles",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    # the category's terms, copied in at creation (a category edit never changes a raffle)
    Column("category_id", BigInteger, nullable=False),
    Column("category_name", String(100), nullable=False),
    Column("ticket_price", BigInteger, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("winners", Integer, nullable=False),
    Column("rake_bps", Integer, nullable=False),
    Column("split", String(800), nullable=False),
    Column("prize_mode", String(16), nullable=False),
    Column("colour", String(32), nullable=False),
    Column("currency", String(10), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("min_tickets", Integer, nullable=False),
    Column("max_per_user", Integer, nullable=False),
    Column("draw_mode", String(16), nullable=False),
    Column("lottery_name", String(100), nullable=False),
    Column("lottery_schedule", String(200), nullable=False),
    Column("lottery_url", String(500), nullable=False),
    Column("status", String(16), nullable=False),
    Column("escrow_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("sold", Integer, nullable=False, default=0),
    Column("commitment", String(64)),
    Column("closed_at", UtcDateTime),
    Column("public_value", Text),
    Column("drawn_numbers", Text, nullable=False, default="[]"),  # JSON
    Column("provenance", Text, nullable=False, default="{}"),  # JSON
    Column("winners_json", Text, nullable=False, default="[]"),  # JSON [[number, user, prize]]
    Column("drawn_at", UtcDateTime),
    Column("paying", Boolean, nullable=False, default=False),
    Column("paid_at", UtcDateTime),
    Column("void_reason", String(500), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(f"status IN ({_RAFFLE_STATUSES})", name="status"),
    CheckConstraint("draw_mode IN ('lottery', 'beacon')", name="draw_mode"),
    CheckConstraint("sold >= 0 AND sold <= capacity", name="sold_range"),
    CheckConstraint("min_tickets >= winners AND min_tickets <= capacity", name="min_tickets"),
    CheckConstraint("status = 'open' OR closed_at IS NOT NULL", name="closed_at"),
    CheckConstraint("status <> 'drawn' OR drawn_at IS NOT NULL", name="drawn_at"),
)
Index(
    "ix_raffles_pending",
    raffles.c.id,
    postgresql_where=text(_RAFFLE_PENDING),
    sqlite_where=text(_RAFFLE_PENDING),
)

raffle_tickets = Table(
    "raffle_tickets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("raffle_id", BigInteger, ForeignKey("raffles.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("wallet_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("purchase", String(128), nullable=False),  # the purchase's transfer id
    Column("bought_at", UtcDateTime, nullable=False),
    Column("prize", BigInteger, nullable=False, default=0),
    Column("refunded", Boolean, nullable=False, default=False),
    # a number is sold once
    UniqueConstraint("raffle_id", "number", name="uq_raffle_tickets_raffle_number"),
    CheckConstraint("number >= 0", name="number_not_negative"),
    CheckConstraint("price > 0 AND prize >= 0", name="amounts"),
)
Index("ix_raffle_tickets_user_id", raffle_tickets.c.user_id, raffle_tickets.c.id)
Index("ix_raffle_tickets_raffle_user", raffle_tickets.c.raffle_id, raffle_tickets.c.user_id)
Index("ix_raffle_tickets_purchase", raffle_tickets.c.purchase)

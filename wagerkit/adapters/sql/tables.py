"""The schema, as SQLAlchemy Core tables. Alembic migrations must produce exactly this (a test
compares them). Constraints back every invariant SQL can state: balances never negative, a
user wallet never below zero holds included, unique transfer ids, a pending transfer resolved
at most once (unique ``pending_id``), one account per (kind, owner, currency)."""

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
    ForeignKeyConstraint,
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
    text,
)

__all__ = [
    "accounts",
    "audit_log",
    "bets",
    "chat_messages",
    "chat_mutes",
    "event_outcomes",
    "events",
    "metadata",
    "order_categories",
    "order_complaints",
    "order_preferences",
    "order_reports",
    "order_reviews",
    "order_subscriptions",
    "order_takes",
    "orders",
    "payments",
    "prediction_contracts",
    "prediction_exposure",
    "prediction_round_bets",
    "prediction_rounds",
    "price_ticks",
    "raffle_categories",
    "raffle_tickets",
    "raffles",
    "transfers",
    "users",
]

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

# -- pari-mutuel events, bets and chat (docs/events.md) ---------------------------------------
_EVENT_STATUSES = "'scheduled', 'open', 'locked', 'settling', 'settled', 'voiding', 'voided'"
# the statuses a job may still have to act on (claim_due); a partial index covers them
_UNRESOLVED = "status IN ('scheduled', 'open', 'locked', 'settling', 'voiding')"

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("stream_type", String(16), nullable=False),
    Column("stream_url", String(2000), nullable=False, default=""),
    Column("currency", String(10), nullable=False),
    Column("min_stake", BigInteger, nullable=False),
    Column("max_stake", BigInteger, nullable=False),
    Column("rake_bps", Integer, nullable=False, default=0),
    Column("start_time", UtcDateTime, nullable=False),
    Column("betting_locked_at", UtcDateTime, nullable=False),
    Column("settle_deadline", UtcDateTime, nullable=False),
    Column("allow_topup", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column("escrow_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("created_by", BigInteger),  # an actor's user id, like audit_log.actor_id
    # the winner; no FK (event_outcomes already refers to events), checked by the service
    Column("winning_outcome_id", BigInteger),
    Column("locked_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("bet_count", Integer, nullable=False, default=0),
    CheckConstraint(f"status IN ({_EVENT_STATUSES})", name="status"),
    CheckConstraint("stream_type IN ('youtube', 'twitch', 'custom')", name="stream_type"),
    CheckConstraint("rake_bps >= 0 AND rake_bps <= 1000", name="rake_bps_range"),
    CheckConstraint("min_stake > 0 AND min_stake <= max_stake", name="stake_range"),
    CheckConstraint("bet_count >= 0", name="bet_count_not_negative"),
    CheckConstraint(
        "status NOT IN ('settling', 'settled') OR winning_outcome_id IS NOT NULL",
        name="settled_has_winner",
    ),
)
Index(
    "ix_events_unresolved",
    events.c.id,
    postgresql_where=text(_UNRESOLVED),
    sqlite_where=text(_UNRESOLVED),
)

event_outcomes = Table(
    "event_outcomes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", BigInteger, ForeignKey("events.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("position", Integer, nullable=False),
    Column("total", BigInteger, nullable=False, default=0),
    Column("bettors", Integer, nullable=False, default=0),
    UniqueConstraint("event_id", "position", name="uq_event_outcomes_event_position"),
    # the target of bets' (outcome_id, event_id) foreign key
    UniqueConstraint("id", "event_id", name="uq_event_outcomes_id_event"),
    CheckConstraint("total >= 0", name="total_not_negative"),
    CheckConstraint("bettors >= 0", name="bettors_not_negative"),
    # an edit replaces the outcomes: never hand a deleted outcome's id to a new one (a client
    # still showing the old outcomes must get "unknown outcome", not a bet on another)
    sqlite_autoincrement=True,
)

bets = Table(
    "bets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),  # order of first placement
    # (outcome_id, event_id) refers to event_outcomes, which refers to events: the bet's
    # outcome is one of the bet's event (one FK check per row, not two)
    Column("event_id", BigInteger, nullable=False),
    Column("outcome_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("wallet_account_id", BigInteger, ForeignKey("accounts.id"), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("payout", BigInteger),
    Column("placements", Integer, nullable=False, default=1),
    # one bet per user per event: top-ups add to it
    UniqueConstraint("event_id", "user_id", name="uq_bets_event_user"),
    ForeignKeyConstraint(
        ["outcome_id", "event_id"],
        ["event_outcomes.id", "event_outcomes.event_id"],
        name="fk_bets_outcome_id_event_outcomes",
    ),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("status IN ('open', 'won', 'lost', 'refunded')", name="status"),
    CheckConstraint("payout IS NULL OR payout >= 0", name="payout_not_negative"),
    CheckConstraint("(status = 'open') = (payout IS NULL)", name="payout_iff_decided"),
    CheckConstraint("placements >= 1", name="placements_positive"),
)
Index("ix_bets_user_id", bets.c.user_id, bets.c.id)  # "my bets", newest first
Index("ix_bets_event_id", bets.c.event_id, bets.c.id)  # settlement and an event's bets, by id

chat_messages = Table(
    "chat_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", BigInteger, ForeignKey("events.id"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("author", String(64), nullable=False),
    Column("text", String(500), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    CheckConstraint('length("text") BETWEEN 1 AND 500', name="text_length"),
)
Index("ix_chat_messages_event_id", chat_messages.c.event_id, chat_messages.c.id)

chat_mutes = Table(
    "chat_mutes",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("until", UtcDateTime),  # NULL: until unmuted
    Column("reason", String(500), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", BigInteger),
)

# outcome totals and events' bet counts are rewritten by every bet batch: room for HOT updates
for _hot in (events, event_outcomes):
    event.listen(
        _hot,
        "after_create",
        DDL(f"ALTER TABLE {_hot.name} SET (fillfactor = 50)").execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
    )


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
# -- the service-order marketplace (docs/orders.md) -------------------------------------------
_ORDER_STATUSES = "'active', 'completed', 'expired', 'deleted', 'closed_no_response', 'closed'"
_ACTIVE = "status = 'active'"

order_categories = Table(
    "order_categories",
    metadata,
    Column("slug", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("max_executors", Integer, nullable=False),
    Column("lifetime_minutes", Integer, nullable=False),
    Column("response_minutes", Integer, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    CheckConstraint("fee >= 0", name="fee_not_negative"),
    CheckConstraint("max_executors >= 1", name="max_executors_positive"),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(12), primary_key=True),
    Column("client_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("city", String(100), nullable=False),
    Column("city_key", String(100), nullable=False),  # casefolded, for filters
    Column("contact", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("max_executors", Integer, nullable=False),
    Column("response_minutes", Integer, nullable=False),
    Column("currency", String(10), nullable=False),
    Column("takers", Integer, nullable=False, default=0),
    Column("responded", Boolean, nullable=False, default=False),
    Column("respond_by", UtcDateTime),
    Column("closed_at", UtcDateTime),
    CheckConstraint(f"status IN ({_ORDER_STATUSES})", name="status"),
    CheckConstraint("takers >= 0 AND takers <= max_executors", name="takers_range"),
    CheckConstraint("fee >= 0", name="fee_not_negative"),
)
# one active order per contact
Index(
    "ix_orders_active_contact",
    orders.c.contact,
    unique=True,
    postgresql_where=text(_ACTIVE),
    sqlite_where=text(_ACTIVE),
)
# the job runner's claim and the public listing of active orders
Index(
    "ix_orders_active_due",
    orders.c.expires_at,
    postgresql_where=text(_ACTIVE),
    sqlite_where=text(_ACTIVE),
)
Index("ix_orders_created_at", orders.c.created_at)
Index("ix_orders_client_id", orders.c.client_id)

order_takes = Table(
    "order_takes",
    metadata,
    Column("order_id", String(12), ForeignKey("orders.id"), primary_key=True),
    Column("executor_id", BigInteger, ForeignKey("users.id"), primary_key=True),
    Column("fee", BigInteger, nullable=False),
    Column("transfer_id", String(128), nullable=False),
    Column("taken_at", UtcDateTime, nullable=False),
    Column("refunded", Boolean, nullable=False, default=False),
    CheckConstraint("fee >= 0", name="fee_not_negative"),
)
Index("ix_order_takes_executor_id", order_takes.c.executor_id)

order_reports = Table(
    "order_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(12), ForeignKey("orders.id"), nullable=False),
    Column("executor_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("decided_by", BigInteger),
    UniqueConstraint("order_id", "executor_id", name="uq_order_reports_order_executor"),
    CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status"),
)
Index("ix_order_reports_executor_id", order_reports.c.executor_id)

order_reviews = Table(
    "order_reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(12), ForeignKey("orders.id"), nullable=False),
    Column("client_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("executor_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("stars", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("order_id", "executor_id", name="uq_order_reviews_order_executor"),
    CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
)
Index("ix_order_reviews_executor_id", order_reviews.c.executor_id, order_reviews.c.id)

order_complaints = Table(
    "order_complaints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(12), ForeignKey("orders.id"), nullable=False),
    Column("executor_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("order_id", "executor_id", name="uq_order_complaints_order_executor"),
)

order_preferences = Table(
    "order_preferences",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("mode", String(8), nullable=False),
    Column("digest_minutes", Integer, nullable=False),
    Column("phone", String(32), nullable=False, default=""),
    Column("digest_after", UtcDateTime),
    Column("digest_due", UtcDateTime),
    CheckConstraint("mode IN ('instant', 'digest', 'off')", name="mode"),
)

# one row per subscription: kind 'category' (value: slug) or 'city' (value: casefolded name)
order_subscriptions = Table(
    "order_subscriptions",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True, autoincrement=False),
    Column("kind", String(8), primary_key=True),
    Column("value", String(100), primary_key=True),
    Column("label", String(100), nullable=False),  # the value as the user wrote it
    CheckConstraint("kind IN ('category', 'city')", name="kind"),
)
Index("ix_order_subscriptions_kind_value", order_subscriptions.c.kind, order_subscriptions.c.value)

"""Pari-mutuel events, bets and chat (docs/events.md)."""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)

from .base import BigId, UtcDateTime, metadata

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

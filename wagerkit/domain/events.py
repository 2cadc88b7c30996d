"""Pari-mutuel events: streams and matches with 2-10 outcomes to bet on (SPEC section 3).

An ``Event`` moves ``scheduled → open → locked → settled | voided``. Bets are accepted only
while it is ``open`` and the clock is before ``closes_at`` (the earlier of
``betting_locked_at`` and ``start_time``), whatever a job has done yet. Every stake is a ledger
transfer from the bettor's wallet to the event's escrow account; settlement pays the escrow out
to the winners and the house, voiding refunds it, so the escrow ends at zero.

Settling or voiding a large event runs in chunks (one transaction each) under the transitional
statuses ``settling`` / ``voiding``; every payout has a transfer id derived from the bet
(``payout:<event>:<bet>``), so a resumed run never pays twice.

The settlement rule (``settle``) is a pure function. With W the stakes on the winning outcome
and L the stakes on all others:

* rake = floor(L × rake_bps / 10000), taken only from the losing side;
* each winner gets its stake plus floor(stake × (L − rake) / W); the units left over go one
  each to the winners with the largest remainders (ties: the earliest bet);
* payouts + rake = pool exactly; if W = 0 every stake is refunded and no rake is taken.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from .errors import (
    AlreadyBet,
    BettingClosed,
    EventStateConflict,
    InvalidAmount,
    InvalidInput,
    StakeOutOfRange,
    UnknownOutcome,
)
from .money import MAX_AMOUNT
from .text import clean_text

__all__ = [
    "MAX_OUTCOMES",
    "MAX_RAKE_BPS",
    "MIN_OUTCOMES",
    "Bet",
    "BetStake",
    "BetStatus",
    "Event",
    "EventDraft",
    "EventStatus",
    "Outcome",
    "OutcomePool",
    "PoolView",
    "Settlement",
    "StreamType",
    "check_bet",
    "pool_view",
    "rake_of",
    "settle",
    "validate_draft",
]

MIN_OUTCOMES = 2
MAX_OUTCOMES = 10
MAX_RAKE_BPS = 1000
DEFAULT_SETTLE_AFTER = timedelta(hours=24)
BET_CODE = "stake"  # ledger codes of the transfers events make
PAYOUT_CODE = "payout"
RAKE_CODE = "rake"
REFUND_CODE = "refund"


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    LOCKED = "locked"
    SETTLING = "settling"  # winner chosen, payouts under way (resumable)
    SETTLED = "settled"
    VOIDING = "voiding"  # refunds under way (resumable)
    VOIDED = "voided"

    @property
    def final(self) -> bool:
        return self in (EventStatus.SETTLED, EventStatus.VOIDED)

    @property
    def resolving(self) -> bool:
        return self in (EventStatus.SETTLING, EventStatus.VOIDING)


class StreamType(StrEnum):
    YOUTUBE = "youtube"
    TWITCH = "twitch"
    CUSTOM = "custom"


class BetStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Outcome:
    id: int
    name: str
    position: int
    total: int = 0  # stakes on this outcome
    bettors: int = 0


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What an operator supplies to create (or, before any bet, edit) an event."""

    title: str
    outcomes: tuple[str, ...]
    start_time: datetime
    betting_locked_at: datetime | None = None
    description: str = ""
    stream_type: StreamType = StreamType.CUSTOM
    stream_url: str = ""
    currency: str = "COIN"
    min_stake: int = 1
    max_stake: int = MAX_AMOUNT
    rake_bps: int = 0
    settle_deadline: datetime | None = None
    allow_topup: bool = False
    status: EventStatus = EventStatus.SCHEDULED


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    title: str
    description: str
    stream_type: StreamType
    stream_url: str
    currency: str
    outcomes: tuple[Outcome, ...]
    min_stake: int
    max_stake: int
    rake_bps: int
    start_time: datetime
    betting_locked_at: datetime
    settle_deadline: datetime
    allow_topup: bool
    status: EventStatus
    escrow_account_id: int
    created_at: datetime
    updated_at: datetime
    created_by: int | None = None
    winning_outcome_id: int | None = None
    locked_at: datetime | None = None
    resolved_at: datetime | None = None  # settled or voided
    bet_count: int = 0

    @property
    def closes_at(self) -> datetime:
        """When betting closes: the earlier of ``betting_locked_at`` and ``start_time``."""
        return min(self.betting_locked_at, self.start_time)

    @property
    def pool(self) -> int:
        return sum(o.total for o in self.outcomes)

    def outcome(self, outcome_id: int) -> Outcome:
        for o in self.outcomes:
            if o.id == outcome_id:
                return o
        raise UnknownOutcome(f"outcome {outcome_id} is not an outcome of event {self.id}")

    def accepting_bets(self, now: datetime) -> bool:
        return self.status is EventStatus.OPEN and now < self.closes_at

    def require_betting_open(self, now: datetime) -> None:
        if self.status is not EventStatus.OPEN:
            raise BettingClosed(f"event {self.id} is {self.status.value}, not open for bets")
        if now >= self.closes_at:
            raise BettingClosed(
                f"betting on event {self.id} closed at {self.closes_at.isoformat()}"
            )

    def due_for_lock(self, now: datetime) -> bool:
        return self.status in (EventStatus.SCHEDULED, EventStatus.OPEN) and now >= self.closes_at

    def due_for_void(self, now: datetime) -> bool:
        return (
            self.status in (EventStatus.SCHEDULED, EventStatus.OPEN, EventStatus.LOCKED)
            and now >= self.settle_deadline
        )

    def require_status(self, action: str, *allowed: EventStatus) -> None:
        if self.status not in allowed:
            raise EventStateConflict(f"cannot {action} event {self.id}: it is {self.status.value}")

    def with_status(self, status: EventStatus, now: datetime, **changes: object) -> Event:
        return dataclasses.replace(self, status=status, updated_at=now, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Bet:
    """A user's stake on one outcome. ``amount`` is the whole stake (top-ups included);
    ``id`` orders bets by first placement (the tie-break of settlement)."""

    id: int
    event_id: int
    outcome_id: int
    user_id: int
    amount: int
    wallet_account_id: int
    placed_at: datetime
    updated_at: datetime
    status: BetStatus = BetStatus.OPEN
    payout: int | None = None
    placements: int = 1


@dataclass(frozen=True, slots=True)
class BetStake:
    """The part of a bet settlement needs. ``order`` breaks ties (smaller = earlier)."""

    bet_id: int
    outcome_id: int
    amount: int
    order: int


@dataclass(frozen=True, slots=True)
class Settlement:
    payouts: dict[int, int]  # bet id -> amount paid (0 for losers)
    rake: int
    refund: bool  # W = 0: every stake returned

    @property
    def paid(self) -> int:
        return sum(self.payouts.values())


def rake_of(losing: int, rake_bps: int) -> int:
    """The house's cut: floor(L × rake_bps / 10000) of the losing side's stakes ``losing``."""
    return losing * rake_bps // 10000


def settle(bets: Sequence[BetStake], winner: int, rake_bps: int) -> Settlement:
    """Split the pool between the bets on ``winner`` (see the module docstring)."""
    if not 0 <= rake_bps <= MAX_RAKE_BPS:
        raise InvalidInput(f"rake must be 0-{MAX_RAKE_BPS} basis points")
    winners = [b for b in bets if b.outcome_id == winner]
    w = sum(b.amount for b in winners)
    if w == 0:
        return Settlement({b.bet_id: b.amount for b in bets}, 0, True)
    lose = sum(b.amount for b in bets) - w
    rake = rake_of(lose, rake_bps)
    dist = lose - rake
    payouts = {b.bet_id: 0 for b in bets}
    remainders: list[tuple[int, int, int]] = []  # (-remainder, order, bet id)
    given = 0
    for b in winners:
        share, rem = divmod(b.amount * dist, w)
        payouts[b.bet_id] = b.amount + share
        given += share
        remainders.append((-rem, b.order, b.bet_id))
    leftover = dist - given  # < len(winners): one unit each, largest remainder first
    if leftover:
        remainders.sort()
        for _, _, bet_id in remainders[:leftover]:
            payouts[bet_id] += 1
    return Settlement(payouts, rake, False)


@dataclass(frozen=True, slots=True)
class OutcomePool:
    outcome_id: int
    name: str
    bettors: int
    total: int
    multiplier: str | None  # what 1 unit staked here would return now, e.g. "1.5000"


@dataclass(frozen=True, slots=True)
class PoolView:
    event_id: int
    currency: str
    total: int
    bettors: int
    rake_bps: int
    outcomes: tuple[OutcomePool, ...]


_PLACES = Decimal("0.0001")


def pool_view(event: Event) -> PoolView:
    """Per outcome: bettors, total staked and the implied payout multiplier if it won now
    (pool minus the rake on the other outcomes, over this outcome's stakes; rounded down to
    four places, shown as text so no float carries it)."""
    pool = event.pool
    rows = []
    for o in event.outcomes:
        mult: str | None = None
        if o.total:
            rake = rake_of(pool - o.total, event.rake_bps)
            mult = str((Decimal(pool - rake) / Decimal(o.total)).quantize(_PLACES, ROUND_DOWN))
        rows.append(OutcomePool(o.id, o.name, o.bettors, o.total, mult))
    return PoolView(
        event.id,
        event.currency,
        pool,
        sum(o.bettors for o in event.outcomes),
        event.rake_bps,
        tuple(rows),
    )


def _text(
    value: str, what: str, max_len: int, *, required: bool = True, multiline: bool = False
) -> str:
    """The text rule of ``wagerkit.domain.text``: no control or bidi characters, trimmed,
    capped."""
    return clean_text(value, what, max_length=max_len, required=required, multiline=multiline)


def validate_draft(d: EventDraft) -> EventDraft:
    """Check an event's fields; return them cleaned (trimmed texts, defaults filled in)."""
    title = _text(d.title, "title", 200)
    description = _text(d.description, "description", 5000, required=False, multiline=True)
    url = _text(d.stream_url, "stream_url", 2000, required=False)
    if url and not (url.startswith("https://") or url.startswith("http://")):
        raise InvalidInput("stream_url must be an http(s) URL")
    names = tuple(_text(n, "outcome name", 100) for n in d.outcomes)
    if not MIN_OUTCOMES <= len(names) <= MAX_OUTCOMES:
        raise InvalidInput(f"an event has {MIN_OUTCOMES}-{MAX_OUTCOMES} outcomes")
    if len({n.casefold() for n in names}) != len(names):
        raise InvalidInput("outcome names must be distinct")
    for v, what in ((d.min_stake, "min_stake"), (d.max_stake, "max_stake")):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= MAX_AMOUNT:
            raise InvalidAmount(f"{what} must be a positive integer of minor units")
    if d.min_stake > d.max_stake:
        raise InvalidAmount("min_stake must not exceed max_stake")
    if isinstance(d.rake_bps, bool) or not isinstance(d.rake_bps, int):
        raise InvalidInput("rake_bps must be an integer")
    if not 0 <= d.rake_bps <= MAX_RAKE_BPS:
        raise InvalidInput(f"rake_bps must be 0-{MAX_RAKE_BPS}")
    for t, what in ((d.start_time, "start_time"), (d.betting_locked_at, "betting_locked_at")):
        if t is not None and t.tzinfo is None:
            raise InvalidInput(f"{what} must carry a time zone")
    locked = d.betting_locked_at or d.start_time
    closes = min(locked, d.start_time)
    deadline = d.settle_deadline or closes + DEFAULT_SETTLE_AFTER
    if deadline.tzinfo is None:
        raise InvalidInput("settle_deadline must carry a time zone")
    if deadline <= closes:
        raise InvalidInput("settle_deadline must be after betting closes")
    if d.status not in (EventStatus.SCHEDULED, EventStatus.OPEN):
        raise InvalidInput("a new event is scheduled or open")
    return dataclasses.replace(
        d,
        title=title,
        description=description,
        stream_url=url,
        outcomes=names,
        betting_locked_at=locked,
        settle_deadline=deadline,
    )


def check_bet(
    event: Event, existing: Bet | None, outcome_id: int, amount: int, now: datetime
) -> None:
    """May this user place ``amount`` on ``outcome_id`` now? One bet per user per event, unless
    the event allows topping up the same outcome; ``min_stake`` bounds each placement and
    ``max_stake`` the user's whole stake on the event."""
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise InvalidAmount("amount must be a positive integer of minor units")
    event.outcome(outcome_id)
    event.require_betting_open(now)
    total = amount
    if existing is not None:
        if not event.allow_topup:
            raise AlreadyBet(f"you already bet on event {event.id}")
        if existing.outcome_id != outcome_id:
            raise AlreadyBet("a top-up must be on the outcome of your bet")
        total += existing.amount
    if amount < event.min_stake:
        raise StakeOutOfRange(f"the minimum stake on this event is {event.min_stake}")
    if total > event.max_stake:
        raise StakeOutOfRange(f"the maximum stake on this event is {event.max_stake} in all")


def stakes_of(bets: Iterable[Bet]) -> list[BetStake]:
    return [BetStake(b.id, b.outcome_id, b.amount, b.id) for b in bets]

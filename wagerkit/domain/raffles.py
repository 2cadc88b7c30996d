"""Raffles: categories with prize tables, ticket sales, close, draw and prizes (SPEC section 5).

A ``RaffleCategory`` is a template: ticket price, capacity (numbers ``0 … capacity−1``), rake in
basis points, number of winners, a prize split (equal, or a percentage table such as
50/30/20) and a prize mode. A ``Raffle`` moves ``open → closed → drawn | voided``: tickets are
sold while it is ``open`` and the clock is inside its sale window; ``close`` freezes the
listing and publishes its commitment; below ``min_tickets`` it is voided and every ticket
refunded; otherwise a draw (``domain/draw.py``) picks the winners and the prizes are paid.

Money (``prize_plan``), all in integer minor units:

* ``proportional``: sales = price × sold; rake = floor(sales × rake_bps / 10000) to the house;
  fund = sales − rake. Prizes + rake = sales (the escrow) to the unit.
* ``guaranteed``: collection = price × capacity; fund = collection − floor(collection ×
  rake_bps / 10000) whatever sold; the house receives the sales and pays the fund, so the
  escrow moves ``sales − fund`` to the house (or the house tops the escrow up by the
  difference). Prizes = the advertised fund.
* each prize is the floor of its share of the fund; the leftover units go one each to the
  higher prizes, first prize first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from .errors import (
    InvalidInput,
    RaffleNotFound,
    RaffleStateConflict,
    SoldOut,
    TicketLimitExceeded,
    TicketUnavailable,
)
from .money import MAX_AMOUNT
from .notifications import Notification
from .text import clean_name, clean_text

__all__ = [
    "MAX_CAPACITY",
    "MAX_WINNERS",
    "PRIZE_CODE",
    "RAKE_CODE",
    "REFUND_CODE",
    "TICKET_CODE",
    "DrawMode",
    "PrizeMode",
    "PrizePlan",
    "Raffle",
    "RaffleCategory",
    "RaffleCategoryDraft",
    "RaffleClosed",
    "RaffleDraft",
    "RaffleDrawn",
    "RaffleNotFound",
    "RaffleSold",
    "RaffleStateConflict",
    "RaffleStatus",
    "SoldOut",
    "Ticket",
    "TicketLimitExceeded",
    "TicketUnavailable",
    "check_category",
    "check_raffle",
    "parse_split",
    "prize_plan",
    "split_fund",
]

TICKET_CODE = "ticket"  # ledger codes of the transfers raffles make
PRIZE_CODE = "prize"
RAKE_CODE = "raffle_rake"
REFUND_CODE = "ticket_refund"
HOUSE_CODE = "raffle_house"

MAX_CAPACITY = 10_000_000
MAX_WINNERS = 10_000
MAX_COLOUR = 32


class PrizeMode(StrEnum):
    PROPORTIONAL = "proportional"
    GUARANTEED = "guaranteed"


class DrawMode(StrEnum):
    LOTTERY = "lottery"
    BEACON = "beacon"


class RaffleStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DRAWN = "drawn"
    VOIDED = "voided"

    @property
    def final(self) -> bool:
        return self in (RaffleStatus.DRAWN, RaffleStatus.VOIDED)


def _int(value: object, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(f"{field} must be an integer from {lo} to {hi}")
    return value


def parse_split(text: str) -> tuple[int, ...]:
    """``"50,30,20"`` → ``(50, 30, 20)`` (percentages); ``""`` or ``"equal"`` → ``()``."""
    text = text.strip()
    if text in ("", "equal"):
        return ()
    try:
        return tuple(int(p) for p in text.split(","))
    except ValueError:
        raise InvalidInput("split must be 'equal' or percentages like 50,30,20") from None


def split_fund(fund: int, winners: int, split: Sequence[int] = ()) -> list[int]:
    """The prizes of ``fund`` for ``winners`` (first prize first): each the floor of its share
    (equal, or ``split`` percentages summing to 100), the leftover units one each to the
    higher prizes, first prize first. ``sum(result) == fund``."""
    if winners < 1:
        return []
    weights = list(split) if split else [1] * winners
    total = sum(weights)
    prizes = [fund * w // total for w in weights]
    left = fund - sum(prizes)
    for i in range(left):  # left < winners: one unit each to the higher prizes
        prizes[i % winners] += 1
    return prizes


@dataclass(frozen=True, slots=True)
class RaffleCategoryDraft:
    """A category as entered (``check_category`` validates it)."""

    name: str
    ticket_price: int
    capacity: int
    winners: int = 1
    rake_bps: int = 0
    split: tuple[int, ...] = ()
    prize_mode: PrizeMode = PrizeMode.PROPORTIONAL
    colour: str = ""
    currency: str = "COIN"


def check_category(d: RaffleCategoryDraft) -> RaffleCategoryDraft:
    """The draft cleaned, or ``InvalidInput`` naming what is wrong."""
    name = clean_name(d.name, "name", max_length=100)
    colour = clean_text(d.colour, "colour", max_length=MAX_COLOUR, required=False)
    price = _int(d.ticket_price, "ticket_price", 1, MAX_AMOUNT)
    capacity = _int(d.capacity, "capacity", 1, MAX_CAPACITY)
    winners = _int(d.winners, "winners", 1, min(MAX_WINNERS, capacity))
    rake = _int(d.rake_bps, "rake_bps", 0, 10_000)
    if price * capacity > MAX_AMOUNT:
        raise InvalidInput("ticket_price × capacity is too large")
    split = tuple(d.split)
    if split:
        if len(split) != winners:
            raise InvalidInput(f"the split needs one percentage per winner ({winners})")
        for p in split:
            _int(p, "split percentage", 1, 100)
        if sum(split) != 100:
            raise InvalidInput("the split percentages must add up to 100")
    try:
        mode = PrizeMode(d.prize_mode)
    except ValueError:
        raise InvalidInput("prize_mode must be proportional or guaranteed") from None
    return RaffleCategoryDraft(
        name, price, capacity, winners, rake, split, mode, colour, d.currency
    )


@dataclass(frozen=True, slots=True)
class RaffleCategory:
    id: int
    name: str
    ticket_price: int
    capacity: int
    winners: int
    rake_bps: int
    split: tuple[int, ...]
    prize_mode: PrizeMode
    colour: str
    currency: str
    created_at: datetime

    @property
    def collection(self) -> int:
        """Price × capacity: what a sold-out raffle collects."""
        return self.ticket_price * self.capacity

    @property
    def prize_fund(self) -> int:
        """The advertised fund: the collection less its rake."""
        return self.collection - self.collection * self.rake_bps // 10_000

    @property
    def prizes(self) -> list[int]:
        """The advertised prizes (of a sold-out raffle), first prize first."""
        return split_fund(self.prize_fund, self.winners, self.split)

    @property
    def prize_per_winner(self) -> int:
        """The first prize (each prize when the split is equal, ±1 unit)."""
        return self.prizes[0]


@dataclass(frozen=True, slots=True)
class PrizePlan:
    """What a drawn raffle pays: ``prizes`` (first first) out of the escrow, ``rake`` (the
    figure shown), ``house`` (signed: + escrow → house, − house → escrow)."""

    sales: int
    fund: int
    rake: int
    prizes: tuple[int, ...]
    house: int


def prize_plan(category: RaffleCategory, sold: int) -> PrizePlan:
    """The money rule of SPEC section 5 for ``sold`` tickets (see the module docstring)."""
    sales = category.ticket_price * sold
    if category.prize_mode is PrizeMode.GUARANTEED:
        fund = category.prize_fund
        rake = category.collection - fund
        house = sales - fund
    else:
        rake = sales * category.rake_bps // 10_000
        fund = sales - rake
        house = rake
    prizes = tuple(split_fund(fund, category.winners, category.split))
    return PrizePlan(sales, fund, rake, prizes, house)


@dataclass(frozen=True, slots=True)
class RaffleDraft:
    name: str
    category_id: int
    start: datetime
    end: datetime
    min_tickets: int | None = None
    max_per_user: int | None = None
    draw_mode: DrawMode = DrawMode.BEACON
    lottery_name: str = ""
    lottery_schedule: str = ""
    lottery_url: str = ""


def check_raffle(d: RaffleDraft, category: RaffleCategory) -> RaffleDraft:
    """The draft cleaned against its category (defaults: ``min_tickets`` = winners, no
    per-user limit beyond capacity)."""
    name = clean_name(d.name, "name", max_length=200)
    if d.start.tzinfo is None or d.end.tzinfo is None:
        raise InvalidInput("start and end must carry a time zone")
    if d.end <= d.start:
        raise InvalidInput("end must be after start")
    mt = category.winners if d.min_tickets is None else d.min_tickets
    mt = _int(mt, "min_tickets", category.winners, category.capacity)
    mpu = category.capacity if d.max_per_user is None else d.max_per_user
    mpu = _int(mpu, "max_per_user", 1, category.capacity)
    try:
        mode = DrawMode(d.draw_mode)
    except ValueError:
        raise InvalidInput("draw must be lottery or beacon") from None
    lname = clean_text(d.lottery_name, "lottery_name", max_length=100, required=False)
    sched = clean_text(d.lottery_schedule, "lottery_schedule", max_length=200, required=False)
    url = clean_text(d.lottery_url, "lottery_url", max_length=500, required=False)
    if url and not url.startswith(("https://", "http://")):
        raise InvalidInput("lottery_url must be an http(s) URL")
    return RaffleDraft(name, d.category_id, d.start, d.end, mt, mpu, mode, lname, sched, url)


@dataclass(frozen=True, slots=True)
class Raffle:
    """A raffle with its category's terms copied in (a category edit never changes a raffle
    that exists). ``commitment`` is set at close; ``draw`` (the public value, the drawn
    numbers, provenance) and ``winners`` at the draw; ``paid_at`` once prizes are paid."""

    id: int
    name: str
    category: RaffleCategory
    start: datetime
    end: datetime
    min_tickets: int
    max_per_user: int
    draw_mode: DrawMode
    lottery_name: str
    lottery_schedule: str
    lottery_url: str
    status: RaffleStatus
    escrow_account_id: int
    sold: int
    created_at: datetime
    updated_at: datetime
    commitment: str | None = None
    closed_at: datetime | None = None
    public_value: str | None = None
    drawn_numbers: tuple[int, ...] = ()
    provenance: dict[str, object] = dataclasses.field(default_factory=dict)
    winners: tuple[tuple[int, int, int], ...] = ()  # (number, user_id, prize)
    drawn_at: datetime | None = None
    paying: bool = False
    paid_at: datetime | None = None
    void_reason: str = ""

    @property
    def currency(self) -> str:
        return self.category.currency

    @property
    def price(self) -> int:
        return self.category.ticket_price

    @property
    def capacity(self) -> int:
        return self.category.capacity

    @property
    def free(self) -> int:
        return self.capacity - self.sold

    def selling(self, now: datetime) -> bool:
        return self.status is RaffleStatus.OPEN and self.start <= now < self.end

    def check_buy(self, now: datetime) -> None:
        """``RaffleStateConflict`` unless tickets are on sale now."""
        if self.status is not RaffleStatus.OPEN or now >= self.end:
            raise RaffleStateConflict(f"raffle {self.id} is closed to sales")
        if now < self.start:
            raise RaffleStateConflict(f"raffle {self.id} sales start at {self.start.isoformat()}")

    def check_numbers(self, numbers: Sequence[int]) -> list[int]:
        """Chosen numbers: distinct, each in ``0 … capacity−1``; sorted."""
        if not numbers:
            raise InvalidInput("choose at least one number")
        out = set()
        for n in numbers:
            _int(n, "ticket number", 0, self.capacity - 1)
            if n in out:
                raise InvalidInput(f"number {n} chosen twice")
            out.add(n)
        return sorted(out)

    def with_status(self, status: RaffleStatus, now: datetime, **changes: object) -> Raffle:
        return dataclasses.replace(self, status=status, updated_at=now, **changes)  # type: ignore[arg-type]

    def plan(self) -> PrizePlan:
        return prize_plan(self.category, self.sold)

    def label(self, number: int) -> str:
        """A ticket number as shown: zero-padded to the width of ``capacity − 1``."""
        return f"{number:0{len(str(self.capacity - 1))}d}"


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    raffle_id: int
    number: int
    user_id: int
    price: int
    wallet_account_id: int
    purchase: str  # the purchase's transfer id (a replayed key finds its tickets)
    bought_at: datetime
    prize: int = 0
    refunded: bool = False


# -- notifications (published after the commit; docs/realtime.md) ----------------------------
@dataclass(frozen=True, slots=True)
class RaffleSold(Notification):
    """Tickets of the raffle were sold (its sold count changed)."""

    topic: ClassVar[str] = "raffle.sold"
    raffle_id: int


@dataclass(frozen=True, slots=True)
class RaffleClosed(Notification):
    """Sales stopped: the listing is frozen; ``commitment`` is None when it was voided."""

    topic: ClassVar[str] = "raffle.closed"
    raffle_id: int
    status: RaffleStatus
    commitment: str | None


@dataclass(frozen=True, slots=True)
class RaffleDrawn(Notification):
    """The raffle was drawn (``paid``: the prizes are paid too)."""

    topic: ClassVar[str] = "raffle.drawn"
    raffle_id: int
    winners: tuple[tuple[int, int, int], ...]
    paid: bool

"""Price predictions: house-banked up/down contracts and pari-mutuel rounds (SPEC section 4).

**Contracts** are banked by the house account of their currency: the stake (and any
commission) goes wallet → house at placement, the payout house → wallet at settlement.

* *Fixed odds*: right direction → payout = stake + floor(stake × payout_bps / 10000); wrong →
  0; exit = entry → the tie rule: ``push`` (the stake back) or ``lose``.
* *Multiplier* (leverage L, cap C): with entry E and exit X,
  ``raw = stake × L × (X − E) / E`` for ``up`` (``(E − X)`` for ``down``), computed exactly
  with ``Fraction``; ``profit = floor(raw)`` (towards −∞, the house's favour), clamped to
  ``[−stake, C × stake]``; payout = stake + profit. A loss never exceeds the stake. An
  optional commission (basis points of stake × L) is charged at opening as a fee.

A contract moves ``open → won | lost | push | void``. The house's *exposure* is the sum of the
maximum payouts of open contracts (``max_payout``), limited per symbol and in total.

**Rounds** (PancakeSwap-style, one symbol, interval I): a round opens at ``starts_at``, takes
``up``/``down`` bets until ``lock_at − margin``, locks at ``lock_at = starts_at + I`` (lock
price) and closes at ``close_at = lock_at + I`` (close price). It is settled by the section 3
rule of ``domain.events.settle`` (up and down are its two outcomes, rake from the losing
side). A tie, an empty side or a missing price refunds everyone; nothing goes to the house.
Rounds are cut on a fixed grid (``round_start``), so a runner that was down only creates the
round of *now*: the rounds it missed are never created, and those it had left open are voided
when their price cannot be found.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import ClassVar

from .errors import InvalidAmount, InvalidInput
from .events import BetStake, Settlement, settle
from .money import MAX_AMOUNT
from .notifications import Notification

__all__ = [
    "DOWN_OUTCOME",
    "MAX_PAYOUT_BPS",
    "UP_OUTCOME",
    "Contract",
    "ContractKind",
    "ContractStatus",
    "ContractsResolved",
    "Direction",
    "PredictionPolicy",
    "Round",
    "RoundBet",
    "RoundChanged",
    "RoundStatus",
    "TieRule",
    "commission_of",
    "fixed_result",
    "max_payout",
    "multiplier_profit",
    "multiplier_result",
    "parse_direction",
    "round_settlement",
    "round_start",
]

MAX_PAYOUT_BPS = 100_000  # a fixed-odds win pays at most 10× the stake on top of it
MAX_LEVERAGE = 1000
MAX_CAP = 1000
UP_OUTCOME = 1  # a round's two "outcomes" for domain.events.settle
DOWN_OUTCOME = 2
STAKE_CODE = "pred_stake"  # ledger codes of the transfers predictions make
FEE_CODE = "fee"
PAYOUT_CODE = "pred_payout"
REFUND_CODE = "pred_refund"
ROUND_BET_CODE = "round_bet"
ROUND_PAYOUT_CODE = "round_payout"
ROUND_REFUND_CODE = "round_refund"
ROUND_RAKE_CODE = "round_rake"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"

    @property
    def outcome(self) -> int:
        return UP_OUTCOME if self is Direction.UP else DOWN_OUTCOME


_DIRECTIONS = {"up": Direction.UP, "long": Direction.UP, "down": Direction.DOWN}
_DIRECTIONS["short"] = Direction.DOWN


def parse_direction(value: object) -> Direction:
    """``up``/``down``, or seed 003's ``long``/``short`` (case-insensitive)."""
    if isinstance(value, Direction):
        return value
    if isinstance(value, str) and value.strip().lower() in _DIRECTIONS:
        return _DIRECTIONS[value.strip().lower()]
    raise InvalidInput("direction must be up or down (long or short)")


class ContractKind(StrEnum):
    FIXED = "fixed"
    MULTIPLIER = "multiplier"


class ContractStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"
    PUSH = "push"
    VOID = "void"


class TieRule(StrEnum):
    PUSH = "push"  # exit = entry: the stake back (the default)
    LOSE = "lose"  # exit = entry: the house wins (Deriv's Rise/Fall without "allow equals")


def _positive(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise InvalidAmount(f"{what} must be a positive integer of minor units")
    return value


def _sign(direction: Direction, entry: Decimal, exit_: Decimal) -> int:
    """+1 if the price moved the player's way, -1 against it, 0 for a tie."""
    move = (exit_ > entry) - (exit_ < entry)
    return move if direction is Direction.UP else -move


def fixed_result(
    stake: int,
    payout_bps: int,
    direction: Direction,
    entry: Decimal,
    exit_: Decimal,
    tie_rule: TieRule = TieRule.PUSH,
) -> tuple[ContractStatus, int]:
    """A fixed-odds contract at expiry: ``(status, payout)``."""
    s = _sign(direction, entry, exit_)
    if s > 0:
        return ContractStatus.WON, stake + stake * payout_bps // 10000
    if s == 0 and tie_rule is TieRule.PUSH:
        return ContractStatus.PUSH, stake
    return ContractStatus.LOST, 0


def multiplier_profit(
    stake: int, leverage: int, cap: int, direction: Direction, entry: Decimal, exit_: Decimal
) -> int:
    """floor(stake × leverage × ±(X − E) / E), clamped to [−stake, cap × stake], exactly."""
    if entry <= 0:
        raise InvalidInput("an entry price is greater than zero")
    e, x = Fraction(entry), Fraction(exit_)
    move = (x - e) if direction is Direction.UP else (e - x)
    raw = stake * leverage * move / e
    profit = raw.numerator // raw.denominator  # floor, towards −∞
    return max(-stake, min(cap * stake, profit))


def multiplier_result(
    stake: int, leverage: int, cap: int, direction: Direction, entry: Decimal, exit_: Decimal
) -> tuple[ContractStatus, int]:
    """A multiplier contract closed at ``exit_``: ``(status, payout)``; payout = stake +
    profit (``push`` when the profit is exactly 0)."""
    profit = multiplier_profit(stake, leverage, cap, direction, entry, exit_)
    status = (
        ContractStatus.WON
        if profit > 0
        else ContractStatus.LOST
        if profit < 0
        else ContractStatus.PUSH
    )
    return status, stake + profit


def commission_of(stake: int, leverage: int, commission_bps: int) -> int:
    """The opening fee of a multiplier contract: floor(stake × leverage × bps / 10000)."""
    return stake * leverage * commission_bps // 10000


def max_payout(kind: ContractKind, stake: int, payout_bps: int, cap: int) -> int:
    """The most the house can pay a contract (what counts against exposure)."""
    if kind is ContractKind.FIXED:
        return stake + stake * payout_bps // 10000
    return stake + cap * stake


@dataclass(frozen=True, slots=True)
class PredictionPolicy:
    """The area's settings (``WAGERKIT_PREDICTION_*`` and ``WAGERKIT_ROUND_*``).

    ``payout_bps`` maps a symbol to its fixed-odds payout (``"*"`` is every other symbol);
    exposure limits are in minor units of ``currency`` (0: no limit)."""

    currency: str = "COIN"
    durations: tuple[int, ...] = (60, 300, 900, 3600)
    payout_bps: Mapping[str, int] = field(default_factory=lambda: {"*": 8000})
    tie_rule: TieRule = TieRule.PUSH
    leverages: tuple[int, ...] = (2, 5, 10, 50)
    cap: int = 10
    commission_bps: int = 0
    max_age: timedelta = timedelta(seconds=10)
    buffer: timedelta = timedelta(seconds=15)
    exposure_limit_symbol: int = 0
    exposure_limit_total: int = 0
    round_interval: int = 300
    round_margin: timedelta = timedelta(seconds=2)
    round_symbols: tuple[str, ...] = ()
    round_rake_bps: int = 0
    min_stake: int = 1
    max_stake: int = MAX_AMOUNT

    def __post_init__(self) -> None:
        if not self.durations or any(d < 1 for d in self.durations):
            raise InvalidInput("prediction durations must be positive")
        if "*" not in self.payout_bps:
            object.__setattr__(self, "payout_bps", {**self.payout_bps, "*": 8000})
        for bps in self.payout_bps.values():
            if not 0 < bps <= MAX_PAYOUT_BPS:
                raise InvalidInput(f"payout basis points must be 1-{MAX_PAYOUT_BPS}")
        if any(not 1 <= lv <= MAX_LEVERAGE for lv in self.leverages):
            raise InvalidInput(f"leverages must be 1-{MAX_LEVERAGE}")
        if not 1 <= self.cap <= MAX_CAP:
            raise InvalidInput(f"the cap multiple must be 1-{MAX_CAP}")
        if not 0 <= self.commission_bps <= 1000:
            raise InvalidInput("the commission must be 0-1000 basis points")
        if not 0 <= self.round_rake_bps <= 1000:
            raise InvalidInput("the round rake must be 0-1000 basis points")
        if self.round_interval < 1:
            raise InvalidInput("the round interval must be positive")
        if self.round_margin.total_seconds() >= self.round_interval:
            raise InvalidInput("the round margin must be shorter than the round interval")
        if min(self.exposure_limit_symbol, self.exposure_limit_total) < 0:
            raise InvalidInput("exposure limits are non-negative (0: none)")

    def payout_bps_for(self, symbol: str) -> int:
        return self.payout_bps.get(symbol, self.payout_bps["*"])

    def check_duration(self, seconds: int) -> int:
        if seconds not in self.durations:
            allowed = ", ".join(f"{d}s" for d in self.durations)
            raise InvalidInput(f"duration must be one of {allowed}")
        return seconds

    def check_leverage(self, leverage: int) -> int:
        if isinstance(leverage, bool) or leverage not in self.leverages:
            allowed = ", ".join(str(lv) for lv in self.leverages)
            raise InvalidInput(f"leverage must be one of {allowed}")
        return leverage

    def check_stake(self, stake: int) -> int:
        _positive(stake, "stake")
        if not self.min_stake <= stake <= self.max_stake:
            raise InvalidAmount(f"stake must be {self.min_stake}-{self.max_stake}")
        return stake


@dataclass(frozen=True, slots=True)
class Contract:
    """A house-banked contract. ``leverage`` is None for fixed odds; ``payout`` and
    ``profit`` are set once it is resolved (``void``: payout = stake + commission back)."""

    id: int
    user_id: int
    currency: str
    symbol: str
    direction: Direction
    kind: ContractKind
    stake: int
    duration: int
    placed_at: datetime
    expires_at: datetime
    entry_price: Decimal
    entry_at: datetime
    max_payout: int
    stake_transfer_id: str
    payout_bps: int = 0
    leverage: int | None = None
    cap: int = 0
    tie_rule: TieRule = TieRule.PUSH
    commission: int = 0
    status: ContractStatus = ContractStatus.OPEN
    exit_price: Decimal | None = None
    exit_at: datetime | None = None
    payout: int | None = None
    resolved_at: datetime | None = None
    closed_early: bool = False
    void_reason: str = ""

    @property
    def profit(self) -> int | None:
        """payout − stake once resolved (a void's profit is 0)."""
        if self.payout is None:
            return None
        if self.status is ContractStatus.VOID:
            return 0
        return self.payout - self.stake

    @property
    def result(self) -> str | None:
        """Seed 004's ``W``/``L`` (a push or void is neither)."""
        return {ContractStatus.WON: "W", ContractStatus.LOST: "L"}.get(self.status)

    def decide(self, exit_: Decimal) -> tuple[ContractStatus, int]:
        """The result at exit price ``exit_``."""
        if self.kind is ContractKind.FIXED:
            return fixed_result(
                self.stake, self.payout_bps, self.direction, self.entry_price, exit_, self.tie_rule
            )
        assert self.leverage is not None
        return multiplier_result(
            self.stake, self.leverage, self.cap, self.direction, self.entry_price, exit_
        )

    def resolved(
        self,
        status: ContractStatus,
        payout: int,
        now: datetime,
        *,
        exit_price: Decimal | None = None,
        exit_at: datetime | None = None,
        closed_early: bool = False,
        void_reason: str = "",
    ) -> Contract:
        return dataclasses.replace(
            self,
            status=status,
            payout=payout,
            resolved_at=now,
            exit_price=exit_price,
            exit_at=exit_at,
            closed_early=closed_early,
            void_reason=void_reason,
        )


# -- rounds ------------------------------------------------------------------------------------
class RoundStatus(StrEnum):
    OPEN = "open"
    LOCKED = "locked"
    SETTLING = "settling"  # payouts under way (resumable)
    SETTLED = "settled"
    VOIDING = "voiding"  # refunds under way (resumable)
    VOIDED = "voided"

    @property
    def final(self) -> bool:
        return self in (RoundStatus.SETTLED, RoundStatus.VOIDED)


def round_start(now: datetime, interval: int) -> datetime:
    """The start of the grid slot holding ``now`` (slots of ``interval`` seconds from the
    Unix epoch): the round a runner creates at ``now``."""
    step = timedelta(seconds=interval)
    return _EPOCH + (now - _EPOCH) // step * step


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    symbol: str
    currency: str
    starts_at: datetime
    lock_at: datetime
    close_at: datetime
    bets_close_at: datetime  # lock_at − margin
    rake_bps: int
    escrow_account_id: int
    status: RoundStatus = RoundStatus.OPEN
    up_total: int = 0
    down_total: int = 0
    up_count: int = 0
    down_count: int = 0
    lock_price: Decimal | None = None
    lock_tick_at: datetime | None = None
    close_price: Decimal | None = None
    close_tick_at: datetime | None = None
    winner: Direction | None = None
    rake: int = 0
    void_reason: str = ""
    updated_at: datetime | None = None

    @property
    def pool(self) -> int:
        return self.up_total + self.down_total

    def accepting_bets(self, now: datetime) -> bool:
        return self.status is RoundStatus.OPEN and now < self.bets_close_at


@dataclass(frozen=True, slots=True)
class RoundBet:
    id: int
    round_id: int
    user_id: int
    direction: Direction
    amount: int
    wallet_account_id: int
    placed_at: datetime
    transfer_id: str
    payout: int | None = None


def round_settlement(
    bets: Sequence[RoundBet],
    lock_price: Decimal | None,
    close_price: Decimal | None,
    rake_bps: int,
) -> tuple[Direction | None, Settlement, str]:
    """``(winner, settlement, reason)``: the section 3 rule with up and down as outcomes.
    A missing price, a tie, or a round without bets on both sides refunds everyone
    (``winner`` None, no rake; ``reason`` says why)."""
    stakes = [BetStake(b.id, b.direction.outcome, b.amount, b.id) for b in bets]
    refund = Settlement({b.id: b.amount for b in bets}, 0, True)
    if lock_price is None or close_price is None:
        return None, refund, "no price within the buffer"
    if close_price == lock_price:
        return None, refund, "tie: close price equals lock price"
    sides = {b.direction for b in bets}
    if len(sides) < 2:
        return None, refund, "one-sided or empty round"
    winner = Direction.UP if close_price > lock_price else Direction.DOWN
    return winner, settle(stakes, winner.outcome, rake_bps), ""


# -- notifications (published after the commit; docs/realtime.md) ------------------------------
@dataclass(frozen=True, slots=True)
class ContractsResolved(Notification):
    """Contracts were settled, closed early or voided: ``(user id, contract id)`` pairs."""

    topic: ClassVar[str] = "prediction.resolved"
    contracts: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class RoundChanged(Notification):
    """A round was created, took a bet, locked, closed, settled or voided."""

    topic: ClassVar[str] = "round.updated"
    round_id: int
    symbol: str
    status: RoundStatus

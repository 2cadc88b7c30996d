"""Prices (docs/prices.md): operator-set prices, the recorder, and reads of stored ticks.

Every price result is computed from stored ticks (SPEC section 4), so the recorder is what
makes prices exist: each job pass (``PricesDueWork``) asks the configured ``PriceFeed`` for
every configured symbol at once and stores what it answers; a symbol whose feed fails or
has no price is skipped (the feed logs why), never the others. Storing is idempotent on
(symbol, observed_at, source), so several runners recording the same feed store each tick
once. Each new tick is announced as ``PriceTicked``.

Staff may set a price by hand (``set_price``): a tick with source ``operator``, audited as
``price.set``. The price rule itself (entry = latest fresh tick; exit = first tick within the
buffer) is ``PricePolicy.entry`` / ``PricePolicy.settle`` over a unit of work, for the areas
that price contracts and rounds.

**Pruning** (``prune``, the recorder's pass at most once a minute): ticks older than
``PricePolicy.retention`` (``WAGERKIT_TICK_RETENTION``, 7 days by default; ``None`` keeps them
forever) are deleted, one symbol and a bounded chunk per transaction, except those still
needed: a symbol's latest tick always stays (it is the current price), and so does every
tick from the earliest instant an open contract (its expiry) or an unsettled round (its lock
or close time) may still read (``uow.predictions.ticks_needed_since``). A contract and a
round copy their prices and tick times when they are priced, so once settled they need no
tick. Whatever is created later only reads ticks after now, so the floor read at the start
of a chunk stays safe for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..domain.audit import AuditRecord
from ..domain.errors import AlreadyExists, InvalidInput
from ..domain.identity import Actor
from ..domain.prices import (
    DEFAULT_BUFFER,
    DEFAULT_MAX_AGE,
    DEFAULT_TICK_RETENTION,
    OPERATOR_SOURCE,
    PriceTicked,
    Tick,
    entry_tick,
    parse_price,
    parse_symbol,
    price_text,
    settle_tick,
)
from ..domain.text import clean_reason
from ..ports import PriceFeed, UnitOfWork
from .base import Deps

if TYPE_CHECKING:
    from .realtime import LiveUpdates

__all__ = [
    "PRICE_TICK",
    "CurrentPrice",
    "PricePolicy",
    "PriceService",
    "PricesDue",
    "PricesDueWork",
    "price_payload",
    "price_room",
    "register_price_updates",
]

log = logging.getLogger("wagerkit.prices")

MAX_HISTORY = 1000


@dataclass(frozen=True, slots=True)
class PricePolicy:
    """What the recorder samples, the price rule's two windows (SPEC section 4), and how
    long recorded ticks are kept (``retention``; ``None``: forever)."""

    symbols: tuple[str, ...] = ("DEMO-USD",)
    max_age: timedelta = DEFAULT_MAX_AGE
    buffer: timedelta = DEFAULT_BUFFER
    retention: timedelta | None = DEFAULT_TICK_RETENTION

    def __post_init__(self) -> None:
        symbols = tuple(parse_symbol(s) for s in self.symbols)
        if len(set(symbols)) != len(symbols):
            raise InvalidInput("price symbols must be distinct")
        if self.max_age <= timedelta(0) or self.buffer <= timedelta(0):
            raise InvalidInput("max_age and buffer must be positive")
        if self.retention is not None and self.retention <= timedelta(0):
            raise InvalidInput("retention must be positive (None keeps ticks forever)")
        object.__setattr__(self, "symbols", symbols)

    async def entry(self, uow: UnitOfWork, symbol: str, at: datetime) -> Tick | None:
        """The entry price's tick at ``at``: the latest stored tick no older than max_age."""
        return entry_tick(await uow.prices.latest(symbol, at), at, self.max_age)

    async def settle(self, uow: UnitOfWork, symbol: str, due: datetime) -> Tick | None:
        """The exit / lock / close price's tick for ``due``: the first stored tick at or
        after it, within the buffer; ``None`` means void and refund."""
        return settle_tick(await uow.prices.first_at_or_after(symbol, due), due, self.buffer)


@dataclass(frozen=True, slots=True)
class CurrentPrice:
    """A configured symbol's latest tick (``None`` before any) and whether it is fresh
    enough to price a contract now (observed within max_age)."""

    symbol: str
    tick: Tick | None
    fresh: bool


@dataclass(slots=True)
class PricesDue:
    """One recording pass: symbols with a new tick, symbols the feed had no price for, and
    how many old ticks were pruned. Sampling is routine: it never makes a job pass count as
    busy; pruning does (``idle`` is false when ticks were deleted)."""

    recorded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    pruned: int = 0

    @property
    def idle(self) -> bool:
        return not self.pruned


class PriceService:
    """``kit.prices``: set (staff), read, and record prices."""

    def __init__(
        self, deps: Deps, feed: PriceFeed | None = None, policy: PricePolicy | None = None
    ) -> None:
        self._d = deps
        self.feed = feed
        self.policy = policy or PricePolicy()

    async def set_price(
        self, actor: Actor, symbol: str, price: str | Decimal | int, reason: str = ""
    ) -> Tick:
        """Store an operator's price for ``symbol``, observed now (staff only, audited)."""
        actor.require_staff()
        symbol = parse_symbol(symbol)
        value = parse_price(price)
        reason = clean_reason(reason, required=False)
        now = self._d.clock.now()
        tick = Tick(symbol, now, value, OPERATOR_SOURCE)

        async def work(uow: UnitOfWork) -> None:
            if not await uow.prices.add_ticks([tick]):
                raise AlreadyExists(f"a price for {symbol} was already set at this instant")
            await uow.audit.add(
                AuditRecord(
                    now,
                    actor.user_id,
                    actor.name,
                    "price.set",
                    f"price:{symbol}",
                    reason,
                    {"price": price_text(value)},
                )
            )

        await self._d.transaction(work)
        await self._d.publisher.publish(PriceTicked.of(tick))
        return tick

    async def latest(self, symbol: str, at: datetime | None = None) -> Tick | None:
        """The newest stored tick of ``symbol`` (observed at or before ``at`` if given)."""
        symbol = parse_symbol(symbol)
        async with self._d.uow() as uow:
            return await uow.prices.latest(symbol, at)

    async def current(self) -> list[CurrentPrice]:
        """Every configured symbol's latest tick, in configuration order."""
        now = self._d.clock.now()
        async with self._d.uow() as uow:
            out = []
            for symbol in self.policy.symbols:
                tick = await uow.prices.latest(symbol)
                fresh = entry_tick(tick, now, self.policy.max_age) is not None
                out.append(CurrentPrice(symbol, tick, fresh))
        return out

    async def history(
        self, symbol: str, since: datetime | None = None, limit: int = 100
    ) -> list[Tick]:
        """Stored ticks of ``symbol`` observed at or after ``since``, newest first."""
        symbol = parse_symbol(symbol)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY:
            raise InvalidInput(f"limit must be 1-{MAX_HISTORY}")
        if since is not None and since.tzinfo is None:
            raise InvalidInput("since must be timezone-aware")
        async with self._d.uow() as uow:
            return await uow.prices.history(symbol, since=since, limit=limit)

    async def symbols(self) -> list[str]:
        """Every symbol with a stored tick."""
        async with self._d.uow() as uow:
            return await uow.prices.symbols()

    async def record(self, now: datetime | None = None) -> PricesDue:
        """One sampling pass: quote every configured symbol (concurrently) and store the
        answers; a symbol with no price, or whose feed raised, is reported missing."""
        now = now or self._d.clock.now()
        report = PricesDue()
        if self.feed is None or not self.policy.symbols:
            return report
        symbols = self.policy.symbols
        answers = await asyncio.gather(
            *(self._quote(s, now) for s in symbols), return_exceptions=False
        )
        ticks = []
        for symbol, tick in zip(symbols, answers, strict=True):
            if tick is None:
                report.missing.append(symbol)
            else:
                ticks.append(tick)
        new = await self.store(ticks)
        report.recorded = [t.symbol for t in new]
        return report

    async def store(self, ticks: Sequence[Tick]) -> list[Tick]:
        """Store ticks (idempotent) and announce the new ones; returns the new ones. For
        the recorder, imports and demos; not an operator action (no audit)."""
        if not ticks:
            return []

        async def work(uow: UnitOfWork) -> list[Tick]:
            return [t for t in ticks if await uow.prices.add_ticks([t])]

        new = await self._d.transaction(work)
        for tick in new:
            await self._d.publisher.publish(PriceTicked.of(tick))
        return new

    async def load(self, ticks: Sequence[Tick]) -> int:
        """Store many ticks at once (a demo's history, an import) in one transaction;
        returns how many were new and announces only the newest tick of each symbol."""
        if not ticks:
            return 0

        async def work(uow: UnitOfWork) -> int:
            return await uow.prices.add_ticks(ticks)

        added = await self._d.transaction(work)
        newest: dict[str, Tick] = {}
        for t in ticks:
            if t.symbol not in newest or t.observed_at > newest[t.symbol].observed_at:
                newest[t.symbol] = t
        if added:
            for tick in newest.values():
                await self._d.publisher.publish(PriceTicked.of(tick))
        return added

    async def prune(
        self, now: datetime | None = None, *, chunk: int = 5000, most: int = 100_000
    ) -> int:
        """Delete ticks older than the retention that nothing needs any more (see the module
        docstring), ``chunk`` per transaction, at most ``most`` in this call (the next call
        goes on). Returns how many were deleted."""
        retention = self.policy.retention
        if retention is None:
            return 0
        cutoff = (now or self._d.clock.now()) - retention

        async def symbols(uow: UnitOfWork) -> list[str]:
            return await uow.prices.symbols()

        pruned = 0
        for symbol in await self._d.transaction(symbols):
            while pruned < most:
                size = min(chunk, most - pruned)

                async def work(uow: UnitOfWork, symbol: str = symbol, size: int = size) -> int:
                    needed = (await uow.predictions.ticks_needed_since()).get(symbol, cutoff)
                    return await uow.prices.prune_ticks(symbol, min(cutoff, needed), size)

                n = await self._d.transaction(work)
                pruned += n
                if n < size:
                    break
        return pruned

    async def _quote(self, symbol: str, now: datetime) -> Tick | None:
        assert self.feed is not None
        try:
            tick = await self.feed.quote(symbol, now)
        except Exception:  # a feed must not raise; if one does, this symbol has no price
            log.exception("price feed failed for %s", symbol)
            return None
        if tick is None:
            return None
        if tick.symbol != symbol or tick.observed_at > now:
            log.warning(
                "price feed answered %s at %s for %s: ignored",
                tick.symbol,
                tick.observed_at,
                symbol,
            )
            return None
        return tick


class PricesDueWork:
    """The job runner's price recorder: one sampling pass per job pass, and a pruning pass
    (``PriceService.prune``) at most every ``prune_every`` (a minute) of clock time."""

    name = "prices"

    def __init__(self, prices: PriceService, *, prune_every: timedelta = timedelta(minutes=1)):
        self._prices = prices
        self.prune_every = prune_every
        self._pruned_at: datetime | None = None

    async def run_due(self, now: datetime, limit: int) -> PricesDue:
        report = await self._prices.record(now)
        if self._pruned_at is None or not (
            timedelta(0) <= now - self._pruned_at < self.prune_every
        ):
            report.pruned = await self._prices.prune(now)
            self._pruned_at = now
        return report


# -- live updates (docs/realtime.md): the price:<symbol> rooms ------------------------------

PRICE_TICK = "price_tick"


def price_room(symbol: str) -> str:
    """The room of one symbol's watchers (``price_tick``)."""
    return f"price:{symbol}"


def price_payload(tick: Tick | PriceTicked) -> dict[str, Any]:
    """A tick as ``price_tick`` and ``GET /api/v1/prices/{symbol}`` carry it."""
    return {
        "symbol": tick.symbol,
        "price": price_text(tick.price),
        "observed_at": tick.observed_at.isoformat(),
        "source": tick.source,
    }


class _PriceUpdates:
    """Each ``PriceTicked`` becomes a coalesced ``price_tick`` to ``price:<symbol>`` (at most
    one every ``coalesce_seconds`` per room and process, the newest tick when it is sent).
    The newest tick is kept from the notification itself: sending reads no store."""

    def __init__(self, live: LiveUpdates) -> None:
        self.live = live
        self.newest: dict[str, PriceTicked] = {}

    async def ticked(self, note: PriceTicked) -> None:
        symbol = note.symbol
        known = self.newest.get(symbol)
        if known is None or note.observed_at >= known.observed_at:
            self.newest[symbol] = note

        async def read() -> tuple[str, dict[str, Any]] | None:
            newest = self.newest.get(symbol)
            return (PRICE_TICK, price_payload(newest)) if newest is not None else None

        await self.live.coalesced(price_room(symbol), read)


def register_price_updates(live: LiveUpdates, prices: PriceService) -> None:
    """The prices area's live updates (``price_tick`` to ``price:<symbol>``), on ``live``."""
    live.on(PriceTicked, _PriceUpdates(live).ticked)

"""What every use case shares: the ports, and one way to run a unit of work with retries."""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..domain.errors import TransientStoreError
from ..domain.money import CurrencyRegistry
from ..ports import (
    Clock,
    EventPublisher,
    IdFactory,
    NullPublisher,
    PasswordHasher,
    PaymentProvider,
    RateLimiter,
    SystemClock,
    TokenService,
    UnitOfWork,
    UnitOfWorkFactory,
    UuidIds,
)

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

MAX_ATTEMPTS = 8


@dataclass(slots=True)
class Deps:
    """The ports a use case runs on (built once by a composition root)."""

    uow: UnitOfWorkFactory
    clock: Clock = field(default_factory=SystemClock)
    ids: IdFactory = field(default_factory=UuidIds)
    currencies: CurrencyRegistry = field(default_factory=CurrencyRegistry)
    publisher: EventPublisher = field(default_factory=NullPublisher)
    welcome_grant: Mapping[str, int] = field(default_factory=lambda: {"COIN": 1000})
    # -- identity and access (None: not configured; see services/identity.py) --------------
    passwords: PasswordHasher | None = None
    tokens: TokenService | None = None
    rate_limiter: RateLimiter | None = None
    # -- payments: providers by name (docs/payments.md); none unless configured --------------
    payment_providers: Mapping[str, PaymentProvider] = field(default_factory=dict)

    async def transaction(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``work`` in a unit of work and commit; retry it whole when the store lost a race
        (deadlock, serialization failure, concurrent insert), so callers never see those."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self.uow() as uow:
                    result = await work(uow)
                    await uow.commit()
                    return result
            except TransientStoreError:
                if attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")


class _Lane(Generic[K, V]):
    def __init__(self) -> None:
        self.waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self.task: asyncio.Task[None] | None = None


class Coalescer(Generic[K, V]):
    """Concurrent look-ups by key folded into one fetch: while a fetch runs, the keys asked
    for meanwhile wait and go together into the next one (one fetch in flight per event
    loop). Each caller gets its key's value (``None`` when the fetch did not return it), read
    after the caller asked: coalescing saves round trips, it never serves stale data."""

    def __init__(self, fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]) -> None:
        self._fetch = fetch
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane[K, V]] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            lane = self._lanes[loop] = _Lane()
        fut: asyncio.Future[V | None] = loop.create_future()
        lane.waiting.setdefault(key, []).append(fut)
        if lane.task is None:
            lane.task = loop.create_task(self._drain(lane))
        return await fut

    async def _drain(self, lane: _Lane[K, V]) -> None:
        try:
            while lane.waiting:
                batch, lane.waiting = lane.waiting, {}
                try:
                    found = await self._fetch(list(batch))
                except Exception as exc:
                    for futs in batch.values():
                        for f in futs:
                            if not f.done():
                                f.set_exception(exc)
                    continue
                for key, futs in batch.items():
                    for f in futs:
                        if not f.done():
                            f.set_result(found.get(key))
        finally:
            lane.task = None

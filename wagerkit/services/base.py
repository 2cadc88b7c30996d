"""What every use case shares: the ports, and one way to run a unit of work with retries."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ..domain.errors import InvalidInput, TransientStoreError
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
from .groupcommit import Coalescer, GroupCommit

__all__ = ["MAX_ATTEMPTS", "Coalescer", "Deps", "GroupCommit", "check_page_limit"]

T = TypeVar("T")

MAX_ATTEMPTS = 8


def check_page_limit(limit: int, most: int = 500) -> None:
    """A listing pages 1 to ``most`` rows at a time."""
    if not 1 <= limit <= most:
        raise InvalidInput(f"limit must be 1-{most}")


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

"""The in-memory unit of work: one transaction at a time (per event loop) over every area's
repository. Each area registers its repository once, in ``REPOSITORIES``; a new area adds one
line there (and its typed attribute on ``InMemoryUnitOfWork``, checked by mypy against the
``UnitOfWork`` port)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ...ports import UnitOfWork
from .audit import MemoryAudit
from .chat import MemoryChat
from .events import MemoryEvents
from .ledger import MemoryLedger
from .orders import MemoryOrders
from .payments import MemoryPayments
from .predictions import MemoryPredictions
from .prices import MemoryPrices
from .raffles import MemoryRaffles
from .state import State, Undo
from .users import MemoryUsers

__all__ = ["REPOSITORIES", "InMemoryStore", "InMemoryUnitOfWork"]

# (attribute on the unit of work, repository class built on the state and the undo log),
# one line per area
REPOSITORIES: tuple[tuple[str, Callable[[State, Undo], Any]], ...] = (
    ("users", MemoryUsers),
    ("ledger", MemoryLedger),
    ("audit", MemoryAudit),
    ("payments", MemoryPayments),
    ("events", MemoryEvents),
    ("chat", MemoryChat),
    ("prices", MemoryPrices),
    ("predictions", MemoryPredictions),
    ("raffles", MemoryRaffles),
    ("orders", MemoryOrders),
)


class InMemoryStore:
    """The whole store in process memory. Call it to get a unit of work."""

    def __init__(self) -> None:
        self.state = State()
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


class InMemoryUnitOfWork:
    """A transaction over the repositories; rolls back unless committed."""

    users: MemoryUsers
    ledger: MemoryLedger
    audit: MemoryAudit
    payments: MemoryPayments
    events: MemoryEvents
    chat: MemoryChat
    prices: MemoryPrices
    predictions: MemoryPredictions
    raffles: MemoryRaffles
    orders: MemoryOrders

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._undo: Undo = []
        self._committed = False
        for name, repository in REPOSITORIES:
            setattr(self, name, repository(store.state, self._undo))

    async def __aenter__(self) -> Self:
        await self._store._lock().acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.rollback()
        finally:
            self._store._lock().release()

    async def commit(self) -> None:
        self._undo.clear()
        self._committed = True

    async def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()


if TYPE_CHECKING:  # the in-memory store satisfies the port (checked by mypy)
    _check: type[UnitOfWork] = InMemoryUnitOfWork

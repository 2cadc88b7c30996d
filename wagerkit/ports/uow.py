"""The unit of work: one transaction over every area's repository."""

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from .core import AuditRepository, LedgerRepository, UserRepository
from .events import ChatRepository, EventRepository
from .orders import OrderRepository
from .payments import PaymentRepository
from .predictions import PredictionRepository
from .prices import PriceRepository
from .raffles import RaffleRepository


class UnitOfWork(Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def chat(self) -> ChatRepository: ...

    @property
    def prices(self) -> PriceRepository: ...

    @property
    def predictions(self) -> PredictionRepository: ...

    @property
    def raffles(self) -> RaffleRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]

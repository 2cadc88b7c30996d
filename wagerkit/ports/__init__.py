"""The ports: what the use cases need from the outside world, as Protocols.

A ``UnitOfWork`` is one transaction over the repositories: entered with ``async with``, it
rolls back unless ``commit()`` was called. Stores raise ``TransientStoreError`` when they lose a
race (deadlock, serialization failure, a concurrent insert of the same id); the service layer
retries the whole unit of work, so callers never see it.
"""

from __future__ import annotations

from ..domain.notifications import OutboundMessage
from .core import (
    AuditRepository,
    Clock,
    EventPublisher,
    IdFactory,
    LedgerRepository,
    NewUser,
    Notifier,
    NullPublisher,
    PasswordHasher,
    RateLimiter,
    RealtimeSink,
    SystemClock,
    TokenService,
    UserRepository,
    UuidIds,
)
from .events import BetBatchView, BetResult, ChatRepository, EventRepository, NewBet, PoolDelta
from .orders import OrderRepository, TakeBatchView
from .payments import PaymentProvider, PaymentRepository
from .predictions import PlacementBatchView, PredictionRepository
from .prices import PriceFeed, PriceRepository
from .raffles import NewTicket, PurchaseBatchView, RaffleRepository, RandomnessBeacon
from .uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "AuditRepository",
    "BetBatchView",
    "BetResult",
    "ChatRepository",
    "Clock",
    "EventPublisher",
    "EventRepository",
    "IdFactory",
    "LedgerRepository",
    "NewBet",
    "NewTicket",
    "NewUser",
    "Notifier",
    "NullPublisher",
    "OrderRepository",
    "OutboundMessage",
    "PasswordHasher",
    "PaymentProvider",
    "PaymentRepository",
    "PlacementBatchView",
    "PoolDelta",
    "PredictionRepository",
    "PriceFeed",
    "PriceRepository",
    "PurchaseBatchView",
    "RaffleRepository",
    "RandomnessBeacon",
    "RateLimiter",
    "RealtimeSink",
    "SystemClock",
    "TakeBatchView",
    "TokenService",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
    "UuidIds",
]

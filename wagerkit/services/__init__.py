"""Async use cases. Each checks authorisation itself, calls the domain, commits, publishes."""

from __future__ import annotations

from collections.abc import Mapping

from ..domain.cities import CityDirectory
from ..domain.money import CurrencyRegistry
from ..domain.predictions import PredictionPolicy
from ..ports import (
    Clock,
    EventPublisher,
    IdFactory,
    Notifier,
    PasswordHasher,
    PaymentProvider,
    PriceFeed,
    RandomnessBeacon,
    RateLimiter,
    RealtimeSink,
    TokenService,
    UnitOfWorkFactory,
)
from .audit import AuditService
from .base import Deps
from .chat import ChatService
from .events import BetReceipt, EventChanges, EventService, SettlementReport
from .events.live import register_event_updates
from .identity import DEFAULT_LIMITS, IdentityPolicy, IdentityService, LocalRateLimiter, Session
from .jobs import DueWork, EventsDueWork, ExpiredHolds, JobService, TickReport
from .orders import (
    OrderDigests,
    OrderNotifications,
    OrdersDueWork,
    OrderService,
    OrderView,
    Profile,
    TakeReceipt,
    register_order_updates,
)
from .payments import PaymentPage, PaymentService
from .predictions import PredictionsDueWork, PredictionService
from .predictions.live import register_prediction_updates
from .prices import PricePolicy, PricesDueWork, PriceService, register_price_updates
from .raffles import Purchase, RaffleChanges, RafflesDueWork, RaffleService
from .raffles.live import register_raffle_updates
from .realtime import ChainPublisher, LiveUpdates
from .users import UserService
from .wallets import StatementEntry, StatementPage, WalletBalance, WalletService

__all__ = [
    "DEFAULT_LIMITS",
    "AuditService",
    "BetReceipt",
    "ChatService",
    "Deps",
    "DueWork",
    "EventChanges",
    "EventService",
    "EventsDueWork",
    "ExpiredHolds",
    "IdentityPolicy",
    "IdentityService",
    "JobService",
    "LiveUpdates",
    "LocalRateLimiter",
    "OrderService",
    "OrderView",
    "OrdersDueWork",
    "PaymentPage",
    "PaymentService",
    "PredictionService",
    "PricePolicy",
    "PriceService",
    "Profile",
    "Purchase",
    "RaffleChanges",
    "RaffleService",
    "RafflesDueWork",
    "Session",
    "SettlementReport",
    "StatementEntry",
    "StatementPage",
    "TakeReceipt",
    "TickReport",
    "UserService",
    "WagerKit",
    "WalletBalance",
    "WalletService",
]


class WagerKit:
    """The use cases, wired to one store. Build it once and share it::

    kit = WagerKit(InMemoryStore())          # or SqlStore.from_url("sqlite:///wagerkit.db")
    alice = await kit.users.add(Actor.system(), "Alice")
    await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 50)

    ``publisher`` receives every notification (``wagerkit.domain.notifications``) after its
    commit; ``realtime`` (a ``RealtimeSink``) adds the live updates (``kit.live``), which
    read what changed and send it, coalescing pool updates over ``realtime_coalesce``
    seconds (0: every update inline). Both may be given: ``publisher`` is called first.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        currencies: CurrencyRegistry | None = None,
        publisher: EventPublisher | None = None,
        realtime: RealtimeSink | None = None,
        realtime_coalesce: float = 0.25,
        welcome_grant: Mapping[str, int] | None = None,
        # -- identity and access (see services/identity.py) --------------------------------
        passwords: PasswordHasher | None = None,
        tokens: TokenService | None = None,
        rate_limiter: RateLimiter | None = None,
        identity_policy: IdentityPolicy | None = None,
        # -- payments: providers by name (docs/payments.md) ---------------------------------
        payment_providers: Mapping[str, PaymentProvider] | None = None,
        # -- price predictions: the area's settings (docs/predictions.md) -------------------
        predictions: PredictionPolicy | None = None,
        # -- prices: the recorder's feed and the price rule (docs/prices.md) ----------------
        price_feed: PriceFeed | None = None,
        price_policy: PricePolicy | None = None,
        # -- raffles: the randomness beacon of drand draws (docs/raffles.md) ----------------
        beacon: RandomnessBeacon | None = None,
        # -- the service-order marketplace: its fees' currency (docs/orders.md) --------------
        orders_currency: str | None = None,
        cities: CityDirectory | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        deps = Deps(uow)
        if clock is not None:
            deps.clock = clock
        if ids is not None:
            deps.ids = ids
        if currencies is not None:
            deps.currencies = currencies
        if publisher is not None:
            deps.publisher = publisher
        if welcome_grant is not None:
            deps.welcome_grant = dict(welcome_grant)
        self.deps = deps
        self.users = UserService(deps)
        self.wallets = WalletService(deps)
        self.audit = AuditService(deps)
        # -- identity and access -----------------------------------------------------------
        deps.passwords = passwords
        deps.tokens = tokens
        deps.rate_limiter = rate_limiter
        self.identity = IdentityService(deps, self.users, identity_policy)
        # -- payments (deposits and withdrawals) -------------------------------------------
        deps.payment_providers = dict(payment_providers or {})
        self.payments = PaymentService(deps)
        # -- pari-mutuel events, chat and the job runner (docs/events.md) -------------------
        self.events = EventService(
            deps,
            limit=self.identity.limit,
            claims=self.identity.claims,
            admit=self.identity.admit,
        )
        self.chat = ChatService(deps, limit=self.identity.limit)
        self.prices = PriceService(deps, price_feed, price_policy)  # before what reads ticks
        self.predictions = PredictionService(  # contracts and rounds
            deps, predictions, claims=self.identity.claims, admit=self.identity.admit
        )
        self.raffles = RaffleService(  # raffles and their draws (docs/raffles.md)
            deps, beacon=beacon, claims=self.identity.claims, admit=self.identity.admit
        )
        # -- the service-order marketplace (docs/orders.md) ----------------------------------
        self.orders = OrderService(
            deps,
            limit=self.identity.limit,
            city=cities.canonical if cities is not None else None,
            currency=orders_currency,
            claims=self.identity.claims,
            admit=self.identity.admit,
        )
        self.cities = cities
        sources: list[DueWork] = [
            PricesDueWork(self.prices),  # first: a pass settles on the ticks it recorded
            EventsDueWork(deps, self.events),
            ExpiredHolds(self.wallets),
            PredictionsDueWork(self.predictions),
            RafflesDueWork(deps, self.raffles),
            OrdersDueWork(self.orders),
        ]
        if notifier is not None:
            sources.append(OrderDigests(self.orders, notifier))
        self.jobs = JobService(deps, sources)
        # -- live updates (docs/realtime.md), after every service they read through ----------
        self.live: LiveUpdates | None = None
        if realtime is not None:
            live = LiveUpdates(
                realtime, self.wallets, deps.currencies, coalesce_seconds=realtime_coalesce
            )
            register_event_updates(live, self.events)  # pools, results and chat
            register_prediction_updates(live, self.predictions)  # rounds, contract results
            register_price_updates(live, self.prices)  # price:<symbol> ticks
            register_raffle_updates(live, self.raffles)  # sold counts, close, draw
            register_order_updates(live, self.orders)  # order_new, order_updated
            self.live = live
            deps.publisher = live if publisher is None else ChainPublisher(publisher, live)
        # -- new orders through the Notifier (a Telegram bot), after the commit -------------
        self.order_notifications: OrderNotifications | None = None
        if notifier is not None:
            self.order_notifications = OrderNotifications(
                self.orders, notifier, inline=realtime_coalesce <= 0
            )
            deps.publisher = ChainPublisher(deps.publisher, self.order_notifications)

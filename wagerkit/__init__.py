"""wagerkit: virtual-currency wagering on a double-entry ledger.

The public API, and all that a caller of the ``WagerKit`` facade needs: the use cases, the
domain value types they take and return (users, ledger, events and bets, chat, payments,
Telegram sign-in), the results of the use cases (``BetReceipt``, ``TickReport``, ...), the
ports the facade is built from, and the one error tree. ``wagerkit_cli`` and ``wagerkit_http``
import only this, the adapters and ``wagerkit.config`` (an import-linter contract checks it).

Stores live in ``wagerkit.testing`` (in memory) and ``wagerkit.adapters.sql`` (SQLite,
PostgreSQL); importing ``wagerkit`` loads neither SQLAlchemy nor any server library.
"""

from .domain import *  # noqa: F403
from .domain import __all__ as _domain_all

# -- raffles (docs/raffles.md) -----------------------------------------------------------------
from .domain import draw as raffle_draw
from .domain import errors as _errors
from .domain.chat import MAX_MESSAGE_LENGTH, ChatMessage, Mute
from .domain.errors import *  # noqa: F403  (the error tree, spelled out for type checkers)
from .domain.events import (
    MAX_OUTCOMES,
    MAX_RAKE_BPS,
    MIN_OUTCOMES,
    Bet,
    BetStatus,
    Event,
    EventDraft,
    EventStatus,
    Outcome,
    OutcomePool,
    PoolView,
    StreamType,
    pool_view,
)
from .domain.money import MAX_AMOUNT

# -- the service-order marketplace (docs/orders.md) -------------------------------------------
from .domain.orders import (
    COMPLAINT_REASONS,
    DEFAULT_CATEGORIES,
    REPORT_REJECTION_LIMIT,
    Complaint,
    ContactReport,
    NotifyMode,
    Order,
    OrderCategory,
    OrderCreated,
    OrderStatus,
    OrderUpdated,
    Preferences,
    ReportStatus,
    Review,
    Take,
)
from .domain.payments import Payment, PaymentKind, PaymentStatus, ProviderResult, WebhookEvent
from .domain.raffles import (
    DrawMode,
    PrizeMode,
    PrizePlan,
    Raffle,
    RaffleCategory,
    RaffleCategoryDraft,
    RaffleClosed,
    RaffleDraft,
    RaffleDrawn,
    RaffleSold,
    RaffleStatus,
    Ticket,
    parse_split,
    prize_plan,
)
from .domain.telegram import MAX_INPUT_BYTES as TELEGRAM_MAX_INPUT_BYTES
from .domain.telegram import PRODUCTION_PUBLIC_KEY as TELEGRAM_PRODUCTION_PUBLIC_KEY
from .domain.telegram import TEST_PUBLIC_KEY as TELEGRAM_TEST_PUBLIC_KEY
from .domain.telegram import TelegramIdentity, verify_init_data, verify_login_widget
from .ports import (
    Clock,
    EventPublisher,
    IdFactory,
    NullPublisher,
    PasswordHasher,
    PaymentProvider,
    RateLimiter,
    RealtimeSink,
    SystemClock,
    TokenService,
    UnitOfWork,
    UnitOfWorkFactory,
)
from .services import (
    DEFAULT_LIMITS,
    BetReceipt,
    DueWork,
    EventChanges,
    IdentityPolicy,
    LocalRateLimiter,
    PaymentPage,
    Session,
    SettlementReport,
    StatementEntry,
    StatementPage,
    TickReport,
    WagerKit,
    WalletBalance,
)
from .services.events import Progress
from .services.raffles import Purchase, RaffleChanges, RaffleService

# -- prices (docs/prices.md) ----------------------------------------------------------------
# isort: split
from .domain.prices import (
    PriceTicked,
    Tick,
    entry_tick,
    parse_duration,
    parse_durations,
    parse_price,
    parse_symbol,
    price_text,
    settle_tick,
)
from .ports import PriceFeed, PriceRepository
from .services.prices import CurrentPrice, PricePolicy, PricesDue, PricesDueWork, PriceService

# -- price predictions (docs/predictions.md) ------------------------------------------------
# isort: split
from .domain.predictions import (
    Contract,
    ContractKind,
    ContractsResolved,
    ContractStatus,
    Direction,
    PredictionPolicy,
    Round,
    RoundBet,
    RoundChanged,
    RoundStatus,
    TieRule,
    parse_direction,
)
from .ports import PredictionRepository
from .services.orders import OrderService, OrderView, Profile, TakeReceipt
from .services.predictions import (
    ContractReceipt,
    ExposureRow,
    PredictionsDue,
    PredictionsDueWork,
    PredictionService,
    RoundBetReceipt,
    RoundsReport,
    SettleReport,
    contract_view,
    round_view,
)

__version__ = "0.1.0"

__all__ = [
    *_domain_all,
    "DEFAULT_LIMITS",
    "MAX_AMOUNT",
    "DueWork",
    "RealtimeSink",
    "SettlementReport",
    "MAX_MESSAGE_LENGTH",
    "MAX_OUTCOMES",
    "MAX_RAKE_BPS",
    "MIN_OUTCOMES",
    "TELEGRAM_MAX_INPUT_BYTES",
    "TELEGRAM_PRODUCTION_PUBLIC_KEY",
    "TELEGRAM_TEST_PUBLIC_KEY",
    "Bet",
    "BetReceipt",
    "BetStatus",
    "ChatMessage",
    "Clock",
    "Event",
    "EventChanges",
    "EventDraft",
    "EventPublisher",
    "EventStatus",
    "IdFactory",
    "IdentityPolicy",
    "LocalRateLimiter",
    "Mute",
    "NullPublisher",
    "Outcome",
    "OutcomePool",
    "PasswordHasher",
    "Payment",
    "PaymentKind",
    "PaymentPage",
    "PaymentProvider",
    "PaymentStatus",
    "PoolView",
    "Progress",
    "ProviderResult",
    "RateLimiter",
    "Session",
    "StatementEntry",
    "StatementPage",
    "StreamType",
    "SystemClock",
    "TelegramIdentity",
    "TickReport",
    "TokenService",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WagerKit",
    "WalletBalance",
    "WebhookEvent",
    "__version__",
    "pool_view",
    "verify_init_data",
    "verify_login_widget",
]
__all__ += [  # prices
    "CurrentPrice",
    "PriceFeed",
    "PricePolicy",
    "PriceRepository",
    "PriceService",
    "PriceTicked",
    "PricesDue",
    "PricesDueWork",
    "Tick",
    "entry_tick",
    "parse_duration",
    "parse_durations",
    "parse_price",
    "parse_symbol",
    "price_text",
    "settle_tick",
]
__all__ += [  # price predictions
    "Contract",
    "ContractKind",
    "ContractReceipt",
    "ContractStatus",
    "ContractsResolved",
    "Direction",
    "ExposureRow",
    "PredictionPolicy",
    "PredictionRepository",
    "PredictionService",
    "PredictionsDue",
    "PredictionsDueWork",
    "Round",
    "RoundBet",
    "RoundBetReceipt",
    "RoundChanged",
    "RoundStatus",
    "RoundsReport",
    "SettleReport",
    "TieRule",
    "contract_view",
    "parse_direction",
    "round_view",
]
__all__ += [  # the service-order marketplace
    "COMPLAINT_REASONS",
    "DEFAULT_CATEGORIES",
    "REPORT_REJECTION_LIMIT",
    "Complaint",
    "ContactReport",
    "NotifyMode",
    "Order",
    "OrderCategory",
    "OrderCreated",
    "OrderService",
    "OrderStatus",
    "OrderUpdated",
    "OrderView",
    "Preferences",
    "Profile",
    "ReportStatus",
    "Review",
    "Take",
    "TakeReceipt",
]
__all__ += _errors.__all__
__all__ += [
    "DrawMode",
    "PrizeMode",
    "PrizePlan",
    "Purchase",
    "Raffle",
    "RaffleCategory",
    "RaffleCategoryDraft",
    "RaffleChanges",
    "RaffleClosed",
    "RaffleDraft",
    "RaffleDrawn",
    "RaffleService",
    "RaffleSold",
    "RaffleStatus",
    "Ticket",
    "parse_split",
    "prize_plan",
    "raffle_draw",
]
__all__ = list(dict.fromkeys(__all__))

# -- notifying people outside the app (docs/notifications.md) and the city list ------------
from .domain.cities import CityDirectory, bundled_cities, fold_city  # noqa: E402
from .ports import Notifier  # noqa: E402

__all__ += ["CityDirectory", "Notifier", "bundled_cities", "fold_city"]

"""Pure rules and value objects. Standard library only; no I/O."""

from .audit import AuditEntry, AuditRecord
from .errors import *  # noqa: F403
from .errors import __all__ as _errors
from .identity import Actor, Role, User, UserStatus
from .ledger import (
    Account,
    AccountFlags,
    AccountKind,
    CurrencyTotals,
    LinkedBatch,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferResult,
)
from .money import DEFAULT_CURRENCIES, Currency, CurrencyRegistry, Money
from .notifications import *  # noqa: F403
from .notifications import __all__ as _notifications

__all__ = [
    *_errors,
    *_notifications,
    "DEFAULT_CURRENCIES",
    "Account",
    "AccountFlags",
    "AccountKind",
    "Actor",
    "AuditEntry",
    "AuditRecord",
    "Currency",
    "CurrencyRegistry",
    "CurrencyTotals",
    "LinkedBatch",
    "Money",
    "Role",
    "Transfer",
    "TransferKind",
    "TransferRequest",
    "TransferResult",
    "User",
    "UserStatus",
]

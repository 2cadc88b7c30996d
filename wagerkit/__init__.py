"""wagerkit: virtual-currency wagering on a double-entry ledger.

The public API: the ``WagerKit`` use cases, the domain value types and the one error tree.
Stores live in ``wagerkit.testing`` (in memory) and ``wagerkit.adapters.sql`` (SQLite,
PostgreSQL); importing ``wagerkit`` loads neither SQLAlchemy nor any server library.
"""

from .domain import *  # noqa: F403
from .domain import __all__ as _domain_all
from .services import (
    DEFAULT_LIMITS,
    IdentityPolicy,
    Session,
    StatementEntry,
    StatementPage,
    WagerKit,
    WalletBalance,
)

__version__ = "0.1.0"

__all__ = [
    *_domain_all,
    "DEFAULT_LIMITS",
    "IdentityPolicy",
    "Session",
    "StatementEntry",
    "StatementPage",
    "WagerKit",
    "WalletBalance",
    "__version__",
]

"""The one exception tree of wagerkit.

Every error a caller can see is a ``WagerkitError`` with a stable machine ``code`` (used as the
problem+json ``code`` over HTTP and printed by the CLI) and a readable message that never
contains secrets::

    WagerkitError
    ├── InvalidInput                 invalid_input       bad shape or value of a command
    │   ├── InvalidAmount            invalid_amount      not a positive integer / too precise
    │   └── UnknownCurrency          unknown_currency
    ├── NotFound                     not_found
    │   ├── UserNotFound             user_not_found
    │   ├── AccountNotFound          account_not_found
    │   └── TransferNotFound         transfer_not_found
    ├── PermissionDenied             forbidden           the actor may not do this
    ├── Conflict                     conflict
    │   ├── IdempotencyConflict      idempotency_conflict  same key, other content
    │   └── AlreadyExists            already_exists
    ├── LedgerRefused                ledger_refused      the ledger refused a transfer
    │   ├── InsufficientFunds        insufficient_funds
    │   ├── CurrencyMismatch         currency_mismatch
    │   ├── SameAccount              same_account
    │   ├── AccountFrozen            account_frozen
    │   ├── CreditLimitExceeded      credits_exceed_debits
    │   ├── PendingNotFound          pending_not_found
    │   ├── NotPending               not_pending
    │   ├── PendingAlreadyPosted     pending_already_posted
    │   ├── PendingAlreadyVoided     pending_already_voided
    │   ├── PendingExpired           pending_expired
    │   ├── ExceedsPendingAmount     exceeds_pending_amount
    │   └── LinkedTransferFailed     linked_transfer_failed  a sibling in its linked batch failed
    └── StoreError                   store_error         the store failed (not the caller's fault)
        └── TransientStoreError      store_busy          lost a race; safe to retry
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccountFrozen",
    "AccountNotFound",
    "AlreadyExists",
    "Conflict",
    "CreditLimitExceeded",
    "CurrencyMismatch",
    "ExceedsPendingAmount",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidInput",
    "LedgerRefused",
    "LinkedTransferFailed",
    "NotFound",
    "NotPending",
    "PendingAlreadyPosted",
    "PendingAlreadyVoided",
    "PendingExpired",
    "PendingNotFound",
    "PermissionDenied",
    "SameAccount",
    "StoreError",
    "TransferNotFound",
    "TransientStoreError",
    "UnknownCurrency",
    "UserNotFound",
    "WagerkitError",
    "all_error_types",
]


class WagerkitError(Exception):
    """Base of every error wagerkit raises on purpose."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Error"

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.title
        super().__init__(self.detail)

    def __eq__(self, other: object) -> bool:  # errors are values in batch results
        return type(self) is type(other) and self.detail == getattr(other, "detail", None)

    def __hash__(self) -> int:
        return hash((type(self), self.detail))


class InvalidInput(WagerkitError):
    code = "invalid_input"
    title = "Invalid input"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"
    title = "Invalid amount"


class UnknownCurrency(InvalidInput):
    code = "unknown_currency"
    title = "Unknown currency"


class NotFound(WagerkitError):
    code = "not_found"
    title = "Not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class AccountNotFound(NotFound):
    code = "account_not_found"
    title = "Account not found"


class TransferNotFound(NotFound):
    code = "transfer_not_found"
    title = "Transfer not found"


class PermissionDenied(WagerkitError):
    code = "forbidden"
    title = "Not allowed"


class Conflict(WagerkitError):
    code = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    title = "Idempotency key reused with different content"


class AlreadyExists(Conflict):
    code = "already_exists"
    title = "Already exists"


class LedgerRefused(WagerkitError):
    code = "ledger_refused"
    title = "Transfer refused"


class InsufficientFunds(LedgerRefused):
    code = "insufficient_funds"
    title = "Insufficient funds"


class CurrencyMismatch(LedgerRefused):
    code = "currency_mismatch"
    title = "Accounts or amount are in different currencies"


class SameAccount(LedgerRefused):
    code = "same_account"
    title = "Debit and credit account are the same"


class AccountFrozen(LedgerRefused):
    code = "account_frozen"
    title = "Account is frozen"


class CreditLimitExceeded(LedgerRefused):
    code = "credits_exceed_debits"
    title = "Credits would exceed debits on this account"


class PendingNotFound(LedgerRefused):
    code = "pending_not_found"
    title = "Pending transfer not found"


class NotPending(LedgerRefused):
    code = "not_pending"
    title = "Referenced transfer is not pending"


class PendingAlreadyPosted(LedgerRefused):
    code = "pending_already_posted"
    title = "Pending transfer was already posted"


class PendingAlreadyVoided(LedgerRefused):
    code = "pending_already_voided"
    title = "Pending transfer was already voided"


class PendingExpired(LedgerRefused):
    code = "pending_expired"
    title = "Pending transfer has expired"


class ExceedsPendingAmount(LedgerRefused):
    code = "exceeds_pending_amount"
    title = "Posted amount exceeds the pending amount"


class LinkedTransferFailed(LedgerRefused):
    code = "linked_transfer_failed"
    title = "Another transfer of the linked batch failed"


class StoreError(WagerkitError):
    code = "store_error"
    title = "Storage failure"


class TransientStoreError(StoreError):
    code = "store_busy"
    title = "Storage busy, retry"


def all_error_types() -> list[type[WagerkitError]]:
    """Every error class, depth first, for docs and exhaustive mapping tests."""
    out: list[type[WagerkitError]] = []

    def walk(cls: type[WagerkitError]) -> None:
        out.append(cls)
        for sub in cls.__subclasses__():
            walk(sub)

    walk(WagerkitError)
    return out

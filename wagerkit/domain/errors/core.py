"""The root of the error tree and the errors of the ledger, identity, access and payments
(the tree and its codes: ``wagerkit.domain.errors``)."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccountBanned",
    "AccountFrozen",
    "AccountNotFound",
    "AlreadyExists",
    "AuthenticationFailed",
    "Conflict",
    "CreditLimitExceeded",
    "CurrencyMismatch",
    "ExceedsPendingAmount",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidCredentials",
    "InvalidInput",
    "LedgerRefused",
    "LinkedTransferFailed",
    "NotFound",
    "NotPending",
    "NotWhitelisted",
    "PaymentAlreadyFinal",
    "PaymentMismatch",
    "PaymentNotFound",
    "PaymentProviderUnavailable",
    "PendingAlreadyPosted",
    "PendingAlreadyVoided",
    "PendingExpired",
    "PendingNotFound",
    "PermissionDenied",
    "RateLimited",
    "SameAccount",
    "StoreError",
    "TelegramAuthError",
    "TelegramBadHash",
    "TelegramBadSignature",
    "TelegramExpired",
    "TelegramMalformed",
    "TelegramMissingUser",
    "TokenExpired",
    "TokenInvalid",
    "TransferNotFound",
    "TransientStoreError",
    "UnknownCurrency",
    "UserNotFound",
    "WagerkitError",
    "WebhookMalformed",
    "WebhookSignatureInvalid",
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


class AuthenticationFailed(WagerkitError):
    code = "unauthenticated"
    title = "Authentication failed"


class InvalidCredentials(AuthenticationFailed):
    code = "invalid_credentials"
    title = "Wrong login or password"


class TokenInvalid(AuthenticationFailed):
    code = "token_invalid"
    title = "Invalid access token"


class TokenExpired(AuthenticationFailed):
    code = "token_expired"
    title = "Access token expired"


class TelegramAuthError(AuthenticationFailed):
    code = "telegram_auth_failed"
    title = "Telegram sign-in data refused"


class TelegramMalformed(TelegramAuthError):
    code = "telegram_malformed"
    title = "Telegram sign-in data is malformed"


class TelegramBadHash(TelegramAuthError):
    code = "telegram_bad_hash"
    title = "Telegram sign-in hash does not match"


class TelegramBadSignature(TelegramAuthError):
    code = "telegram_bad_signature"
    title = "Telegram signature does not verify"


class TelegramExpired(TelegramAuthError):
    code = "telegram_expired"
    title = "Telegram sign-in data is too old or from the future"


class TelegramMissingUser(TelegramAuthError):
    code = "telegram_missing_user"
    title = "Telegram sign-in data has no user"


class PermissionDenied(WagerkitError):
    code = "forbidden"
    title = "Not allowed"


class AccountBanned(PermissionDenied):
    code = "account_banned"
    title = "This account is banned"


class NotWhitelisted(PermissionDenied):
    code = "not_whitelisted"
    title = "This community admits whitelisted users only"


class RateLimited(WagerkitError):
    """Too many requests of one kind; ``retry_after`` says how many seconds to wait."""

    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: float = 1.0) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


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


# -- payments (deposits and withdrawals) ------------------------------------------------------


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    title = "Payment not found"


class PaymentProviderUnavailable(InvalidInput):
    code = "payment_provider_unavailable"
    title = "Payment provider is not configured or not enabled"


class WebhookMalformed(InvalidInput):
    code = "webhook_malformed"
    title = "Webhook body is malformed"


class WebhookSignatureInvalid(AuthenticationFailed):
    code = "webhook_bad_signature"
    title = "Webhook signature does not verify"


class PaymentMismatch(Conflict):
    code = "payment_mismatch"
    title = "Webhook amount or currency does not match the payment"


class PaymentAlreadyFinal(Conflict):
    code = "payment_already_final"
    title = "Payment already succeeded or failed"

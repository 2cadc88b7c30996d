"""The one exception tree of wagerkit.

Every error a caller can see is a ``WagerkitError`` with a stable machine ``code`` (used as the
problem+json ``code`` over HTTP and printed by the CLI) and a readable message that never
contains secrets::

    WagerkitError
    ├── InvalidInput                 invalid_input       bad shape or value of a command
    │   ├── InvalidAmount            invalid_amount      not a positive integer / too precise
    │   ├── UnknownCurrency          unknown_currency
    │   ├── PaymentProviderUnavailable  payment_provider_unavailable  unknown or disabled provider
    │   ├── WebhookMalformed         webhook_malformed   a verified webhook body we cannot read
    │   ├── UnknownOutcome           unknown_outcome     not an outcome of this event
    │   ├── (InvalidAmount) StakeOutOfRange  stake_out_of_range  below min or above max stake
    │   ├── TicketLimitExceeded      ticket_limit_exceeded  over a raffle's per-user limit
    │   └── DrawError                invalid_draw        a draw's input or record is malformed
    │       └── BeaconInvalid        beacon_invalid      bad signature/randomness, wrong or early round
    ├── NotFound                     not_found
    │   ├── UserNotFound             user_not_found
    │   ├── AccountNotFound          account_not_found
    │   ├── TransferNotFound         transfer_not_found
    │   ├── PaymentNotFound          payment_not_found
    │   ├── EventNotFound            event_not_found
    │   ├── PriceNotFound            price_not_found     no tick recorded for the symbol
    │   ├── ContractNotFound         contract_not_found
    │   ├── RoundNotFound            round_not_found
    │   ├── RaffleNotFound           raffle_not_found    no such raffle, category or record
    │   └── MessageNotFound          message_not_found
    ├── AuthenticationFailed         unauthenticated     who is asking could not be established
    │   ├── InvalidCredentials       invalid_credentials wrong login or password
    │   ├── TokenInvalid             token_invalid       malformed, tampered or wrong-algorithm token
    │   ├── TokenExpired             token_expired
    │   ├── WebhookSignatureInvalid  webhook_bad_signature  a payment webhook's HMAC does not match
    │   └── TelegramAuthError        telegram_auth_failed
    │       ├── TelegramMalformed    telegram_malformed  not Telegram's format
    │       ├── TelegramBadHash      telegram_bad_hash   HMAC does not match (wrong token/tampered)
    │       ├── TelegramBadSignature telegram_bad_signature  Ed25519 signature does not verify
    │       ├── TelegramExpired      telegram_expired    auth_date too old, or in the future
    │       └── TelegramMissingUser  telegram_missing_user  no usable user in the data
    ├── PermissionDenied             forbidden           the actor may not do this
    │   ├── AccountBanned            account_banned
    │   ├── NotWhitelisted           not_whitelisted     whitelist mode admits this user not
    │   └── ChatMuted                chat_muted          an operator muted this user in chat
    ├── RateLimited                  rate_limited        too many requests; see retry_after
    ├── Conflict                     conflict
    │   ├── IdempotencyConflict      idempotency_conflict  same key, other content
    │   ├── AlreadyExists            already_exists
    │   ├── PaymentMismatch          payment_mismatch    webhook amount/currency differ from the payment
    │   ├── PaymentAlreadyFinal      payment_already_final  succeeded or failed already, the other way
    │   ├── AlreadyBet               already_bet         one bet per user per event (no top-up)
    │   ├── PriceUnavailable         price_unavailable   no fresh tick to enter or close at
    │   ├── ExposureLimit            exposure_limit      the house's exposure limit would be passed
    │   ├── ContractStateConflict    contract_state_conflict  the contract's status forbids this
    │   ├── RoundClosed              round_closed        the round takes no more bets
    │   ├── RaffleStateConflict      raffle_state_conflict  the raffle's status forbids this
    │   │   ├── TicketUnavailable    ticket_unavailable  a chosen number is already sold
    │   │   └── SoldOut              sold_out            fewer free numbers than asked for
    │   └── EventStateConflict       event_state_conflict  the event's status forbids this
    │       ├── EventAlreadyResolved event_already_resolved  settled or voided already (or under way)
    │       ├── BettingClosed        betting_closed      not open, or past betting's close
    │       └── EventHasBets         event_has_bets      edits are allowed only before any bet
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
    ├── (orders, docs/orders.md) OrderNotFound order_not_found, ReportNotFound
    │   report_not_found, OrderStateConflict order_state_conflict (OrderClosed order_closed,
    │   OrderExpired order_expired, OrderFull order_full, OrderLocked order_locked),
    │   ActiveOrderExists active_order_exists, AlreadyReviewed already_reviewed,
    │   OwnOrder own_order, ReportNotAllowed report_not_allowed
    └── StoreError                   store_error         the store failed (not the caller's fault)
        ├── TransientStoreError      store_busy          lost a race; safe to retry
        └── BeaconUnavailable        beacon_unavailable  the drand relay is unreachable or answers garbage
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccountBanned",
    "AccountFrozen",
    "AccountNotFound",
    "ActiveOrderExists",
    "AlreadyBet",
    "AlreadyExists",
    "AlreadyReviewed",
    "AuthenticationFailed",
    "BeaconInvalid",
    "BeaconUnavailable",
    "BettingClosed",
    "ChatMuted",
    "Conflict",
    "ContractNotFound",
    "ContractStateConflict",
    "CreditLimitExceeded",
    "CurrencyMismatch",
    "DrawError",
    "EventAlreadyResolved",
    "EventHasBets",
    "EventNotFound",
    "EventStateConflict",
    "ExceedsPendingAmount",
    "ExposureLimit",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidCredentials",
    "InvalidInput",
    "LedgerRefused",
    "LinkedTransferFailed",
    "MessageNotFound",
    "NotFound",
    "NotPending",
    "NotWhitelisted",
    "OrderClosed",
    "OrderExpired",
    "OrderFull",
    "OrderLocked",
    "OrderNotFound",
    "OrderStateConflict",
    "OwnOrder",
    "PaymentAlreadyFinal",
    "PaymentMismatch",
    "PaymentNotFound",
    "PaymentProviderUnavailable",
    "PendingAlreadyPosted",
    "PendingAlreadyVoided",
    "PendingExpired",
    "PendingNotFound",
    "PermissionDenied",
    "PriceNotFound",
    "PriceUnavailable",
    "RaffleNotFound",
    "RaffleStateConflict",
    "RateLimited",
    "ReportNotAllowed",
    "ReportNotFound",
    "RoundClosed",
    "RoundNotFound",
    "SameAccount",
    "SoldOut",
    "StakeOutOfRange",
    "StoreError",
    "TelegramAuthError",
    "TelegramBadHash",
    "TelegramBadSignature",
    "TelegramExpired",
    "TelegramMalformed",
    "TelegramMissingUser",
    "TicketLimitExceeded",
    "TicketUnavailable",
    "TokenExpired",
    "TokenInvalid",
    "TransferNotFound",
    "TransientStoreError",
    "UnknownCurrency",
    "UnknownOutcome",
    "UserNotFound",
    "WagerkitError",
    "WebhookMalformed",
    "WebhookSignatureInvalid",
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


# -- pari-mutuel events and chat (docs/events.md) ----------------------------------------------


class EventNotFound(NotFound):
    code = "event_not_found"
    title = "Event not found"


class MessageNotFound(NotFound):
    code = "message_not_found"
    title = "Chat message not found"


class UnknownOutcome(InvalidInput):
    code = "unknown_outcome"
    title = "Not an outcome of this event"


class StakeOutOfRange(InvalidAmount):
    code = "stake_out_of_range"
    title = "Stake outside the event's limits"


class EventStateConflict(Conflict):
    code = "event_state_conflict"
    title = "The event's status does not allow this"


class EventAlreadyResolved(EventStateConflict):
    code = "event_already_resolved"
    title = "The event is already settled or voided"


class BettingClosed(EventStateConflict):
    code = "betting_closed"
    title = "Betting on this event is closed"


class EventHasBets(EventStateConflict):
    code = "event_has_bets"
    title = "The event has bets and can no longer be edited"


class AlreadyBet(Conflict):
    code = "already_bet"
    title = "You already bet on this event"


class ChatMuted(PermissionDenied):
    code = "chat_muted"
    title = "You are muted in chat"


# -- raffle draws and randomness beacons (docs/draw.md) -------------------------------------------


class DrawError(InvalidInput):
    code = "invalid_draw"
    title = "Invalid draw input"


class BeaconInvalid(DrawError):
    code = "beacon_invalid"
    title = "The beacon round does not verify or is too early"


class BeaconUnavailable(StoreError):
    code = "beacon_unavailable"
    title = "The randomness beacon could not be reached"


# -- price predictions (docs/predictions.md) ----------------------------------------------------


class ContractNotFound(NotFound):
    code = "contract_not_found"
    title = "Prediction contract not found"


class RoundNotFound(NotFound):
    code = "round_not_found"
    title = "Prediction round not found"


class PriceUnavailable(Conflict):
    code = "price_unavailable"
    title = "No fresh price for this symbol"


class ExposureLimit(Conflict):
    code = "exposure_limit"
    title = "The house's exposure limit would be exceeded"


class ContractStateConflict(Conflict):
    code = "contract_state_conflict"
    title = "The contract's status does not allow this"


class RoundClosed(Conflict):
    code = "round_closed"
    title = "Betting on this round is closed"


class PriceNotFound(NotFound):
    code = "price_not_found"
    title = "No price recorded for this symbol"


# -- raffles (docs/raffles.md) ----------------------------------------------------------------
class RaffleNotFound(NotFound):
    code = "raffle_not_found"
    title = "No such raffle, category or record"


class RaffleStateConflict(Conflict):
    code = "raffle_state_conflict"
    title = "The raffle's status forbids this"


class TicketUnavailable(RaffleStateConflict):
    code = "ticket_unavailable"
    title = "A chosen number is already sold"


class SoldOut(RaffleStateConflict):
    code = "sold_out"
    title = "Not enough free numbers left"


class TicketLimitExceeded(InvalidInput):
    code = "ticket_limit_exceeded"
    title = "Over the raffle's per-user ticket limit"


def all_error_types() -> list[type[WagerkitError]]:
    """Every error class, depth first, for docs and exhaustive mapping tests."""
    out: list[type[WagerkitError]] = []

    def walk(cls: type[WagerkitError]) -> None:
        out.append(cls)
        for sub in cls.__subclasses__():
            walk(sub)

    walk(WagerkitError)
    return out


# -- the service-order marketplace (docs/orders.md) -------------------------------------------


class OrderNotFound(NotFound):
    code = "order_not_found"
    title = "Order not found"


class ReportNotFound(NotFound):
    code = "report_not_found"
    title = "Contact report not found"


class OrderStateConflict(Conflict):
    code = "order_state_conflict"
    title = "The order's status does not allow this"


class OrderClosed(OrderStateConflict):
    code = "order_closed"
    title = "The order is no longer active"


class OrderExpired(OrderStateConflict):
    code = "order_expired"
    title = "The order expired"


class OrderFull(OrderStateConflict):
    code = "order_full"
    title = "The order has its maximum number of executors"


class OrderLocked(OrderStateConflict):
    code = "order_locked"
    title = "The order was taken and can no longer be edited"


class ActiveOrderExists(Conflict):
    code = "active_order_exists"
    title = "This contact already has an active order"


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    title = "Already reviewed"


class OwnOrder(PermissionDenied):
    code = "own_order"
    title = "You cannot take your own order"


class ReportNotAllowed(PermissionDenied):
    code = "report_not_allowed"
    title = "You may not report this contact"

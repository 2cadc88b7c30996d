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

from .areas import (
    ActiveOrderExists,
    AlreadyBet,
    AlreadyReviewed,
    BeaconInvalid,
    BeaconUnavailable,
    BettingClosed,
    ChatMuted,
    ContractNotFound,
    ContractStateConflict,
    DrawError,
    EventAlreadyResolved,
    EventHasBets,
    EventNotFound,
    EventStateConflict,
    ExposureLimit,
    MessageNotFound,
    OrderClosed,
    OrderExpired,
    OrderFull,
    OrderLocked,
    OrderNotFound,
    OrderStateConflict,
    OwnOrder,
    PriceNotFound,
    PriceUnavailable,
    RaffleNotFound,
    RaffleStateConflict,
    ReportNotAllowed,
    ReportNotFound,
    RoundClosed,
    RoundNotFound,
    SoldOut,
    StakeOutOfRange,
    TicketLimitExceeded,
    TicketUnavailable,
    UnknownOutcome,
)
from .core import (
    AccountBanned,
    AccountFrozen,
    AccountNotFound,
    AlreadyExists,
    AuthenticationFailed,
    Conflict,
    CreditLimitExceeded,
    CurrencyMismatch,
    ExceedsPendingAmount,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidCredentials,
    InvalidInput,
    LedgerRefused,
    LinkedTransferFailed,
    NotFound,
    NotPending,
    NotWhitelisted,
    PaymentAlreadyFinal,
    PaymentMismatch,
    PaymentNotFound,
    PaymentProviderUnavailable,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingExpired,
    PendingNotFound,
    PermissionDenied,
    RateLimited,
    SameAccount,
    StoreError,
    TelegramAuthError,
    TelegramBadHash,
    TelegramBadSignature,
    TelegramExpired,
    TelegramMalformed,
    TelegramMissingUser,
    TokenExpired,
    TokenInvalid,
    TransferNotFound,
    TransientStoreError,
    UnknownCurrency,
    UserNotFound,
    WagerkitError,
    WebhookMalformed,
    WebhookSignatureInvalid,
)

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


def all_error_types() -> list[type[WagerkitError]]:
    """Every error class, depth first, for docs and exhaustive mapping tests."""
    out: list[type[WagerkitError]] = []

    def walk(cls: type[WagerkitError]) -> None:
        out.append(cls)
        for sub in cls.__subclasses__():
            walk(sub)

    walk(WagerkitError)
    return out

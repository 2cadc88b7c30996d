"""The errors of the areas: events and chat, draws, price predictions, raffles and service
orders (the tree and its codes: ``wagerkit.domain.errors``)."""

from __future__ import annotations

from .core import (
    Conflict,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StoreError,
)

__all__ = [
    "ActiveOrderExists",
    "AlreadyBet",
    "AlreadyReviewed",
    "BeaconInvalid",
    "BeaconUnavailable",
    "BettingClosed",
    "ChatMuted",
    "ContractNotFound",
    "ContractStateConflict",
    "DrawError",
    "EventAlreadyResolved",
    "EventHasBets",
    "EventNotFound",
    "EventStateConflict",
    "ExposureLimit",
    "MessageNotFound",
    "OrderClosed",
    "OrderExpired",
    "OrderFull",
    "OrderLocked",
    "OrderNotFound",
    "OrderStateConflict",
    "OwnOrder",
    "PriceNotFound",
    "PriceUnavailable",
    "RaffleNotFound",
    "RaffleStateConflict",
    "ReportNotAllowed",
    "ReportNotFound",
    "RoundClosed",
    "RoundNotFound",
    "SoldOut",
    "StakeOutOfRange",
    "TicketLimitExceeded",
    "TicketUnavailable",
    "UnknownOutcome",
]


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

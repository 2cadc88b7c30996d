"""The live-update vocabulary, public: Socket.IO message names, rooms and payload builders.

Services publish typed notifications (``wagerkit.domain.notifications``); ``LiveUpdates`` turns
them into these messages and sends them through a ``RealtimeSink`` (the Socket.IO adapter in
``wagerkit.adapters.realtime``). Servers and other entry points import the names from here.
"""

from .services.events.live import (
    CHAT_DELETED,
    CHAT_MESSAGE,
    EVENT_SETTLED,
    EVENT_UPDATE,
    EVENT_VOIDED,
    chat_payload,
    event_room,
    pool_payload,
    register_event_updates,
)
from .services.predictions.live import (
    CONTRACT_RESULT,
    ROUND_UPDATE,
    register_prediction_updates,
    round_room,
    symbol_rounds_room,
)
from .services.prices import PRICE_TICK, price_payload, price_room, register_price_updates
from .services.raffles.live import (
    RAFFLE_CLOSED,
    RAFFLE_DRAWN,
    RAFFLE_UPDATE,
    raffle_payload,
    raffle_room,
    register_raffle_updates,
)
from .services.realtime import (
    BALANCE_UPDATE,
    ChainPublisher,
    LiveUpdates,
    Read,
    balance_payload,
    balance_view,
    user_room,
)

__all__ = [
    "BALANCE_UPDATE",
    "CHAT_DELETED",
    "CHAT_MESSAGE",
    "CONTRACT_RESULT",
    "EVENT_SETTLED",
    "EVENT_UPDATE",
    "EVENT_VOIDED",
    "PRICE_TICK",
    "RAFFLE_CLOSED",
    "RAFFLE_DRAWN",
    "RAFFLE_UPDATE",
    "ROUND_UPDATE",
    "ChainPublisher",
    "LiveUpdates",
    "Read",
    "balance_payload",
    "balance_view",
    "chat_payload",
    "event_room",
    "pool_payload",
    "price_payload",
    "price_room",
    "raffle_payload",
    "raffle_room",
    "register_event_updates",
    "register_prediction_updates",
    "register_price_updates",
    "register_raffle_updates",
    "round_room",
    "symbol_rounds_room",
    "user_room",
]

# -- the service-order marketplace (docs/orders.md) -------------------------------------------
from .services.orders.live import (
    ORDER_NEW,
    ORDER_UPDATED,
    order_payload,
    register_order_updates,
)

__all__ += ["ORDER_NEW", "ORDER_UPDATED", "order_payload", "register_order_updates"]

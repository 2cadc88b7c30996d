"""Typed notifications: what a use case announces after its commit (docs/realtime.md).

A use case publishes one of these values through ``ports.EventPublisher`` once its change is
durable; it never says who listens. The realtime handler (``services/realtime.py``) turns them
into Socket.IO pushes; an embedding app may chain its own publisher (a queue, a bot) and match
on the same types. Every value is frozen, slotted and carries ids and facts, not views: a
listener reads what it shows when it shows it. ``topic`` names the kind in logs and bridges.

A new area adds its own subclasses of ``Notification`` (in its own domain module); listeners
ignore the kinds they do not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .chat import ChatMessage
from .events import EventStatus
from .payments import PaymentKind, PaymentStatus

__all__ = [
    "ChatDeleted",
    "ChatPosted",
    "EventChanged",
    "EventResolved",
    "Notification",
    "PaymentChanged",
    "PoolChanged",
    "UserChanged",
    "WalletChanged",
]


@dataclass(frozen=True, slots=True)
class Notification:
    """The base of every notification."""

    topic: ClassVar[str] = "notification"


@dataclass(frozen=True, slots=True)
class WalletChanged(Notification):
    """Money moved in these users' wallets (balances, holds or freezes changed)."""

    topic: ClassVar[str] = "wallet.changed"
    user_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class EventChanged(Notification):
    """An event's state changed outside betting: created, edited, opened, locked."""

    topic: ClassVar[str] = "event.updated"
    event_id: int
    status: EventStatus


@dataclass(frozen=True, slots=True)
class PoolChanged(Notification):
    """Bets were committed on an event: its pool moved."""

    topic: ClassVar[str] = "event.pool"
    event_id: int


@dataclass(frozen=True, slots=True)
class EventResolved(Notification):
    """An event was settled (``status`` settled) or voided (``refund``: every stake back).

    ``rake`` and ``paid`` are minor units of the event's currency; ``bets`` is how many bets
    the settlement covered."""

    topic: ClassVar[str] = "event.resolved"
    event_id: int
    status: EventStatus
    winning_outcome_id: int | None
    refund: bool
    rake: int
    bets: int
    paid: int

    @property
    def voided(self) -> bool:
        return self.status is EventStatus.VOIDED


@dataclass(frozen=True, slots=True)
class ChatPosted(Notification):
    """A chat message was stored."""

    topic: ClassVar[str] = "chat.message"
    message: ChatMessage


@dataclass(frozen=True, slots=True)
class ChatDeleted(Notification):
    """A chat message was removed by a moderator."""

    topic: ClassVar[str] = "chat.deleted"
    id: int
    event_id: int


@dataclass(frozen=True, slots=True)
class PaymentChanged(Notification):
    """A deposit or withdrawal changed status."""

    topic: ClassVar[str] = "payment.updated"
    payment_id: str
    user_id: int
    kind: PaymentKind
    status: PaymentStatus


@dataclass(frozen=True, slots=True)
class UserChanged(Notification):
    """A user's role, status or whitelisting was written. ``banned``: the users are banned
    now, so their open connections must be cut off."""

    topic: ClassVar[str] = "user.changed"
    user_ids: tuple[int, ...]
    banned: bool = False


# -- outbound messages to people, outside the app (docs/notifications.md) ------------------
__all__ += ["OutboundMessage"]


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message for a person on a chat service (a Telegram chat), sent by a ``Notifier``.

    ``chat_id`` is the service's chat (for Telegram, a private chat's id is the user's Telegram
    id); ``text`` is plain text; ``link`` / ``link_text`` make one button under the message
    (``link`` is what the adapter opens: for the Telegram adapter an order's id such as
    ``order_<id>`` becomes a Mini App ``startapp`` deep link, a full ``https://`` URL is used
    as it is).
    """

    chat_id: int
    text: str
    link: str | None = None
    link_text: str | None = None

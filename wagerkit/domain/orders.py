"""The service-order marketplace (SPEC section 6, seed 001; docs/orders.md).

A **client** posts an urgent order (category, city, description, a protected contact). An
**executor** *takes* it by paying the category's access fee (wallet → house) and then sees
the contact; at most ``max_executors`` executors take one order. An order is ``active`` until
the client completes or closes it, or the client deletes it before any take, or the job
runner closes it: past its lifetime it is ``expired`` (no refund); taken, but the client did
not mark it responded within the response window of the first take, it is
``closed_no_response`` and every fee not yet refunded is refunded.

Everything here is pure: value types and the rules as functions over them. The service
(``wagerkit/services/orders/``) reads, decides with these functions, moves money through the
ledger and writes.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from .errors import (
    InvalidInput,
    OrderClosed,
    OrderExpired,
    OrderFull,
    OrderLocked,
    OwnOrder,
    PermissionDenied,
    ReportNotAllowed,
)
from .notifications import Notification
from .text import clean_name, clean_text

__all__ = [
    "COMPLAINT_REASONS",
    "CONTACT_MAX",
    "DEFAULT_CATEGORIES",
    "DESCRIPTION_MAX",
    "FEE_CODE",
    "ID_ALPHABET",
    "REFUND_CODE",
    "REPORT_REJECTION_LIMIT",
    "REPORT_WINDOW",
    "Complaint",
    "ContactReport",
    "NotifyMode",
    "Order",
    "OrderCategory",
    "OrderCreated",
    "OrderStats",
    "OrderStatus",
    "OrderUpdated",
    "Preferences",
    "ReportStatus",
    "Review",
    "Take",
    "auto_close",
    "can_see_contact",
    "check_category",
    "check_city",
    "check_contact",
    "check_description",
    "check_edit",
    "check_report",
    "check_review",
    "check_take",
    "is_expired",
    "new_order_id",
    "refund_due",
]

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ID_LENGTH = 12
_ID = re.compile(r"[A-Za-z0-9_-]{12}")
_SLUG = re.compile(r"[a-z][a-z0-9_]{1,31}")
DESCRIPTION_MAX = 1000
CONTACT_MAX = 100
CITY_MAX = 100
FEE_CODE = "fee"
REFUND_CODE = "refund"
REPORT_WINDOW = timedelta(hours=24)
#: an executor with this many rejected invalid-contact reports may report no more
REPORT_REJECTION_LIMIT = 3

#: the executor's complaint about a client: one of these fixed reasons (docs/orders.md)
COMPLAINT_REASONS: tuple[str, ...] = (
    "no_response",  # the client never answered
    "wrong_contact",  # the contact reached someone else
    "order_cancelled",  # the client cancelled after the take
    "rude",  # abusive or rude behaviour
    "fraud",  # spam, a fake order or an attempt to cheat
)


class OrderStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    EXPIRED = "expired"
    DELETED = "deleted"
    CLOSED_NO_RESPONSE = "closed_no_response"
    CLOSED = "closed"  # the client closed it (responded or not); no refund


class NotifyMode(StrEnum):
    INSTANT = "instant"
    DIGEST = "digest"
    OFF = "off"


class ReportStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class OrderCategory:
    """An operator-managed category with its terms (fee in minor units of the orders'
    currency; lifetime and response window in minutes)."""

    slug: str
    name: str
    fee: int = 2
    max_executors: int = 3
    lifetime_minutes: int = 60
    response_minutes: int = 15
    active: bool = True

    def checked(self) -> OrderCategory:
        if not _SLUG.fullmatch(self.slug):
            raise InvalidInput("category slug must be 2-32 characters of a-z 0-9 _")
        name = clean_name(self.name, "category name")
        for value, what, low, high in (
            (self.fee, "fee", 0, 10**12),
            (self.max_executors, "max_executors", 1, 20),
            (self.lifetime_minutes, "lifetime_minutes", 1, 7 * 24 * 60),
            (self.response_minutes, "response_minutes", 1, 7 * 24 * 60),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidInput(f"{what} must be an integer from {low} to {high}")
        return dataclasses.replace(self, name=name)


#: the seed's seven categories with its terms (fee 2, 3 executors, 60 and 15 minutes)
DEFAULT_CATEGORIES: tuple[OrderCategory, ...] = tuple(
    OrderCategory(slug, name)
    for slug, name in (
        ("plumbing", "Plumbing"),
        ("electrical", "Electrical"),
        ("locksmith", "Locksmith"),
        ("appliances", "Appliance repair"),
        ("cleaning", "Cleaning"),
        ("moving", "Moving and delivery"),
        ("other", "Other"),
    )
)


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    client_id: int
    category: str
    description: str
    city: str
    contact: str
    status: OrderStatus
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    fee: int  # the category's terms when the order was created
    max_executors: int
    response_minutes: int
    currency: str
    takers: int = 0
    responded: bool = False
    respond_by: datetime | None = None  # the first take + the response window
    closed_at: datetime | None = None

    @property
    def city_locked(self) -> bool:
        return self.takers > 0

    @property
    def free_slots(self) -> int:
        return max(0, self.max_executors - self.takers)

    @property
    def lifetime(self) -> timedelta:
        return self.expires_at - self.created_at

    def with_status(self, status: OrderStatus, now: datetime) -> Order:
        closed = None if status is OrderStatus.ACTIVE else now
        return dataclasses.replace(self, status=status, updated_at=now, closed_at=closed)


@dataclass(frozen=True, slots=True)
class Take:
    """An executor's paid access to an order's contact (``refunded``: the fee came back)."""

    order_id: str
    executor_id: int
    fee: int
    transfer_id: str
    taken_at: datetime
    refunded: bool = False


@dataclass(frozen=True, slots=True)
class OrderStats:
    """A user's order counts (``GET /users/me``), counted by the store, whatever its history:
    the orders it created by status, and the takes it made."""

    created_by_status: dict[OrderStatus, int] = dataclasses.field(default_factory=dict)
    taken: int = 0

    @property
    def created(self) -> int:
        return sum(self.created_by_status.values())

    @property
    def completed(self) -> int:
        return self.created_by_status.get(OrderStatus.COMPLETED, 0)


@dataclass(frozen=True, slots=True)
class ContactReport:
    id: int
    order_id: str
    executor_id: int
    reason: str
    status: ReportStatus
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """The client's rating of one executor on one order."""

    id: int
    order_id: str
    client_id: int
    executor_id: int
    stars: int
    text: str
    created_at: datetime
    category: str = ""
    city: str = ""


@dataclass(frozen=True, slots=True)
class Complaint:
    """An executor's complaint about the client of an order it took."""

    id: int
    order_id: str
    executor_id: int
    reason: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Preferences:
    """An executor's subscriptions and notification setting (and the profile's phone)."""

    user_id: int
    categories: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    mode: NotifyMode = NotifyMode.INSTANT
    digest_minutes: int = 60
    phone: str = ""
    digest_after: datetime | None = None  # orders newer than this go in the next digest
    digest_due: datetime | None = None  # when the next digest is due (digest mode)

    def matches(self, order: Order) -> bool:
        """An order this executor subscribed to (an empty list matches everything)."""
        cats = not self.categories or order.category in self.categories
        cities = not self.cities or order.city.casefold() in {c.casefold() for c in self.cities}
        return cats and cities and order.client_id != self.user_id


# -- typed notifications (published after the commit) ------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderCreated(Notification):
    topic: ClassVar[str] = "order.created"
    order_id: str
    category: str
    city: str
    client_id: int


@dataclass(frozen=True, slots=True)
class OrderUpdated(Notification):
    """Takers changed, or the order was edited or closed (``status``)."""

    topic: ClassVar[str] = "order.updated"
    order_id: str
    status: OrderStatus
    takers: int


# -- the rules ----------------------------------------------------------------------------------
def new_order_id() -> str:
    """12 URL-safe random characters (72 bits)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def is_order_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_description(value: object) -> str:
    return clean_text(value, "description", max_length=DESCRIPTION_MAX, multiline=True)


def check_contact(value: object) -> str:
    return clean_text(value, "contact", max_length=CONTACT_MAX)


def check_city(value: object) -> str:
    return clean_name(value, "city", max_length=CITY_MAX)


def check_category(slug: object, categories: Iterable[OrderCategory]) -> OrderCategory:
    for c in categories:
        if c.slug == slug and c.active:
            return c
    raise InvalidInput(f"unknown category {str(slug)[:40]!r}")


def is_expired(order: Order, now: datetime) -> bool:
    return now >= order.expires_at


def auto_close(order: Order, now: datetime) -> OrderStatus | None:
    """The job runner's decision for an active order: ``closed_no_response`` once the
    response window of the first take passed unanswered (fees refunded), else ``expired``
    once its lifetime passed (no refund), else nothing. The window wins when both passed:
    executors who paid and never heard back get their fee back."""
    if order.status is not OrderStatus.ACTIVE:
        return None
    if order.respond_by is not None and not order.responded and now >= order.respond_by:
        return OrderStatus.CLOSED_NO_RESPONSE
    if is_expired(order, now):
        return OrderStatus.EXPIRED
    return None


def refund_due(status: OrderStatus) -> bool:
    """Whether closing with ``status`` refunds every fee."""
    return status is OrderStatus.CLOSED_NO_RESPONSE


def check_take(order: Order, executor_id: int, now: datetime) -> None:
    """May ``executor_id`` (who has not taken it yet) take ``order`` now? Raises why not.
    ``OrderExpired`` means the caller must mark it expired (on the spot)."""
    if order.client_id == executor_id:
        raise OwnOrder()
    if order.status is not OrderStatus.ACTIVE:
        raise OrderClosed(f"the order is {order.status.value}")
    if auto_close(order, now) is not None:
        raise OrderExpired()
    if order.takers >= order.max_executors:
        raise OrderFull(f"at most {order.max_executors} executors may take an order")


def can_see_contact(order: Order, user_id: int | None, takers: Iterable[int]) -> bool:
    """The client and the executors who paid (refunded or not) see the contact."""
    return user_id is not None and (user_id == order.client_id or user_id in set(takers))


def check_edit(order: Order, *, city_changes: bool) -> None:
    """Edit or delete: only while active and never taken (the city is locked once taken)."""
    if order.status is not OrderStatus.ACTIVE:
        raise OrderClosed(f"the order is {order.status.value}")
    if order.takers > 0:
        raise OrderLocked(
            "the city is locked once taken" if city_changes else "the order was taken already"
        )


def check_report(take: Take | None, now: datetime, rejected: int) -> None:
    """May an executor report the contact of an order as invalid? It paid (and was not
    refunded), within ``REPORT_WINDOW`` of its take, and has fewer than
    ``REPORT_REJECTION_LIMIT`` rejected reports."""
    if take is None:
        raise PermissionDenied("only an executor who took the order may report its contact")
    if take.refunded:
        raise ReportNotAllowed("the fee was refunded already")
    if now - take.taken_at > REPORT_WINDOW:
        raise ReportNotAllowed("reports are accepted within 24 hours of the take")
    if rejected >= REPORT_REJECTION_LIMIT:
        raise ReportNotAllowed(
            f"{rejected} of your reports were rejected: you may no longer report contacts"
        )


def check_review(order: Order, client_id: int, executor_id: int, takers: Sequence[int]) -> None:
    """The client rates an executor who took the order, after completion or expiry."""
    if order.client_id != client_id:
        raise PermissionDenied("only the order's client may review its executors")
    if executor_id not in takers:
        raise InvalidInput("that executor did not take this order")
    if order.status not in (OrderStatus.COMPLETED, OrderStatus.EXPIRED):
        raise OrderClosed("reviews open once the order is completed or expired")


def check_stars(stars: object) -> int:
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise InvalidInput("rating must be an integer from 1 to 5")
    return stars

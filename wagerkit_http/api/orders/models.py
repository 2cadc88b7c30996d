"""Request and response models of the orders endpoints (docs/orders.md, seed 001's shapes).

Requests check shapes and bounds only (strict types, lengths); every rule about the values is
the use case's (422). Responses never carry a contact the reader may not see, nor anyone's
Telegram id.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, ConfigDict, Field, StrictInt, StrictStr

from ...models import ApiModel

__all__ = [
    "CitiesQuery",
    "CityList",
    "ComplaintIn",
    "ComplaintOut",
    "DecideIn",
    "NotificationSettingsIn",
    "OrderCategoryIn",
    "OrderCategoryList",
    "OrderCategoryOut",
    "OrderIn",
    "OrderList",
    "OrderOut",
    "OrderPatch",
    "OrdersQuery",
    "PreferencesIn",
    "PreferencesOut",
    "ProfileIn",
    "ProfileOut",
    "ReportIn",
    "ReportList",
    "ReportOut",
    "ReportsQuery",
    "ReviewIn",
    "ReviewList",
    "ReviewOut",
    "ReviewsQuery",
    "TakeOut",
]

_STATUS = Literal["active", "completed", "expired", "deleted", "closed_no_response", "closed"]
_ID = 2**62


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid")


class OrderIn(_In):
    """A new order (free). ``contact`` is shown only to executors who pay the fee."""

    category: StrictStr = Field(max_length=64, description="a category slug, e.g. plumbing")
    city: StrictStr = Field(max_length=200, description="a city of the list (GET /cities)")
    description: StrictStr = Field(max_length=4000, description="1-1000 characters")
    contact: StrictStr = Field(max_length=400, description="1-100 characters; protected")


class OrderPatch(_In):
    """Changes before the first take (the city is locked once taken)."""

    description: StrictStr | None = Field(None, max_length=4000)
    city: StrictStr | None = Field(None, max_length=200)
    contact: StrictStr | None = Field(None, max_length=400)


class OrdersQuery(_In):
    model_config = ConfigDict(extra="ignore")

    category: StrictStr | None = Field(None, max_length=64)
    city: StrictStr | None = Field(None, max_length=200)
    status: _STATUS = "active"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class OrderOut(ApiModel):
    id: str
    client_id: int
    category: str
    description: str
    city: str
    contact: str | None = Field(description="only for the client and executors who paid")
    status: _STATUS
    created_at: str
    expires_at: str
    minutes_left: int
    takers: int
    free_slots: int
    max_executors: int
    fee: int = Field(description="minor units of `currency`")
    currency: str
    responded: bool
    respond_by: str | None
    city_locked: bool
    taken_by_me: bool


class OrderList(ApiModel):
    orders: list[OrderOut]


class TakeOut(ApiModel):
    order: OrderOut
    contact: str
    fee: int
    currency: str
    replayed: bool = Field(description="taken before: nothing charged this time")


class ReportIn(_In):
    reason: StrictStr = Field(max_length=2000, description="why the contact does not work")


class DecideIn(_In):
    reason: StrictStr = Field("", max_length=2000, description="recorded in the audit trail")


class ReportOut(ApiModel):
    id: int
    order_id: str
    executor_id: int
    reason: str
    status: Literal["pending", "accepted", "rejected"]
    created_at: str
    decided_at: str | None


class ReportList(ApiModel):
    reports: list[ReportOut]


class ReportsQuery(_In):
    model_config = ConfigDict(extra="ignore")

    status: Literal["pending", "accepted", "rejected", "all"] = "pending"


class ReviewIn(_In):
    """The client rates an executor of a completed or expired order."""

    order_id: StrictStr = Field(max_length=64)
    executor_id: StrictInt = Field(ge=1, le=_ID)
    rating: StrictInt = Field(
        validation_alias=AliasChoices("rating", "stars"), ge=1, le=5, description="1-5 stars"
    )
    text: StrictStr = Field("", max_length=4000)


class ComplaintIn(_In):
    """An executor's complaint about the client of an order it took (one per order)."""

    order_id: StrictStr = Field(max_length=64)
    reason: Literal["no_response", "wrong_contact", "order_cancelled", "rude", "fraud"]
    text: StrictStr = Field("", max_length=4000)


class ReviewOut(ApiModel):
    id: int
    order_id: str
    executor_id: int
    rating: int
    text: str
    category: str
    city: str
    created_at: str


class ReviewList(ApiModel):
    reviews: list[ReviewOut]


class ReviewsQuery(_In):
    model_config = ConfigDict(extra="ignore")

    executor_id: int | None = Field(None, ge=1, le=_ID)
    min_rating: int | None = Field(None, ge=1, le=5)
    max_rating: int | None = Field(None, ge=1, le=5)
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class ComplaintOut(ApiModel):
    id: int
    order_id: str
    reason: str
    text: str
    created_at: str


class ProfileIn(_In):
    display_name: StrictStr | None = Field(None, max_length=200)
    phone: StrictStr | None = Field(None, max_length=64)


class ProfileOut(ApiModel):
    id: int
    display_name: str
    role: str
    balance: int = Field(description="minor units of `currency` (the orders' currency)")
    currency: str
    orders_created: int
    orders_taken: int
    completed_orders_count: int
    rating: float | None = Field(description="rating_sum / rating_count")
    rating_sum: int
    rating_count: int
    phone: str


class PreferencesIn(_In):
    categories: list[StrictStr] | None = Field(None, max_length=50)
    cities: list[StrictStr] | None = Field(None, max_length=50)


class NotificationSettingsIn(_In):
    mode: Literal["instant", "digest", "off"] = Field(
        validation_alias=AliasChoices("mode", "frequency")
    )
    digest_minutes: StrictInt | None = Field(None, ge=5, le=1440)


class PreferencesOut(ApiModel):
    categories: list[str]
    cities: list[str]
    mode: Literal["instant", "digest", "off"]
    digest_minutes: int


class OrderCategoryIn(_In):
    name: StrictStr = Field(max_length=200)
    fee: StrictInt = Field(ge=0, le=10**12, description="minor units of the orders' currency")
    max_executors: StrictInt = Field(3, ge=1, le=20)
    lifetime_minutes: StrictInt = Field(60, ge=1, le=10080)
    response_minutes: StrictInt = Field(15, ge=1, le=10080)
    active: bool = True


class OrderCategoryOut(ApiModel):
    slug: str
    name: str
    fee: int
    currency: str
    max_executors: int
    lifetime_minutes: int
    response_minutes: int
    active: bool


class OrderCategoryList(ApiModel):
    categories: list[OrderCategoryOut]


class CitiesQuery(_In):
    model_config = ConfigDict(extra="ignore")

    prefix: StrictStr = Field("", max_length=64)
    limit: int = Field(10, ge=1, le=50)


class CityList(ApiModel):
    cities: list[str]

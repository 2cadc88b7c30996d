"""What the v1 blueprints share: OpenAPI shorthands, the user and balance views, the
``Idempotency-Key`` header, times as the API sends them, event ids from the path and optional
bodies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic_ext import openapi

from wagerkit import CurrencyRegistry, EventNotFound, User, WalletBalance
from wagerkit.realtime import balance_view

from ..context import WagerkitRequest
from ..models import BalanceOut, Problem, UserOut, component
from ..validation import parse_body

__all__ = [
    "MAX_ID",
    "balance_out",
    "event_id_of",
    "idempotency_key",
    "iso",
    "optional_body",
    "problems",
    "secured",
    "user_out",
]

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)

MAX_ID = 2**62

_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "Not signed in, or the token / sign-in data is invalid or expired",
    403: "Not allowed (role, ban, whitelist)",
    404: "No such resource",
    409: "Conflict (idempotency key reused with other content, ledger refused …)",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Invalid input",
    429: "Rate limited; see Retry-After",
    503: "Not configured or store unavailable",
}


def problems(*statuses: int) -> Callable[[F], F]:
    """Document the problem+json answers of an operation."""

    def decorate(handler: F) -> F:
        for status in statuses:
            handler = openapi.response(
                status,
                {"application/problem+json": component(Problem)},
                _DESCRIPTIONS.get(status, "Error"),
            )(handler)
        return handler

    return decorate


def secured(handler: F) -> F:
    """Mark an operation as needing ``Authorization: Bearer …`` (or ``tma …``)."""
    return openapi.secured("bearer")(handler)


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        display_name=user.display_name,
        role=user.role.value,
        status=user.status.value,
        whitelisted=user.whitelisted,
        telegram_id=user.telegram_id,
        username=user.username,
        email=user.email,
        created_at=user.created_at.isoformat(),
    )


def balance_out(b: WalletBalance, currencies: CurrencyRegistry) -> BalanceOut:
    return BalanceOut(**balance_view(b, currencies))


def idempotency_key(request: WagerkitRequest) -> str | None:
    """The ``Idempotency-Key`` header (validated by the use case: 422 when malformed)."""
    key = request.headers.get("idempotency-key")
    return key if key is not None else None


IDEMPOTENCY_HEADER = openapi.parameter(
    "Idempotency-Key",
    str,
    "header",
    description="1-64 of A-Z a-z 0-9 . _ : - ; a replay returns the first result and moves "
    "nothing; the same key with other content is 409 idempotency_conflict",
)


def iso(t: datetime) -> str:
    """A time as the API sends it: ISO 8601 in UTC."""
    return t.astimezone(UTC).isoformat()


def event_id_of(event_id: int) -> int:
    """An event id from the path (ids beyond 2**62 cannot exist; refuse before any SQL)."""
    if not 1 <= event_id <= MAX_ID:
        raise EventNotFound(f"no event {event_id}")
    return event_id


def optional_body(request: WagerkitRequest, model: type[M]) -> M:
    """The body as ``model``, or ``model()`` when the request has no body."""
    if (request.body or b"").strip():
        return parse_body(request, model)
    return model()

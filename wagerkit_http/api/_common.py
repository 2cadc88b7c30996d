"""What the v1 blueprints share: OpenAPI shorthands, the user and balance views, the
``Idempotency-Key`` header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sanic_ext import openapi

from wagerkit.domain.identity import User
from wagerkit.domain.money import CurrencyRegistry
from wagerkit.services import WalletBalance
from wagerkit.services.realtime import balance_view

from ..context import WagerkitRequest
from ..models import BalanceOut, Problem, UserOut, component

__all__ = ["balance_out", "idempotency_key", "problems", "secured", "user_out"]

F = TypeVar("F", bound=Callable[..., Any])

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

"""Pydantic models of the HTTP responses, registered as OpenAPI components.

``component(Model)`` returns the ``$ref`` to put in ``@openapi.response``; the first call also
adds the model's JSON schema (and any nested models) under ``components.schemas``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sanic_ext.extensions.openapi.definitions import Component

__all__ = [
    "ApiModel",
    "Currency",
    "CurrencyList",
    "Health",
    "Problem",
    "Ready",
    "ValidationIssue",
    "component",
]


#: every model given to ``component``, by name: OpenAPI components are keyed by the class
#: name, so a second model of the same name would silently replace the first in the document
_COMPONENTS: dict[str, type[BaseModel]] = {}


def component(model: type[BaseModel]) -> Any:
    """The OpenAPI reference to ``model`` (registered on first use). Two different models
    with one name are refused at import time (the areas' ``CategoryOut`` once collided)."""
    seen = _COMPONENTS.setdefault(model.__name__, model)
    if seen is not model:
        raise TypeError(
            f"two API models are named {model.__name__} ({seen.__module__} and "
            f"{model.__module__}): give one an area prefix"
        )
    return Component(model)


def _openapi30(schema: dict[str, Any]) -> None:
    """sanic-ext writes OpenAPI 3.0, which has no ``"type": "null"`` and no ``const``: turn
    pydantic's ``anyOf: [X, {type: null}]`` into ``X`` with ``nullable: true``, and
    ``const: v`` into ``enum: [v]``."""
    for prop in schema.get("properties", {}).values():
        if "const" in prop:  # 3.0 has no const: a one-value enum says the same
            prop["enum"] = [prop.pop("const")]
        for bound, name in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            value = prop.get(bound)
            if isinstance(value, int | float) and not isinstance(value, bool):  # 3.1 form
                prop[name], prop[bound] = value, True
        variants = prop.get("anyOf")
        if not variants or {"type": "null"} not in variants:
            continue
        rest = [v for v in variants if v != {"type": "null"}]
        del prop["anyOf"]
        if len(rest) == 1 and "$ref" not in rest[0]:
            prop.update(rest[0])
        else:
            prop["anyOf"] = rest
        prop["nullable"] = True


class ApiModel(BaseModel):
    """Base of the response models: JSON schemas fit for an OpenAPI 3.0 document."""

    model_config = ConfigDict(json_schema_extra=_openapi30)


class Health(ApiModel):
    """The process is up (says nothing about the database)."""

    status: Literal["ok"] = "ok"
    version: str


class Ready(ApiModel):
    """The server can serve requests: the database answers and its schema is current."""

    status: Literal["ready"] = "ready"
    checks: dict[str, str] = Field(
        description="each check and its outcome, e.g. database: ok, schema: at_head"
    )


class ValidationIssue(ApiModel):
    """One reason a request did not validate (the input itself is never echoed)."""

    loc: list[str | int] = Field(description='where, e.g. ["body", "amount"]')
    field: str = Field(description="the same path, dotted")
    message: str
    type: str = Field(description="pydantic's error type, e.g. int_parsing")


class Problem(ApiModel):
    """An error, as RFC 9457 ``application/problem+json``; switch on ``code``."""

    type: str = Field(description="https://wagerkit.dev/problems/<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="stable machine code, e.g. insufficient_funds")
    instance: str | None = Field(None, description="the request path")
    errors: list[ValidationIssue] | None = Field(None, description="validation_failed only")
    error_id: str | None = Field(None, description="internal_error only: quote it in reports")


class Currency(ApiModel):
    """A configured currency; amounts are integers in minor units (10^exponent per unit)."""

    code: str = Field(description="e.g. COIN")
    exponent: int = Field(ge=0, description="decimal places of the minor unit")
    default: bool = Field(description="the currency used when a command names none")


class CurrencyList(ApiModel):
    currencies: list[Currency]


# -- identity and wallets ---------------------------------------------------------------------


class UserOut(ApiModel):
    """A user as the API shows it (never the password hash)."""

    id: int
    display_name: str
    role: Literal["player", "operator", "admin"]
    status: Literal["active", "banned"]
    whitelisted: bool
    telegram_id: int | None = None
    username: str | None = None
    email: str | None = None
    created_at: str = Field(description="ISO 8601, UTC")


class SessionOut(ApiModel):
    """A successful sign-in: send ``Authorization: Bearer <access_token>`` from now on."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type
    expires_at: str = Field(description="ISO 8601, UTC; sign in again after it")
    user: UserOut


class UserList(ApiModel):
    users: list[UserOut]
    limit: int
    offset: int


class BalanceOut(ApiModel):
    """One wallet: integers in minor units, plus the same amounts formatted."""

    currency: str
    balance: int = Field(description="posted balance, minor units")
    available: int = Field(description="balance minus pending holds")
    held: int = Field(description="pending holds")
    frozen: bool
    balance_formatted: str = Field(description='e.g. "12.50"')
    available_formatted: str
    held_formatted: str


class WalletOut(ApiModel):
    user_id: int
    balances: list[BalanceOut]


class StatementEntryOut(ApiModel):
    seq: int = Field(description="journal position; pass as `before` to page")
    transfer_id: str
    timestamp: str
    code: str = Field(description="grant, adjust, deposit, …")
    kind: str
    amount: int = Field(description="+ credit to this wallet, - debit from it")
    balance_after: int
    available_after: int
    reference: str
    memo: str


class StatementOut(ApiModel):
    user_id: int
    currency: str
    entries: list[StatementEntryOut]
    next_before: int | None = Field(None, description="cursor of the next (older) page")


class AdjustmentOut(ApiModel):
    """The transfer a balance adjustment made (a replay returns the same)."""

    transfer_id: str
    user_id: int
    amount: int = Field(description="signed, minor units")
    currency: str
    code: str
    timestamp: str
    balance_after: int = Field(description="the wallet's balance right after this transfer")
    reason: str


class AuditEntryOut(ApiModel):
    id: int
    at: str
    actor_id: int | None = None
    actor_name: str
    action: str
    target: str
    reason: str
    details: dict[str, str]


class AuditList(ApiModel):
    entries: list[AuditEntryOut]
    next_before: int | None = Field(None, description="cursor of the next (older) page")


# -- payments -------------------------------------------------------------------------------


class PaymentOut(ApiModel):
    """A deposit or withdrawal (docs/payments.md)."""

    id: str
    user_id: int
    kind: Literal["deposit", "withdrawal"]
    provider: str
    amount: int = Field(description="minor units")
    currency: str
    status: Literal["pending", "succeeded", "failed"]
    provider_reference: str | None = None
    failure_reason: str = ""
    created_at: str
    updated_at: str


class PaymentList(ApiModel):
    payments: list[PaymentOut]
    next_before: int | None = Field(None, description="cursor of the next (older) page")

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


def component(model: type[BaseModel]) -> Any:
    """The OpenAPI reference to ``model`` (registered on first use)."""
    return Component(model)


def _openapi30(schema: dict[str, Any]) -> None:
    """sanic-ext writes OpenAPI 3.0, which has no ``"type": "null"``: turn pydantic's
    ``anyOf: [X, {type: null}]`` into ``X`` with ``nullable: true``."""
    for prop in schema.get("properties", {}).values():
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

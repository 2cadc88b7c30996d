"""Deposits and withdrawals over HTTP (docs/payments.md).

- ``POST /wallet/deposits``, ``POST /wallet/withdrawals`` (the signed-in user, for itself;
  ``Idempotency-Key`` honoured), ``GET /wallet/payments`` (its own, newest first);
- ``POST /payments/webhooks/{provider}``: no ``Authorization``; the raw body and the
  ``X-Wagerkit-Signature`` header go to the use case unchanged (HMAC over those bytes);
- staff: ``GET /admin/payments``, ``POST /admin/payments/{id}/confirm`` and ``/fail``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import Payment

from ..auth import authenticated
from ..context import WagerkitRequest
from ..models import ApiModel, PaymentList, PaymentOut, component
from ..validation import parse_body, parse_query
from ._common import IDEMPOTENCY_HEADER, idempotency_key, problems, secured

__all__ = ["SIGNATURE_HEADER", "admin_payments_blueprint", "payments_blueprint"]

SIGNATURE_HEADER = "X-Wagerkit-Signature"


class PaymentIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(ge=1, description="minor units")
    currency: StrictStr | None = Field(None, min_length=1, max_length=16)
    provider: StrictStr = Field(min_length=1, max_length=32, description="e.g. dev, acme")


class WebhookIn(ApiModel):
    """What a signed-webhook provider posts (documentation only: the raw bytes are checked
    against the signature, then parsed by the use case)."""

    reference: StrictStr = Field(description="the provider's id, 1-128 printable ASCII")
    payment_id: StrictStr
    status: Literal["succeeded", "failed"]
    amount: StrictInt
    currency: StrictStr


class ConfirmIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field("", max_length=500)


class FailIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field(min_length=1, max_length=500)


class PaymentsQuery(BaseModel):
    limit: int = Field(50, ge=1, le=500)
    before: int | None = Field(None, ge=1, le=2**62)


class AdminPaymentsQuery(PaymentsQuery):
    user_id: int | None = Field(None, ge=1, le=2**62)


def payment_out(p: Payment) -> PaymentOut:
    return PaymentOut(
        id=p.id,
        user_id=p.user_id,
        kind=p.kind.value,
        provider=p.provider,
        amount=p.amount,
        currency=p.currency,
        status=p.status.value,
        provider_reference=p.provider_reference,
        failure_reason=p.failure_reason,
        created_at=p.created_at.isoformat(),
        updated_at=p.updated_at.isoformat(),
    )


async def _start(request: WagerkitRequest, kind: str) -> HTTPResponse:
    actor = await authenticated(request)
    body = parse_body(request, PaymentIn)
    payments = request.app.ctx.kit.payments
    start = payments.deposit if kind == "deposit" else payments.withdraw
    p = await start(
        actor,
        actor.user_id or 0,
        body.amount,
        body.currency,
        body.provider,
        idempotency_key=idempotency_key(request),
    )
    return json(payment_out(p).model_dump())


@openapi.operation("startDeposit")
@openapi.tag("payments")
@secured
@IDEMPOTENCY_HEADER
@openapi.body({"application/json": component(PaymentIn)}, required=True)
@openapi.response(200, {"application/json": component(PaymentOut)}, "The payment")
@problems(400, 401, 403, 409, 415, 422)
async def deposit(request: WagerkitRequest) -> HTTPResponse:
    """Deposit into the signed-in user's wallet through a provider (``dev`` credits at once;
    a webhook provider leaves it pending)."""
    return await _start(request, "deposit")


@openapi.operation("startWithdrawal")
@openapi.tag("payments")
@secured
@IDEMPOTENCY_HEADER
@openapi.body({"application/json": component(PaymentIn)}, required=True)
@openapi.response(200, {"application/json": component(PaymentOut)}, "The payment")
@problems(400, 401, 403, 409, 415, 422)
async def withdraw(request: WagerkitRequest) -> HTTPResponse:
    """Withdraw from the signed-in user's wallet: held at once, paid out when confirmed."""
    return await _start(request, "withdrawal")


@openapi.operation("listMyPayments")
@openapi.tag("payments")
@secured
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(PaymentList)}, "Newest first")
@problems(401, 403, 422)
async def my_payments(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user's deposits and withdrawals."""
    actor = await authenticated(request)
    q = parse_query(request, PaymentsQuery)
    page = await request.app.ctx.kit.payments.list(
        actor, actor.user_id or 0, limit=q.limit, before=q.before
    )
    out = PaymentList(
        payments=[payment_out(p) for p in page.payments], next_before=page.next_before
    )
    return json(out.model_dump())


@openapi.operation("paymentWebhook")
@openapi.tag("payments")
@openapi.parameter(SIGNATURE_HEADER, str, "header", description="hex HMAC-SHA256 of the raw body")
@openapi.body(
    {"application/json": component(WebhookIn)},
    description="the provider's JSON, signed as sent",
    required=True,
)
@openapi.response(200, {"application/json": component(PaymentOut)}, "The payment after it")
@problems(401, 404, 409, 422)
async def webhook(request: WagerkitRequest, provider: str) -> HTTPResponse:
    """A payment provider's signed callback (no Authorization: the signature is the proof)."""
    signature = request.headers.get(SIGNATURE_HEADER.lower(), "")
    p = await request.app.ctx.kit.payments.handle_webhook(
        provider[:64], bytes(request.body or b""), signature
    )
    return json(payment_out(p).model_dump())


@openapi.operation("adminListPayments")
@openapi.tag("admin")
@secured
@openapi.parameter("user_id", int, "query", description="one user's, else everyone's")
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(PaymentList)}, "Newest first")
@problems(401, 403, 422)
async def admin_list(request: WagerkitRequest) -> HTTPResponse:
    """Staff: payments of everyone or of one user."""
    actor = await authenticated(request)
    q = parse_query(request, AdminPaymentsQuery)
    page = await request.app.ctx.kit.payments.list(actor, q.user_id, limit=q.limit, before=q.before)
    out = PaymentList(
        payments=[payment_out(p) for p in page.payments], next_before=page.next_before
    )
    return json(out.model_dump())


@openapi.operation("adminConfirmPayment")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(ConfirmIn)})
@openapi.response(200, {"application/json": component(PaymentOut)}, "The payment after it")
@problems(400, 401, 403, 404, 409, 415, 422)
async def admin_confirm(request: WagerkitRequest, payment_id: str) -> HTTPResponse:
    """Staff: mark a pending payment succeeded (audited)."""
    actor = await authenticated(request)
    reason = parse_body(request, ConfirmIn).reason if (request.body or b"").strip() else ""
    p = await request.app.ctx.kit.payments.confirm(actor, payment_id[:128], reason=reason)
    return json(payment_out(p).model_dump())


@openapi.operation("adminFailPayment")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(FailIn)}, required=True)
@openapi.response(200, {"application/json": component(PaymentOut)}, "The payment after it")
@problems(400, 401, 403, 404, 409, 415, 422)
async def admin_fail(request: WagerkitRequest, payment_id: str) -> HTTPResponse:
    """Staff: mark a pending payment failed; a withdrawal's hold is released (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, FailIn)
    p = await request.app.ctx.kit.payments.fail(actor, payment_id[:128], body.reason)
    return json(payment_out(p).model_dump())


def payments_blueprint() -> Blueprint:
    bp = Blueprint("payments")
    bp.add_route(deposit, "/wallet/deposits", methods=["POST"], name="deposit")
    bp.add_route(withdraw, "/wallet/withdrawals", methods=["POST"], name="withdraw")
    bp.add_route(my_payments, "/wallet/payments", methods=["GET"], name="mine")
    bp.add_route(webhook, "/payments/webhooks/<provider:str>", methods=["POST"], name="webhook")
    return bp


def admin_payments_blueprint() -> Blueprint:
    bp = Blueprint("admin_payments", url_prefix="/admin/payments")
    bp.add_route(admin_list, "", methods=["GET"], name="list")
    bp.add_route(admin_confirm, "/<payment_id:str>/confirm", methods=["POST"], name="confirm")
    bp.add_route(admin_fail, "/<payment_id:str>/fail", methods=["POST"], name="fail")
    return bp

"""``/api/v1/me`` and ``/api/v1/wallet``: the signed-in user, its balances and statement.

There is no user id in these paths: a caller reads only its own wallet. Staff read other
users' wallets through ``/api/v1/admin``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import PermissionDenied

from ..auth import authenticated
from ..context import WagerkitRequest
from ..models import StatementEntryOut, StatementOut, UserOut, WalletOut, component
from ..validation import parse_query
from ._common import balance_out, problems, secured, user_out

__all__ = ["me_blueprint", "wallet_blueprint"]


class StatementQuery(BaseModel):
    currency: str | None = Field(None, min_length=1, max_length=16)
    limit: int = Field(50, ge=1, le=500)
    before: int | None = Field(None, ge=1, le=2**62)


def _user_id(actor_user_id: int | None) -> int:
    if actor_user_id is None:  # pragma: no cover - HTTP actors are always users
        raise PermissionDenied("the system actor has no wallet")
    return actor_user_id


@openapi.operation("getMe")
@openapi.tag("me")
@secured
@openapi.response(200, {"application/json": component(UserOut)}, "The signed-in user")
@problems(401, 403)
async def me(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user (role and status as stored now)."""
    actor = await authenticated(request)
    user = await request.app.ctx.kit.identity.me(actor)
    return json(user_out(user).model_dump())


@openapi.operation("getWallet")
@openapi.tag("wallet")
@secured
@openapi.response(200, {"application/json": component(WalletOut)}, "Balances per currency")
@problems(401, 403)
async def wallet(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user's balances, one per currency it holds."""
    actor = await authenticated(request)
    kit = request.app.ctx.kit
    uid = _user_id(actor.user_id)
    balances = await kit.wallets.balances(actor, uid)
    out = WalletOut(user_id=uid, balances=[balance_out(b, kit.deps.currencies) for b in balances])
    return json(out.model_dump())


@openapi.operation("getStatement")
@openapi.tag("wallet")
@secured
@openapi.parameter("currency", str, "query", description="default: the default currency")
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(StatementOut)}, "Newest first")
@problems(401, 403, 422)
async def statement(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user's statement in one currency, newest first, with running balances."""
    actor = await authenticated(request)
    q = parse_query(request, StatementQuery)
    kit = request.app.ctx.kit
    uid = _user_id(actor.user_id)
    page = await kit.wallets.statement(actor, uid, q.currency, limit=q.limit, before=q.before)
    code = kit.deps.currencies[q.currency].code if q.currency else kit.deps.currencies.default.code
    out = StatementOut(
        user_id=uid,
        currency=code,
        entries=[
            StatementEntryOut(
                seq=e.seq,
                transfer_id=e.transfer_id,
                timestamp=e.timestamp,
                code=e.code,
                kind=str(e.kind.value if hasattr(e.kind, "value") else e.kind),
                amount=e.amount,
                balance_after=e.balance_after,
                available_after=e.available_after,
                reference=e.reference,
                memo=e.memo,
            )
            for e in page.entries
        ],
        next_before=page.next_before,
    )
    return json(out.model_dump())


def me_blueprint() -> Blueprint:
    bp = Blueprint("me", url_prefix="/me")
    bp.add_route(me, "", methods=["GET"], name="get")
    return bp


def wallet_blueprint() -> Blueprint:
    bp = Blueprint("wallet", url_prefix="/wallet")
    bp.add_route(wallet, "", methods=["GET"], name="get")
    bp.add_route(statement, "/statement", methods=["GET"], name="statement")
    return bp

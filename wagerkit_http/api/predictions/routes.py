"""Price predictions over HTTP (docs/predictions.md): the routes.

- players: ``POST /predictions`` (``Idempotency-Key``), ``GET /predictions/me``,
  ``GET /predictions/{id}``, ``POST /predictions/{id}/close``;
- rounds (public reads): ``GET /rounds``, ``GET /rounds/current``, ``GET /rounds/{id}``;
  players: ``POST /rounds/{id}/bets``;
- staff: ``GET /admin/predictions/exposure``, ``POST /admin/predictions/{id}/void``,
  ``POST /admin/rounds/{id}/void``.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import ContractNotFound, RoundNotFound, contract_view, round_view

from ...auth import authenticated, is_init_data
from ...context import WagerkitRequest
from ...models import component
from ...validation import parse_body, parse_query
from .._common import IDEMPOTENCY_HEADER, MAX_ID, idempotency_key, problems, secured
from .models import (
    ContractList,
    ContractOut,
    ContractReceiptOut,
    ContractsQuery,
    ExposureList,
    PlaceIn,
    RoundBetIn,
    RoundBetOut,
    RoundList,
    RoundOut,
    RoundsQuery,
    VoidReasonIn,
)

__all__ = [
    "admin_predictions_blueprint",
    "predictions_blueprint",
    "rounds_blueprint",
]

START_PRICE_NOTE = (
    "start_price was ignored: the entry price is the latest recorded tick, never the client's"
)


def _cid(contract_id: int) -> int:
    if not 1 <= contract_id <= MAX_ID:
        raise ContractNotFound(f"no contract {contract_id}")
    return contract_id


def _rid(round_id: int) -> int:
    if not 1 <= round_id <= MAX_ID:
        raise RoundNotFound(f"no round {round_id}")
    return round_id


@openapi.operation("placeContract")
@openapi.tag("predictions")
@secured
@IDEMPOTENCY_HEADER
@openapi.body({"application/json": component(PlaceIn)}, required=True)
@openapi.response(201, {"application/json": component(ContractReceiptOut)}, "Placed now")
@openapi.response(
    200, {"application/json": component(ContractReceiptOut)}, "A replay: the first answer"
)
@problems(400, 401, 403, 409, 415, 422)
async def place(request: WagerkitRequest) -> HTTPResponse:
    """Open a contract at the latest fresh price: fixed odds, or a multiplier with
    ``leverage``. 409 ``price_unavailable`` with no fresh tick, ``exposure_limit`` when the
    house's limit would be passed, ``insufficient_funds``. Honours ``Idempotency-Key``."""
    kit = request.app.ctx.kit
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip() and not is_init_data(token.strip()):
        # an access token, checked in the placement's batch after the body (a bad body is a
        # 400), the user read fresh (banned, whitelist, password) by the batch's one read
        body = parse_body(request, PlaceIn)
        r = await kit.predictions.place_with_token(
            token.strip(),
            body.symbol,
            body.direction,
            body.stake,
            duration=body.duration,
            leverage=body.leverage,
            idempotency_key=idempotency_key(request),
        )
    else:
        actor = await authenticated(request)
        body = parse_body(request, PlaceIn)
        r = await kit.predictions.place(
            actor,
            body.symbol,
            body.direction,
            body.stake,
            duration=body.duration,
            leverage=body.leverage,
            idempotency_key=idempotency_key(request),
        )
    notes = [START_PRICE_NOTE] if body.start_price is not None else []
    out = {"contract": contract_view(r.contract), "replayed": r.replayed, "notes": notes}
    return json(out, status=200 if r.replayed else 201)


@openapi.operation("listMyContracts")
@openapi.tag("predictions")
@secured
@openapi.parameter("status", str, "query", description="open, won, lost, push or void")
@openapi.parameter("symbol", str, "query", description="only this symbol")
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(ContractList)}, "Newest first")
@problems(401, 403, 422)
async def mine(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user's contracts with their results."""
    actor = await authenticated(request)
    q = parse_query(request, ContractsQuery)
    rows = await request.app.ctx.kit.predictions.list_contracts(
        actor,
        user_id=actor.user_id,
        status=q.status,
        symbol=q.symbol,
        limit=q.limit,
        before_id=q.before,
    )
    nxt = rows[-1].id if len(rows) == q.limit else None
    return json({"contracts": [contract_view(c) for c in rows], "next_before": nxt})


@openapi.operation("getContract")
@openapi.tag("predictions")
@secured
@openapi.response(200, {"application/json": component(ContractOut)}, "The contract")
@problems(401, 403, 404)
async def get_contract(request: WagerkitRequest, contract_id: int) -> HTTPResponse:
    """One contract (its owner or staff): status, entry and exit prices with their tick
    times, profit and payout, and seed 004's ``result`` (``W``/``L``)."""
    actor = await authenticated(request)
    c = await request.app.ctx.kit.predictions.get(actor, _cid(contract_id))
    return json(contract_view(c))


@openapi.operation("closeContract")
@openapi.tag("predictions")
@secured
@openapi.response(200, {"application/json": component(ContractOut)}, "The contract, closed")
@problems(401, 403, 404, 409)
async def close(request: WagerkitRequest, contract_id: int) -> HTTPResponse:
    """Close an open multiplier contract early at the latest fresh price (its owner)."""
    actor = await authenticated(request)
    c = await request.app.ctx.kit.predictions.close(actor, _cid(contract_id))
    return json(contract_view(c))


# -- rounds ------------------------------------------------------------------------------------
@openapi.operation("listRounds")
@openapi.tag("rounds")
@openapi.parameter("symbol", str, "query", description="only this symbol")
@openapi.parameter("limit", int, "query", description="1-200, default 20")
@openapi.parameter("before", int, "query", description="only rounds older than this id")
@openapi.response(200, {"application/json": component(RoundList)}, "Newest first")
@problems(422)
async def list_rounds(request: WagerkitRequest) -> HTTPResponse:
    """Rounds with their pools, lock and close prices. Public."""
    q = parse_query(request, RoundsQuery)
    rows = await request.app.ctx.kit.predictions.list_rounds(
        symbol=q.symbol, limit=q.limit, before_id=q.before
    )
    return json({"rounds": [round_view(r) for r in rows]})


@openapi.operation("currentRounds")
@openapi.tag("rounds")
@openapi.parameter("symbol", str, "query", description="only this symbol")
@openapi.response(200, {"application/json": component(RoundList)}, "Rounds taking bets now")
@problems(422)
async def current(request: WagerkitRequest) -> HTTPResponse:
    """The rounds taking bets now. Public."""
    q = parse_query(request, RoundsQuery)
    rows = await request.app.ctx.kit.predictions.current_rounds(q.symbol)
    return json({"rounds": [round_view(r) for r in rows]})


@openapi.operation("getRound")
@openapi.tag("rounds")
@openapi.response(200, {"application/json": component(RoundOut)}, "The round")
@problems(404)
async def get_round(request: WagerkitRequest, round_id: int) -> HTTPResponse:
    """One round. Public."""
    r = await request.app.ctx.kit.predictions.get_round(_rid(round_id))
    return json(round_view(r))


@openapi.operation("betRound")
@openapi.tag("rounds")
@secured
@IDEMPOTENCY_HEADER
@openapi.body({"application/json": component(RoundBetIn)}, required=True)
@openapi.response(201, {"application/json": component(RoundBetOut)}, "The bet")
@openapi.response(200, {"application/json": component(RoundBetOut)}, "A replay")
@problems(400, 401, 403, 404, 409, 415, 422)
async def bet(request: WagerkitRequest, round_id: int) -> HTTPResponse:
    """Bet up or down in an open round until its lock minus the margin (one per user)."""
    actor = await authenticated(request)
    body = parse_body(request, RoundBetIn)
    r = await request.app.ctx.kit.predictions.bet_round(
        actor,
        _rid(round_id),
        body.direction,
        body.amount,
        idempotency_key=idempotency_key(request),
    )
    out = {
        "id": r.bet.id,
        "round_id": r.bet.round_id,
        "direction": r.bet.direction.value,
        "amount": r.bet.amount,
        "replayed": r.replayed,
        "round": round_view(r.round),
    }
    return json(out, status=200 if r.replayed else 201)


# -- staff -------------------------------------------------------------------------------------
@openapi.operation("adminExposure")
@openapi.tag("admin")
@secured
@openapi.response(200, {"application/json": component(ExposureList)}, "Per symbol and total")
@problems(401, 403)
async def exposure(request: WagerkitRequest) -> HTTPResponse:
    """Staff: the house's exposure (maximum payouts of open contracts), with the limits."""
    actor = await authenticated(request)
    rows = await request.app.ctx.kit.predictions.exposure(actor)
    out = [
        {
            "currency": r.currency,
            "symbol": r.symbol,
            "exposure": r.exposure,
            "limit": r.limit or None,
        }
        for r in rows
    ]
    return json({"exposure": out})


@openapi.operation("adminVoidContract")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(VoidReasonIn)}, required=True)
@openapi.response(200, {"application/json": component(ContractOut)}, "The contract, voided")
@problems(400, 401, 403, 404, 409, 415, 422)
async def void_contract(request: WagerkitRequest, contract_id: int) -> HTTPResponse:
    """Staff: void an open contract, refunding stake and commission (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, VoidReasonIn)
    c = await request.app.ctx.kit.predictions.void(actor, _cid(contract_id), body.reason)
    return json(contract_view(c))


@openapi.operation("adminVoidRound")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(VoidReasonIn)}, required=True)
@openapi.response(200, {"application/json": component(RoundOut)}, "The round, voided")
@problems(400, 401, 403, 404, 409, 415, 422)
async def void_round(request: WagerkitRequest, round_id: int) -> HTTPResponse:
    """Staff: void an open or locked round, refunding every stake (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, VoidReasonIn)
    r = await request.app.ctx.kit.predictions.void_round(actor, _rid(round_id), body.reason)
    return json(round_view(r))


def predictions_blueprint() -> Blueprint:
    bp = Blueprint("predictions", url_prefix="/predictions")
    bp.add_route(place, "", methods=["POST"], name="place")
    bp.add_route(mine, "/me", methods=["GET"], name="mine")
    bp.add_route(get_contract, "/<contract_id:int>", methods=["GET"], name="get")
    bp.add_route(close, "/<contract_id:int>/close", methods=["POST"], name="close")
    return bp


def rounds_blueprint() -> Blueprint:
    bp = Blueprint("rounds", url_prefix="/rounds")
    bp.add_route(list_rounds, "", methods=["GET"], name="list")
    bp.add_route(current, "/current", methods=["GET"], name="current")
    bp.add_route(get_round, "/<round_id:int>", methods=["GET"], name="get")
    bp.add_route(bet, "/<round_id:int>/bets", methods=["POST"], name="bet")
    return bp


def admin_predictions_blueprint() -> Blueprint:
    bp = Blueprint("admin_predictions", url_prefix="/admin")
    bp.add_route(exposure, "/predictions/exposure", methods=["GET"], name="exposure")
    bp.add_route(
        void_contract, "/predictions/<contract_id:int>/void", methods=["POST"], name="void"
    )
    bp.add_route(void_round, "/rounds/<round_id:int>/void", methods=["POST"], name="void_round")
    return bp

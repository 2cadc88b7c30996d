"""Pari-mutuel events and bets over HTTP (docs/events.md, docs/http.md): the routes.

- public: ``GET /events`` (filter by ``status``, paged) and ``GET /events/{id}`` (the live pool;
  with an ``Authorization`` header also the caller's own bet, and a bad token is a 401);
- players: ``POST /bets`` (``Idempotency-Key`` honoured: a replay answers 200 with the first
  bet), ``GET /bets/me``;
- staff: ``POST /admin/events``, ``PATCH /admin/events/{id}``, ``POST /admin/events/{id}/open``,
  ``/lock``, ``/void``, ``/set-winner``, ``GET /admin/bets``.

The routes authenticate and translate (request models in ``models``, responses in ``views``);
the use cases decide who may do what.
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi
from sanic_ext.extensions.openapi.types import Array, String

from wagerkit import Actor, EventStatus

from ...auth import authenticated, is_init_data
from ...context import WagerkitRequest
from ...models import component
from ...models_events import BetList, BetReceiptOut, EventDetailOut, EventList, EventOut
from ...validation import parse_body, parse_query
from .._common import (
    IDEMPOTENCY_HEADER,
    event_id_of,
    idempotency_key,
    optional_body,
    problems,
    secured,
)
from .models import (
    AdminBetsQuery,
    BetIn,
    BetsQuery,
    EventIn,
    EventPatch,
    EventsQuery,
    VoidIn,
    WinnerIn,
)
from .views import bet_list, bet_out, event_out, receipt_out

__all__ = [
    "admin_bets_blueprint",
    "admin_events_blueprint",
    "bets_blueprint",
    "events_blueprint",
]

_STATUSES = [s.value for s in EventStatus]


# -- public ----------------------------------------------------------------------------------


@openapi.operation("listEvents")
@openapi.tag("events")
@openapi.parameter(
    "status",
    Array(String(enum=_STATUSES)),  # type: ignore[no-untyped-call]
    "query",
    description="only these statuses; repeat the parameter or give a comma-separated list",
)
@openapi.parameter("limit", int, "query", description="1-200, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(EventList)}, "Newest first")
@problems(422)
async def list_events(request: WagerkitRequest) -> HTTPResponse:
    """Events, newest first, with their live pools. Public: no sign-in needed."""
    q = parse_query(request, EventsQuery, lists=("status",))
    kit = request.app.ctx.kit
    events = await kit.events.list_events(statuses=q.status, limit=q.limit, before_id=q.before)
    out = {
        "events": [event_out(e) for e in events],
        "next_before": events[-1].id if len(events) == q.limit else None,
    }
    return json(out)


@openapi.operation("getEvent")
@openapi.tag("events")
@openapi.secured({})
@secured
@openapi.response(
    200, {"application/json": component(EventDetailOut)}, "The event and its live pool"
)
@problems(401, 403, 404)
async def get_event(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """One event with its live pool: per outcome the bettors, the total staked and the
    implied payout multiplier. Public; when the request carries ``Authorization`` (a bad or
    expired token is a 401), ``my_bet`` is the caller's own bet with its result."""
    actor: Actor | None = None
    if request.headers.get("authorization"):
        actor = await authenticated(request)
    kit = request.app.ctx.kit
    event = await kit.events.get(event_id_of(event_id))
    mine = await kit.events.my_bet(actor, event.id) if actor is not None else None
    out = event_out(event)
    out["my_bet"] = bet_out(mine, event.currency).model_dump() if mine is not None else None
    return json(out)


# -- players ---------------------------------------------------------------------------------


@openapi.operation("placeBet")
@openapi.tag("bets")
@secured
@IDEMPOTENCY_HEADER
@openapi.body({"application/json": component(BetIn)}, required=True)
@openapi.response(201, {"application/json": component(BetReceiptOut)}, "The bet, placed now")
@openapi.response(
    200,
    {"application/json": component(BetReceiptOut)},
    "A replay (same Idempotency-Key, same bet): the first answer, `replayed: true`, "
    "nothing charged",
)
@problems(400, 401, 403, 404, 409, 415, 422, 429)
async def place_bet(request: WagerkitRequest) -> HTTPResponse:
    """Stake ``amount`` on an outcome; the stake moves from the caller's wallet to the
    event's escrow. One bet per user and event unless the event allows topping up the same
    outcome (409 ``already_bet``); closed betting is 409 ``betting_closed``; 5 bets a minute
    per user by default (429 ``rate_limited``). Honours ``Idempotency-Key``."""
    kit = request.app.ctx.kit
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and not is_init_data(token.strip()):
        # (Bearer initData, seed 001's clients, takes the general path below; anything else
        # is an access token, checked in the batch after the body, so a bad body is a 400)
        # the user is read fresh (banned, whitelist, password) inside the bet's own batch
        body = parse_body(request, BetIn)
        receipt = await kit.events.place_bet_with_token(
            token.strip(),
            body.event_id,
            body.outcome_id,
            body.amount,
            idempotency_key=idempotency_key(request),
        )
    else:
        actor = await authenticated(request)
        body = parse_body(request, BetIn)
        receipt = await kit.events.place_bet(
            actor,
            body.event_id,
            body.outcome_id,
            body.amount,
            idempotency_key=idempotency_key(request),
        )
    out = receipt_out(receipt, receipt.currency)
    return json(out.model_dump(), status=200 if receipt.replayed else 201)


@openapi.operation("listMyBets")
@openapi.tag("bets")
@secured
@openapi.parameter("event_id", int, "query", description="only the bet on this event")
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(BetList)}, "Newest first")
@problems(401, 403, 422)
async def my_bets(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user's bets with their results (``won``/``lost``/``refunded`` and the
    payout once settled or voided)."""
    actor = await authenticated(request)
    q = parse_query(request, BetsQuery)
    kit = request.app.ctx.kit
    bets = await kit.events.bets(
        actor,
        user_id=actor.user_id,
        event_id=q.event_id,
        limit=q.limit,
        before_id=q.before,
    )
    return json(await bet_list(kit, bets, q.limit))


# -- staff -----------------------------------------------------------------------------------


@openapi.operation("adminListBets")
@openapi.tag("admin")
@secured
@openapi.parameter("event_id", int, "query", description="one event's bets")
@openapi.parameter("user_id", int, "query", description="one user's bets")
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(BetList)}, "Newest first")
@problems(401, 403, 422)
async def admin_bets(request: WagerkitRequest) -> HTTPResponse:
    """Staff: bets of everyone, of one event and/or of one user."""
    actor = await authenticated(request)
    actor.require_staff()
    q = parse_query(request, AdminBetsQuery)
    kit = request.app.ctx.kit
    bets = await kit.events.bets(
        actor, user_id=q.user_id, event_id=q.event_id, limit=q.limit, before_id=q.before
    )
    return json(await bet_list(kit, bets, q.limit))


@openapi.operation("adminCreateEvent")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(EventIn)}, required=True)
@openapi.response(201, {"application/json": component(EventOut)}, "The event created")
@problems(400, 401, 403, 415, 422)
async def create_event(request: WagerkitRequest) -> HTTPResponse:
    """Staff: create an event, ``scheduled`` (open it later) or ``open`` (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, EventIn)
    kit = request.app.ctx.kit
    event = await kit.events.create(actor, body.draft(kit.deps.currencies.default.code))
    return json(event_out(event), status=201)


@openapi.operation("adminEditEvent")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(EventPatch)}, required=True)
@openapi.response(200, {"application/json": component(EventOut)}, "The event after the edit")
@problems(400, 401, 403, 404, 409, 415, 422)
async def edit_event(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """Staff: change any of an event's fields but its status and currency, while it is
    scheduled or open and has no bets (else 409 ``event_has_bets`` /
    ``event_state_conflict``; audited)."""
    actor = await authenticated(request)
    body = parse_body(request, EventPatch)
    event = await request.app.ctx.kit.events.edit(actor, event_id_of(event_id), body.changes())
    return json(event_out(event))


@openapi.operation("adminOpenEvent")
@openapi.tag("admin")
@secured
@openapi.response(200, {"application/json": component(EventOut)}, "The event, open")
@problems(401, 403, 404, 409)
async def open_event(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """Staff: start taking bets on a scheduled event (audited)."""
    actor = await authenticated(request)
    event = await request.app.ctx.kit.events.open(actor, event_id_of(event_id))
    return json(event_out(event))


@openapi.operation("adminLockEvent")
@openapi.tag("admin")
@secured
@openapi.response(200, {"application/json": component(EventOut)}, "The event, locked")
@problems(401, 403, 404, 409)
async def lock_event(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """Staff: stop taking bets now (the job runner also locks events when betting closes)."""
    actor = await authenticated(request)
    event = await request.app.ctx.kit.events.lock(actor, event_id_of(event_id))
    return json(event_out(event))


@openapi.operation("adminVoidEvent")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(VoidIn)})
@openapi.response(200, {"application/json": component(EventOut)}, "The event, voided")
@problems(400, 401, 403, 404, 409, 415, 422)
async def void_event(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """Staff: cancel the event and refund every stake in full (body optional; audited).
    A settled or voided event is 409 ``event_already_resolved``."""
    actor = await authenticated(request)
    body = optional_body(request, VoidIn)
    event = await request.app.ctx.kit.events.void(actor, event_id_of(event_id), reason=body.reason)
    return json(event_out(event))


@openapi.operation("adminSetWinner")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(WinnerIn)}, required=True)
@openapi.response(200, {"application/json": component(EventOut)}, "The event, settled")
@problems(400, 401, 403, 404, 409, 415, 422)
async def set_winner(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """Staff: name the winning outcome and pay out (exactly once: a second call is 409
    ``event_already_resolved`` and moves nothing; an outcome of another event is 422
    ``unknown_outcome``; audited)."""
    actor = await authenticated(request)
    body = parse_body(request, WinnerIn)
    event = await request.app.ctx.kit.events.settle(
        actor, event_id_of(event_id), body.outcome_id, reason=body.reason
    )
    return json(event_out(event))


# -- blueprints ------------------------------------------------------------------------------


def events_blueprint() -> Blueprint:
    bp = Blueprint("events", url_prefix="/events")
    bp.add_route(list_events, "", methods=["GET"], name="list")
    bp.add_route(get_event, "/<event_id:int>", methods=["GET"], name="get")
    return bp


def bets_blueprint() -> Blueprint:
    bp = Blueprint("bets", url_prefix="/bets")
    bp.add_route(place_bet, "", methods=["POST"], name="place")
    bp.add_route(my_bets, "/me", methods=["GET"], name="mine")
    return bp


def admin_events_blueprint() -> Blueprint:
    bp = Blueprint("admin_events", url_prefix="/admin/events")
    bp.add_route(create_event, "", methods=["POST"], name="create")
    bp.add_route(edit_event, "/<event_id:int>", methods=["PATCH"], name="edit")
    bp.add_route(open_event, "/<event_id:int>/open", methods=["POST"], name="open")
    bp.add_route(lock_event, "/<event_id:int>/lock", methods=["POST"], name="lock")
    bp.add_route(void_event, "/<event_id:int>/void", methods=["POST"], name="void")
    bp.add_route(set_winner, "/<event_id:int>/set-winner", methods=["POST"], name="set_winner")
    return bp


def admin_bets_blueprint() -> Blueprint:
    bp = Blueprint("admin_bets", url_prefix="/admin/bets")
    bp.add_route(admin_bets, "", methods=["GET"], name="list")
    return bp

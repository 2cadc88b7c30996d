"""Raffles over HTTP (docs/raffles.md, docs/http.md): the routes.

- public: ``GET /raffles`` (``status``, paged), ``GET /raffles/{id}`` (sold count, numbers
  sold; with ``Authorization`` also the caller's numbers), ``GET /raffles/{id}/record`` (the
  public draw record), ``GET /raffles/{id}/verify``, ``GET /raffle-categories``;
- players: ``POST /raffles/{id}/tickets`` (buy; ``Idempotency-Key``), ``GET /tickets/me``;
- staff: ``/admin/raffle-categories`` (POST, PUT/DELETE ``/{id}``), ``POST /admin/raffles``,
  ``PATCH /admin/raffles/{id}``, ``POST /admin/raffles/{id}/close|draw|pay|void|correct``,
  ``GET /admin/tickets``.

The seed's routes map onto these: ``GET/POST /rifas`` → ``GET /raffles`` / ``POST
/admin/raffles``; ``POST /tickets/purchase`` → ``POST /raffles/{id}/tickets``; ``POST
/rifas/{id}/close`` → ``POST /admin/raffles/{id}/close`` then ``/draw`` (the seed picked
winners at close; here the listing is committed first and drawn from a public value).
"""

from __future__ import annotations

from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import Actor, RaffleNotFound, RaffleStatus

from ...auth import authenticated
from ...context import WagerkitRequest
from ...models import component
from ...validation import parse_body, parse_query
from .._common import IDEMPOTENCY_HEADER, MAX_ID, idempotency_key, optional_body, problems, secured
from .models import (
    BuyIn,
    CorrectIn,
    DrawIn,
    PurchaseOut,
    RaffleCategoryIn,
    RaffleCategoryList,
    RaffleCategoryOut,
    RaffleDetailOut,
    RaffleIn,
    RaffleList,
    RaffleOut,
    RafflePatch,
    RaffleReasonIn,
    RafflesQuery,
    RecordOut,
    TicketList,
    TicketsQuery,
    VerdictOut,
)
from .views import category_out, purchase_out, raffle_out, ticket_out

__all__ = ["admin_raffles_blueprint", "raffles_blueprint"]


def _id(value: int, what: str = "raffle") -> int:
    if not 1 <= value <= MAX_ID:
        raise RaffleNotFound(f"no {what} {value}")
    return value


# -- public ----------------------------------------------------------------------------------
@openapi.operation("listRaffles")
@openapi.tag("raffles")
@openapi.parameter("status", str, "query", description="open, closed, drawn or voided")
@openapi.parameter("limit", int, "query", description="1-200, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(RaffleList)}, "Newest first")
@problems(422)
async def list_raffles(request: WagerkitRequest) -> HTTPResponse:
    """Raffles, newest first, with their figures. Public."""
    q = parse_query(request, RafflesQuery)
    kit = request.app.ctx.kit
    statuses = [RaffleStatus(q.status)] if q.status else None
    raffles = await kit.raffles.list_raffles(statuses=statuses, limit=q.limit, before_id=q.before)
    return json(
        {
            "raffles": [raffle_out(r) for r in raffles],
            "next_before": raffles[-1].id if len(raffles) == q.limit else None,
        }
    )


@openapi.operation("getRaffle")
@openapi.tag("raffles")
@openapi.secured({})
@secured
@openapi.response(200, {"application/json": component(RaffleDetailOut)}, "The raffle")
@problems(401, 403, 404)
async def get_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """One raffle: terms, sold count, numbers sold, commitment, winners. Public; with
    ``Authorization`` also ``my_numbers``."""
    actor: Actor | None = None
    if request.headers.get("authorization"):
        actor = await authenticated(request)
    kit = request.app.ctx.kit
    r = await kit.raffles.get(_id(raffle_id))
    out = raffle_out(r)
    out["numbers_sold"] = await kit.raffles.sold_numbers(r.id)
    out["my_numbers"] = None
    if actor is not None and actor.user_id is not None:
        mine = await kit.raffles.tickets(actor, raffle_id=r.id, user_id=actor.user_id, limit=500)
        out["my_numbers"] = sorted(t.number for t in mine)
    return json(out)


@openapi.operation("getRaffleRecord")
@openapi.tag("raffles")
@openapi.response(200, {"application/json": component(RecordOut)}, "The public draw record")
@problems(404)
async def get_record(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """The public JSON record of a drawn raffle: listing, commitment, mode, public value and
    provenance, winners and prizes, rake (404 before the draw)."""
    return json(await request.app.ctx.kit.raffles.record(_id(raffle_id)))


@openapi.operation("verifyRaffle")
@openapi.tag("raffles")
@openapi.response(200, {"application/json": component(VerdictOut)}, "Match or mismatch")
@problems(404)
async def verify_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Recompute a drawn raffle's winners from its public record."""
    v = await request.app.ctx.kit.raffles.verify(_id(raffle_id))
    return json(
        {"raffle_id": raffle_id, "match": v.match, "reason": v.reason, "winners": v.winners}
    )


@openapi.operation("listRaffleCategories")
@openapi.tag("raffles")
@openapi.response(200, {"application/json": component(RaffleCategoryList)}, "Every category")
async def list_categories(request: WagerkitRequest) -> HTTPResponse:
    """Raffle categories with their derived figures (collection, fund, prizes). Public."""
    cats = await request.app.ctx.kit.raffles.list_categories()
    return json({"categories": [category_out(c) for c in cats]})


# -- players ---------------------------------------------------------------------------------
@openapi.operation("buyTickets")
@openapi.tag("raffles")
@secured
@IDEMPOTENCY_HEADER
@openapi.body({"application/json": component(BuyIn)}, required=True)
@openapi.response(201, {"application/json": component(PurchaseOut)}, "The tickets bought")
@openapi.response(200, {"application/json": component(PurchaseOut)}, "A replay: nothing charged")
@problems(400, 401, 403, 404, 409, 415, 422)
async def buy(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Buy chosen ``numbers`` or ``count`` random free numbers, all or nothing: the price
    moves from the caller's wallet to the raffle's escrow. Sold numbers are 409
    ``ticket_unavailable``, too few left 409 ``sold_out``, closed 409
    ``raffle_state_conflict``, over the per-user limit 422 ``ticket_limit_exceeded``."""
    kit = request.app.ctx.kit
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        # the user is read fresh (banned, whitelist, password) inside the purchase's batch
        body = parse_body(request, BuyIn)
        p = await kit.raffles.buy_with_token(
            token.strip(),
            _id(raffle_id),
            numbers=body.numbers,
            count=body.count,
            idempotency_key=idempotency_key(request),
        )
    else:
        actor = await authenticated(request)
        body = parse_body(request, BuyIn)
        p = await kit.raffles.buy(
            actor,
            _id(raffle_id),
            numbers=body.numbers,
            count=body.count,
            idempotency_key=idempotency_key(request),
        )
    return json(purchase_out(p), status=200 if p.replayed else 201)


@openapi.operation("listMyTickets")
@openapi.tag("raffles")
@secured
@openapi.parameter("raffle_id", int, "query", description="only this raffle's tickets")
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(TicketList)}, "Newest first")
@problems(401, 403, 422)
async def my_tickets(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user's tickets (prize once paid, refunded once voided)."""
    actor = await authenticated(request)
    q = parse_query(request, TicketsQuery)
    tickets = await request.app.ctx.kit.raffles.tickets(
        actor, raffle_id=q.raffle_id, user_id=actor.user_id, limit=q.limit, before_id=q.before
    )
    return json(
        {
            "tickets": [ticket_out(t) for t in tickets],
            "next_before": tickets[-1].id if len(tickets) == q.limit else None,
        }
    )


# -- staff -----------------------------------------------------------------------------------
@openapi.operation("adminCreateRaffleCategory")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(RaffleCategoryIn)}, required=True)
@openapi.response(201, {"application/json": component(RaffleCategoryOut)}, "The category")
@problems(400, 401, 403, 415, 422)
async def create_category(request: WagerkitRequest) -> HTTPResponse:
    """Staff: a raffle category (price, capacity, winners, split, rake, prize mode)."""
    actor = await authenticated(request)
    body = parse_body(request, RaffleCategoryIn)
    kit = request.app.ctx.kit
    c = await kit.raffles.create_category(actor, body.draft(kit.deps.currencies.default.code))
    return json(category_out(c), status=201)


@openapi.operation("adminUpdateRaffleCategory")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(RaffleCategoryIn)}, required=True)
@openapi.response(200, {"application/json": component(RaffleCategoryOut)}, "The category")
@problems(400, 401, 403, 404, 415, 422)
async def update_category(request: WagerkitRequest, category_id: int) -> HTTPResponse:
    """Staff: replace a category's terms (raffles made from it keep theirs)."""
    actor = await authenticated(request)
    body = parse_body(request, RaffleCategoryIn)
    kit = request.app.ctx.kit
    c = await kit.raffles.update_category(
        actor, _id(category_id, "category"), body.draft(kit.deps.currencies.default.code)
    )
    return json(category_out(c))


@openapi.operation("adminDeleteRaffleCategory")
@openapi.tag("admin")
@secured
@openapi.response(200, {"application/json": component(RaffleCategoryOut)}, "The deleted category")
@problems(401, 403, 404)
async def delete_category(request: WagerkitRequest, category_id: int) -> HTTPResponse:
    """Staff: delete a category (raffles made from it keep their terms); the answer is the
    category as it was (200 with a body, like the other deletions)."""
    actor = await authenticated(request)
    c = await request.app.ctx.kit.raffles.delete_category(actor, _id(category_id, "category"))
    return json(category_out(c))


@openapi.operation("adminCreateRaffle")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(RaffleIn)}, required=True)
@openapi.response(201, {"application/json": component(RaffleOut)}, "The raffle, open")
@problems(400, 401, 403, 404, 415, 422)
async def create_raffle(request: WagerkitRequest) -> HTTPResponse:
    """Staff: a raffle from a category, selling from ``start`` to ``end`` (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, RaffleIn)
    r = await request.app.ctx.kit.raffles.create(actor, body.draft())
    return json(raffle_out(r), status=201)


@openapi.operation("adminEditRaffle")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(RafflePatch)}, required=True)
@openapi.response(200, {"application/json": component(RaffleOut)}, "The raffle after the edit")
@problems(400, 401, 403, 404, 409, 415, 422)
async def edit_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Staff: change a raffle before its first sale (else 409 ``raffle_state_conflict``)."""
    actor = await authenticated(request)
    body = parse_body(request, RafflePatch)
    r = await request.app.ctx.kit.raffles.update(actor, _id(raffle_id), body.changes())
    return json(raffle_out(r))


@openapi.operation("adminCloseRaffle")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(RaffleReasonIn)})
@openapi.response(200, {"application/json": component(RaffleOut)}, "Closed (or voided)")
@problems(400, 401, 403, 404, 409, 415, 422)
async def close_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Staff: stop sales now; the listing is frozen and its commitment published. Below the
    minimum the raffle is voided and every ticket refunded."""
    actor = await authenticated(request)
    body = optional_body(request, RaffleReasonIn)
    r = await request.app.ctx.kit.raffles.close(actor, _id(raffle_id), reason=body.reason)
    return json(raffle_out(r))


@openapi.operation("adminDrawRaffle")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(DrawIn)}, required=True)
@openapi.response(200, {"application/json": component(RaffleOut)}, "Drawn (and paid)")
@problems(400, 401, 403, 404, 409, 415, 422, 503)
async def draw_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Staff: draw a closed raffle — lottery ``numbers``, or a beacon ``public_value`` /
    ``drand_round``. Beacon draws are paid at once; lottery draws after the correction
    window (or ``pay``)."""
    actor = await authenticated(request)
    b = parse_body(request, DrawIn)
    r = await request.app.ctx.kit.raffles.draw(
        actor, _id(raffle_id), numbers=b.numbers, public_value=b.public_value,
        drand_round=b.drand_round, drand_signature=b.drand_signature, reason=b.reason,
        pay=b.pay,
    )  # fmt: skip
    return json(raffle_out(r))


@openapi.operation("adminPayRaffle")
@openapi.tag("admin")
@secured
@openapi.response(200, {"application/json": component(RaffleOut)}, "Paid (exactly once)")
@problems(401, 403, 404, 409)
async def pay_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Staff: pay a drawn raffle's prizes and rake now (a no-op once paid)."""
    actor = await authenticated(request)
    return json(raffle_out(await request.app.ctx.kit.raffles.pay(actor, _id(raffle_id))))


@openapi.operation("adminVoidRaffle")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(RaffleReasonIn)}, required=True)
@openapi.response(200, {"application/json": component(RaffleOut)}, "Voided and refunded")
@problems(400, 401, 403, 404, 409, 415, 422)
async def void_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Staff: cancel a raffle not yet drawn; every ticket is refunded (reason required)."""
    actor = await authenticated(request)
    body = parse_body(request, RaffleReasonIn)
    r = await request.app.ctx.kit.raffles.void(actor, _id(raffle_id), reason=body.reason)
    return json(raffle_out(r))


@openapi.operation("adminCorrectRaffle")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(CorrectIn)}, required=True)
@openapi.response(200, {"application/json": component(RaffleOut)}, "The corrected draw")
@problems(400, 401, 403, 404, 409, 415, 422)
async def correct_raffle(request: WagerkitRequest, raffle_id: int) -> HTTPResponse:
    """Staff: correct a lottery draw's numbers before the payouts (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, CorrectIn)
    r = await request.app.ctx.kit.raffles.correct(
        actor, _id(raffle_id), body.numbers, reason=body.reason
    )
    return json(raffle_out(r))


@openapi.operation("adminListTickets")
@openapi.tag("admin")
@secured
@openapi.parameter("raffle_id", int, "query", description="one raffle's tickets")
@openapi.parameter("user_id", int, "query", description="one user's tickets")
@openapi.parameter("limit", int, "query", description="1-500, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(TicketList)}, "Newest first")
@problems(401, 403, 422)
async def admin_tickets(request: WagerkitRequest) -> HTTPResponse:
    """Staff: tickets of everyone, of one raffle and/or one user."""
    actor = await authenticated(request)
    actor.require_staff()
    q = parse_query(request, TicketsQuery)
    tickets = await request.app.ctx.kit.raffles.tickets(
        actor, raffle_id=q.raffle_id, user_id=q.user_id, limit=q.limit, before_id=q.before
    )
    return json(
        {
            "tickets": [ticket_out(t) for t in tickets],
            "next_before": tickets[-1].id if len(tickets) == q.limit else None,
        }
    )


# -- blueprints ------------------------------------------------------------------------------
def raffles_blueprint() -> Blueprint:
    bp = Blueprint("raffles", url_prefix="/")
    bp.add_route(list_raffles, "/raffles", methods=["GET"], name="list")
    bp.add_route(get_raffle, "/raffles/<raffle_id:int>", methods=["GET"], name="get")
    bp.add_route(get_record, "/raffles/<raffle_id:int>/record", methods=["GET"], name="record")
    bp.add_route(verify_raffle, "/raffles/<raffle_id:int>/verify", methods=["GET"], name="verify")
    bp.add_route(buy, "/raffles/<raffle_id:int>/tickets", methods=["POST"], name="buy")
    bp.add_route(my_tickets, "/tickets/me", methods=["GET"], name="my_tickets")
    bp.add_route(list_categories, "/raffle-categories", methods=["GET"], name="categories")
    return bp


def admin_raffles_blueprint() -> Blueprint:
    bp = Blueprint("admin_raffles", url_prefix="/admin")
    bp.add_route(create_category, "/raffle-categories", methods=["POST"], name="category_create")
    bp.add_route(
        update_category, "/raffle-categories/<category_id:int>", methods=["PUT"],
        name="category_update",
    )  # fmt: skip
    bp.add_route(
        delete_category, "/raffle-categories/<category_id:int>", methods=["DELETE"],
        name="category_delete",
    )  # fmt: skip
    bp.add_route(create_raffle, "/raffles", methods=["POST"], name="create")
    bp.add_route(edit_raffle, "/raffles/<raffle_id:int>", methods=["PATCH"], name="edit")
    for handler, action in (
        (close_raffle, "close"),
        (draw_raffle, "draw"),
        (pay_raffle, "pay"),
        (void_raffle, "void"),
        (correct_raffle, "correct"),
    ):
        bp.add_route(handler, f"/raffles/<raffle_id:int>/{action}", methods=["POST"], name=action)
    bp.add_route(admin_tickets, "/tickets", methods=["GET"], name="tickets")
    return bp

"""The service-order marketplace over HTTP (docs/orders.md), with seed 001's shapes.

- public: ``GET /orders`` (filters, contacts hidden, takers and free slots),
  ``GET /orders/{id}`` (the contact too for its client and executors who paid, when the
  request is signed in), ``GET /reviews``, ``GET /categories``, ``GET /cities?prefix=``;
- signed in: ``POST /orders``, ``PUT|DELETE /orders/{id}``, ``POST /orders/{id}/take``
  (``Idempotency-Key`` accepted; a repeat take answers 200 ``replayed``),
  ``/respond``, ``/complete``, ``/close``, ``/report-contact``; ``GET|PUT /users/me``,
  ``PUT /users/me/preferences``, ``PUT /users/me/notification-settings``;
  ``POST /reviews/client``, ``POST /reviews/executor``;
- staff: ``GET /admin/order-reports``, ``POST /admin/order-reports/{id}/accept|reject``,
  ``PUT /admin/order-categories/{slug}``.

Every rule is the use case's; the routes authenticate and translate.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import (
    Actor,
    ContactReport,
    OrderCategory,
    OrderView,
    Preferences,
    Profile,
    ReportNotFound,
    Review,
)

from ...auth import authenticated, is_init_data
from ...context import WagerkitRequest
from ...models import component
from ...validation import parse_body, parse_query
from .._common import IDEMPOTENCY_HEADER, idempotency_key, iso, optional_body, problems, secured
from .models import (
    CitiesQuery,
    CityList,
    ComplaintIn,
    ComplaintOut,
    DecideIn,
    NotificationSettingsIn,
    OrderCategoryIn,
    OrderCategoryList,
    OrderCategoryOut,
    OrderIn,
    OrderList,
    OrderOut,
    OrderPatch,
    OrdersQuery,
    PreferencesIn,
    PreferencesOut,
    ProfileIn,
    ProfileOut,
    ReportIn,
    ReportList,
    ReportOut,
    ReportsQuery,
    ReviewIn,
    ReviewList,
    ReviewOut,
    ReviewsQuery,
    TakeOut,
)

__all__ = ["orders_blueprints"]


# -- views -------------------------------------------------------------------------------------
def order_out(v: OrderView, now: datetime) -> OrderOut:
    o = v.order
    return OrderOut(
        id=o.id,
        client_id=o.client_id,
        category=o.category,
        description=o.description,
        city=o.city,
        contact=v.contact,
        status=o.status.value,
        created_at=iso(o.created_at),
        expires_at=iso(o.expires_at),
        minutes_left=max(0, int((o.expires_at - now).total_seconds() // 60)),
        takers=o.takers,
        free_slots=o.free_slots,
        max_executors=o.max_executors,
        fee=o.fee,
        currency=o.currency,
        responded=o.responded,
        respond_by=iso(o.respond_by) if o.respond_by else None,
        city_locked=o.city_locked,
        taken_by_me=v.taken_by_me,
    )


def _order(request: WagerkitRequest, v: OrderView, status: int = 200) -> HTTPResponse:
    now = request.app.ctx.kit.deps.clock.now()
    return json(order_out(v, now).model_dump(), status=status)


def report_out(r: ContactReport) -> ReportOut:
    return ReportOut(
        id=r.id,
        order_id=r.order_id,
        executor_id=r.executor_id,
        reason=r.reason,
        status=r.status.value,
        created_at=iso(r.created_at),
        decided_at=iso(r.decided_at) if r.decided_at else None,
    )


def review_out(r: Review) -> ReviewOut:
    return ReviewOut(
        id=r.id,
        order_id=r.order_id,
        executor_id=r.executor_id,
        rating=r.stars,
        text=r.text,
        category=r.category,
        city=r.city,
        created_at=iso(r.created_at),
    )


def profile_out(p: Profile) -> ProfileOut:
    u = p.user
    return ProfileOut(
        id=u.id,
        display_name=u.display_name,
        role=u.role.value,
        balance=p.balance,
        currency=p.currency,
        orders_created=p.orders_created,
        orders_taken=p.orders_taken,
        completed_orders_count=p.orders_completed,
        rating=p.rating,
        rating_sum=u.rating_sum,
        rating_count=u.rating_count,
        phone=p.phone,
    )


def category_out(c: OrderCategory, currency: str) -> OrderCategoryOut:
    return OrderCategoryOut(
        slug=c.slug,
        name=c.name,
        fee=c.fee,
        currency=currency,
        max_executors=c.max_executors,
        lifetime_minutes=c.lifetime_minutes,
        response_minutes=c.response_minutes,
        active=c.active,
    )


# -- orders --------------------------------------------------------------------------------------
@openapi.operation("createOrder")
@openapi.tag("orders")
@secured
@openapi.body({"application/json": component(OrderIn)}, required=True)
@openapi.response(201, {"application/json": component(OrderOut)}, "The order, with its contact")
@problems(400, 401, 403, 409, 415, 422, 429)
async def create_order(request: WagerkitRequest) -> HTTPResponse:
    """Post an order (free; 10 an hour per user; one active order per contact: 409
    ``active_order_exists``)."""
    actor = await authenticated(request)
    body = parse_body(request, OrderIn)
    view = await request.app.ctx.kit.orders.create(
        actor, body.category, body.city, body.description, body.contact
    )
    return _order(request, view, 201)


@openapi.operation("listOrders")
@openapi.tag("orders")
@openapi.parameter("category", str, "query")
@openapi.parameter("city", str, "query")
@openapi.parameter("status", str, "query", description="default active")
@openapi.parameter("limit", int, "query", description="1-200, default 50")
@openapi.parameter("offset", int, "query")
@openapi.response(200, {"application/json": component(OrderList)}, "Newest first, no contacts")
@problems(422)
async def list_orders(request: WagerkitRequest) -> HTTPResponse:
    """Public browsing: orders newest first, contacts hidden, takers and free slots shown."""
    q = parse_query(request, OrdersQuery)
    kit = request.app.ctx.kit
    found = await kit.orders.list_orders(
        category=q.category, city=q.city, status=q.status, limit=q.limit, offset=q.offset
    )
    now = kit.deps.clock.now()
    return json({"orders": [order_out(v, now).model_dump() for v in found]})


@openapi.operation("getOrder")
@openapi.tag("orders")
@openapi.secured({})
@secured
@openapi.response(200, {"application/json": component(OrderOut)}, "The order")
@problems(401, 403, 404)
async def get_order(request: WagerkitRequest, order_id: str) -> HTTPResponse:
    """One order; signed in as its client or an executor who paid, with its contact."""
    actor: Actor | None = None
    if request.headers.get("authorization"):
        actor = await authenticated(request)
    return _order(request, await request.app.ctx.kit.orders.get(actor, order_id))


@openapi.operation("editOrder")
@openapi.tag("orders")
@secured
@openapi.body({"application/json": component(OrderPatch)}, required=True)
@openapi.response(200, {"application/json": component(OrderOut)}, "The order after the edit")
@problems(400, 401, 403, 404, 409, 415, 422)
async def edit_order(request: WagerkitRequest, order_id: str) -> HTTPResponse:
    """The client edits its order before the first take (409 ``order_locked`` after)."""
    actor = await authenticated(request)
    body = parse_body(request, OrderPatch)
    view = await request.app.ctx.kit.orders.edit(
        actor, order_id, description=body.description, city=body.city, contact=body.contact
    )
    return _order(request, view)


@openapi.operation("deleteOrder")
@openapi.tag("orders")
@secured
@openapi.response(200, {"application/json": component(OrderOut)}, "The deleted order")
@problems(401, 403, 404, 409)
async def delete_order(request: WagerkitRequest, order_id: str) -> HTTPResponse:
    """The client deletes its order before the first take."""
    actor = await authenticated(request)
    return _order(request, await request.app.ctx.kit.orders.delete(actor, order_id))


@openapi.operation("takeOrder")
@openapi.tag("orders")
@secured
@IDEMPOTENCY_HEADER
@openapi.response(201, {"application/json": component(TakeOut)}, "Taken now: fee paid")
@openapi.response(200, {"application/json": component(TakeOut)}, "Taken before: no charge")
@problems(401, 403, 404, 409, 422, 429)
async def take_order(request: WagerkitRequest, order_id: str) -> HTTPResponse:
    """Pay the order's fee (wallet → house) and get its contact. At most 3 executors (409
    ``order_full``), never one's own (403 ``own_order``), not after expiry (409
    ``order_expired``); a repeat take returns the contact and charges nothing."""
    kit = request.app.ctx.kit
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token and not is_init_data(token):
        # an access token: the user is read fresh (banned, whitelist, password) inside the
        # take's own batch (Bearer initData takes the general path below)
        r = await kit.orders.take_with_token(
            token, order_id, idempotency_key=idempotency_key(request)
        )
    else:
        actor = await authenticated(request)
        r = await kit.orders.take(actor, order_id, idempotency_key=idempotency_key(request))
    out = TakeOut(
        order=order_out(OrderView(r.order, r.contact, True), kit.deps.clock.now()),
        contact=r.contact,
        fee=r.fee,
        currency=r.currency,
        replayed=r.replayed,
    )
    return json(out.model_dump(), status=200 if r.replayed else 201)


Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def _client_action(name: str, summary: str) -> Handler:
    @openapi.operation(f"{name}Order")
    @openapi.tag("orders")
    @secured
    @openapi.response(200, {"application/json": component(OrderOut)}, "The order after it")
    @problems(401, 403, 404, 409)
    async def action(request: WagerkitRequest, order_id: str) -> HTTPResponse:
        actor = await authenticated(request)
        method = getattr(request.app.ctx.kit.orders, name)
        view: OrderView = await method(actor, order_id)
        return _order(request, view)

    action.__doc__ = summary
    action.__name__ = f"{name}_order"
    return action


respond_order = _client_action("respond", "The client answered: no automatic refund any more.")
complete_order = _client_action("complete", "The client marks the order completed.")
close_order = _client_action("close", "The client closes the order (no refund).")


@openapi.operation("reportContact")
@openapi.tag("orders")
@secured
@openapi.body({"application/json": component(ReportIn)}, required=True)
@openapi.response(201, {"application/json": component(ReportOut)}, "The report, pending")
@problems(400, 401, 403, 404, 409, 415, 422)
async def report_contact(request: WagerkitRequest, order_id: str) -> HTTPResponse:
    """An executor who paid reports, within 24 h, that the contact does not work."""
    actor = await authenticated(request)
    body = parse_body(request, ReportIn)
    r = await request.app.ctx.kit.orders.report_contact(actor, order_id, body.reason)
    return json(report_out(r).model_dump(), status=201)


@openapi.operation("listCategories")
@openapi.tag("orders")
@openapi.response(200, {"application/json": component(OrderCategoryList)}, "Every category")
async def list_categories(request: WagerkitRequest) -> HTTPResponse:
    """The order categories with their terms (fee, executors, lifetime, response window)."""
    kit = request.app.ctx.kit
    cats = await kit.orders.categories()
    out = [category_out(c, kit.orders.currency).model_dump() for c in cats]
    return json({"categories": out})


@openapi.operation("searchCities")
@openapi.tag("orders")
@openapi.parameter("prefix", str, "query", description="the first letters, any case")
@openapi.parameter("limit", int, "query", description="1-50, default 10")
@openapi.response(200, {"application/json": component(CityList)}, "Matching cities")
@problems(422)
async def cities(request: WagerkitRequest) -> HTTPResponse:
    """City autocomplete: names starting with ``prefix``, largest cities first (empty when
    the server accepts any city)."""
    q = parse_query(request, CitiesQuery)
    directory = request.app.ctx.kit.cities
    found = directory.search(q.prefix, q.limit) if directory is not None else []
    return json({"cities": found})


# -- staff ---------------------------------------------------------------------------------------
@openapi.operation("listOrderReports")
@openapi.tag("admin")
@secured
@openapi.parameter("status", str, "query", description="pending (default), accepted, rejected, all")
@openapi.response(200, {"application/json": component(ReportList)}, "Oldest first")
@problems(401, 403, 422)
async def list_reports(request: WagerkitRequest) -> HTTPResponse:
    """Staff: invalid-contact reports."""
    actor = await authenticated(request)
    q = parse_query(request, ReportsQuery)
    found = await request.app.ctx.kit.orders.reports(
        actor, status=None if q.status == "all" else q.status
    )
    return json({"reports": [report_out(r).model_dump() for r in found]})


def _decide(accept: bool) -> Handler:
    @openapi.operation("acceptOrderReport" if accept else "rejectOrderReport")
    @openapi.tag("admin")
    @secured
    @openapi.body({"application/json": component(DecideIn)})
    @openapi.response(200, {"application/json": component(ReportOut)}, "The decided report")
    @problems(400, 401, 403, 404, 409, 415, 422)
    async def decide(request: WagerkitRequest, report_id: int) -> HTTPResponse:
        actor = await authenticated(request)
        body = optional_body(request, DecideIn)
        if not 1 <= report_id <= 2**62:
            raise ReportNotFound(f"no report {report_id}")
        r = await request.app.ctx.kit.orders.decide_report(
            actor, report_id, accept=accept, reason=body.reason
        )
        return json(report_out(r).model_dump())

    decide.__doc__ = (
        "Staff: accept the report; the executor's fee is refunded (audited)."
        if accept
        else "Staff: reject the report (audited)."
    )
    decide.__name__ = "accept_report" if accept else "reject_report"
    return decide


@openapi.operation("putOrderCategory")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(OrderCategoryIn)}, required=True)
@openapi.response(200, {"application/json": component(OrderCategoryOut)}, "The category")
@problems(400, 401, 403, 415, 422)
async def put_category(request: WagerkitRequest, slug: str) -> HTTPResponse:
    """Staff: create or change a category (audited); existing orders keep their terms."""
    actor = await authenticated(request)
    body = parse_body(request, OrderCategoryIn)
    kit = request.app.ctx.kit
    cat = OrderCategory(
        slug[:64],
        body.name,
        body.fee,
        body.max_executors,
        body.lifetime_minutes,
        body.response_minutes,
        body.active,
    )
    saved = await kit.orders.put_category(actor, cat)
    return json(category_out(saved, kit.orders.currency).model_dump())


# -- users/me --------------------------------------------------------------------------------------
@openapi.operation("getProfile")
@openapi.tag("users")
@secured
@openapi.response(200, {"application/json": component(ProfileOut)}, "Balance, stats, rating")
@problems(401, 403)
async def get_profile(request: WagerkitRequest) -> HTTPResponse:
    """The signed-in user: balance in the orders' currency, stats and rating."""
    actor = await authenticated(request)
    return json(profile_out(await request.app.ctx.kit.orders.profile(actor)).model_dump())


@openapi.operation("putProfile")
@openapi.tag("users")
@secured
@openapi.body({"application/json": component(ProfileIn)}, required=True)
@openapi.response(200, {"application/json": component(ProfileOut)}, "The profile after it")
@problems(400, 401, 403, 415, 422)
async def put_profile(request: WagerkitRequest) -> HTTPResponse:
    """Change the display name and the optional phone."""
    actor = await authenticated(request)
    body = parse_body(request, ProfileIn)
    p = await request.app.ctx.kit.orders.update_profile(
        actor, display_name=body.display_name, phone=body.phone
    )
    return json(profile_out(p).model_dump())


def _prefs_out(request: WagerkitRequest, p: Preferences) -> HTTPResponse:
    out = PreferencesOut(
        categories=list(p.categories),
        cities=list(p.cities),
        mode=p.mode.value,
        digest_minutes=p.digest_minutes,
    )
    return json(out.model_dump())


@openapi.operation("putPreferences")
@openapi.tag("users")
@secured
@openapi.body({"application/json": component(PreferencesIn)}, required=True)
@openapi.response(200, {"application/json": component(PreferencesOut)}, "The preferences")
@problems(400, 401, 403, 415, 422)
async def put_preferences(request: WagerkitRequest) -> HTTPResponse:
    """Subscribe to categories and cities (empty: all); new matching orders are pushed."""
    actor = await authenticated(request)
    body = parse_body(request, PreferencesIn)
    p = await request.app.ctx.kit.orders.set_preferences(
        actor, categories=body.categories, cities=body.cities
    )
    return _prefs_out(request, p)


@openapi.operation("putNotificationSettings")
@openapi.tag("users")
@secured
@openapi.body({"application/json": component(NotificationSettingsIn)}, required=True)
@openapi.response(200, {"application/json": component(PreferencesOut)}, "The preferences")
@problems(400, 401, 403, 415, 422)
async def put_notification_settings(request: WagerkitRequest) -> HTTPResponse:
    """How new orders reach you: instant, a digest every N minutes, or off."""
    actor = await authenticated(request)
    body = parse_body(request, NotificationSettingsIn)
    p = await request.app.ctx.kit.orders.set_preferences(
        actor, mode=body.mode, digest_minutes=body.digest_minutes
    )
    return _prefs_out(request, p)


# -- reviews ----------------------------------------------------------------------------------------
@openapi.operation("reviewExecutor")
@openapi.tag("reviews")
@secured
@openapi.body({"application/json": component(ReviewIn)}, required=True)
@openapi.response(201, {"application/json": component(ReviewOut)}, "The review")
@problems(400, 401, 403, 404, 409, 415, 422)
async def client_review(request: WagerkitRequest) -> HTTPResponse:
    """The client rates an executor who took its order (1-5, once, after completion or
    expiry); the executor's rating moves."""
    actor = await authenticated(request)
    body = parse_body(request, ReviewIn)
    r = await request.app.ctx.kit.orders.review(
        actor, body.order_id, body.executor_id, body.rating, body.text
    )
    return json(review_out(r).model_dump(), status=201)


@openapi.operation("complainAboutClient")
@openapi.tag("reviews")
@secured
@openapi.body({"application/json": component(ComplaintIn)}, required=True)
@openapi.response(201, {"application/json": component(ComplaintOut)}, "The complaint")
@problems(400, 401, 403, 404, 409, 415, 422)
async def executor_complaint(request: WagerkitRequest) -> HTTPResponse:
    """An executor complains about the client of an order it took (one per order)."""
    actor = await authenticated(request)
    body = parse_body(request, ComplaintIn)
    c = await request.app.ctx.kit.orders.complain(actor, body.order_id, body.reason, body.text)
    out = ComplaintOut(
        id=c.id, order_id=c.order_id, reason=c.reason, text=c.text, created_at=iso(c.created_at)
    )
    return json(out.model_dump(), status=201)


@openapi.operation("listReviews")
@openapi.tag("reviews")
@openapi.parameter("executor_id", int, "query")
@openapi.parameter("min_rating", int, "query")
@openapi.parameter("max_rating", int, "query")
@openapi.parameter("limit", int, "query", description="1-200, default 50")
@openapi.parameter("offset", int, "query")
@openapi.response(200, {"application/json": component(ReviewList)}, "Newest first")
@problems(422)
async def list_reviews(request: WagerkitRequest) -> HTTPResponse:
    """Public: reviews newest first (no contacts, no Telegram ids)."""
    q = parse_query(request, ReviewsQuery)
    found = await request.app.ctx.kit.orders.reviews(
        executor_id=q.executor_id,
        min_stars=q.min_rating,
        max_stars=q.max_rating,
        limit=q.limit,
        offset=q.offset,
    )
    return json({"reviews": [review_out(r).model_dump() for r in found]})


# -- blueprints -------------------------------------------------------------------------------------
def orders_blueprints() -> list[Blueprint]:
    """The area's blueprints, for ``wagerkit_http/api/__init__.py``."""
    orders = Blueprint("orders", url_prefix="/orders")
    orders.add_route(create_order, "", methods=["POST"], name="create")
    orders.add_route(list_orders, "", methods=["GET"], name="list")
    orders.add_route(get_order, "/<order_id:str>", methods=["GET"], name="get")
    orders.add_route(edit_order, "/<order_id:str>", methods=["PUT"], name="edit")
    orders.add_route(delete_order, "/<order_id:str>", methods=["DELETE"], name="delete")
    orders.add_route(take_order, "/<order_id:str>/take", methods=["POST"], name="take")
    for name, handler in (
        ("respond", respond_order),
        ("complete", complete_order),
        ("close", close_order),
    ):
        orders.add_route(handler, f"/<order_id:str>/{name}", methods=["POST"], name=name)
    orders.add_route(report_contact, "/<order_id:str>/report-contact", methods=["POST"])
    lookups = Blueprint("order_lookups")
    lookups.add_route(list_categories, "/categories", methods=["GET"], name="categories")
    lookups.add_route(cities, "/cities", methods=["GET"], name="cities")
    admin = Blueprint("admin_orders", url_prefix="/admin")
    admin.add_route(list_reports, "/order-reports", methods=["GET"], name="reports")
    admin.add_route(
        _decide(True), "/order-reports/<report_id:int>/accept", methods=["POST"], name="accept"
    )
    admin.add_route(
        _decide(False), "/order-reports/<report_id:int>/reject", methods=["POST"], name="reject"
    )
    admin.add_route(put_category, "/order-categories/<slug:str>", methods=["PUT"], name="cat")
    users = Blueprint("users_me", url_prefix="/users/me")
    users.add_route(get_profile, "", methods=["GET"], name="get")
    users.add_route(put_profile, "", methods=["PUT"], name="put")
    users.add_route(put_preferences, "/preferences", methods=["PUT"], name="preferences")
    users.add_route(
        put_notification_settings, "/notification-settings", methods=["PUT"], name="notify"
    )
    reviews = Blueprint("reviews", url_prefix="/reviews")
    reviews.add_route(list_reviews, "", methods=["GET"], name="list")
    reviews.add_route(client_review, "/client", methods=["POST"], name="client")
    reviews.add_route(executor_complaint, "/executor", methods=["POST"], name="executor")
    return [orders, lookups, admin, users, reviews]

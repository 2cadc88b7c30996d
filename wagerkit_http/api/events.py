"""Pari-mutuel events and bets over HTTP (docs/events.md, docs/http.md).

- public: ``GET /events`` (filter by ``status``, paged) and ``GET /events/{id}`` (the live pool;
  with an ``Authorization`` header also the caller's own bet, and a bad token is a 401);
- players: ``POST /bets`` (``Idempotency-Key`` honoured: a replay answers 200 with the first
  bet), ``GET /bets/me``;
- staff: ``POST /admin/events``, ``PATCH /admin/events/{id}``, ``POST /admin/events/{id}/open``,
  ``/lock``, ``/void``, ``/set-winner``, ``GET /admin/bets``.

The seed's names are accepted as synonyms: ``teams`` for ``outcomes``, ``team_id`` for
``outcome_id`` and ``stream_id`` for ``event_id``. The routes authenticate and translate; the
use cases decide who may do what.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi
from sanic_ext.extensions.openapi.types import Array, String

from wagerkit import WagerKit
from wagerkit.domain.errors import EventNotFound
from wagerkit.domain.events import (
    MAX_RAKE_BPS,
    Bet,
    Event,
    EventDraft,
    EventStatus,
    StreamType,
    pool_view,
)
from wagerkit.domain.identity import Actor
from wagerkit.domain.money import MAX_AMOUNT
from wagerkit.services import BetReceipt, EventChanges

from ..auth import authenticated
from ..context import WagerkitRequest
from ..models import ApiModel, component
from ..models_events import (
    BetList,
    BetOut,
    BetReceiptOut,
    EventDetailOut,
    EventList,
    EventOut,
    OutcomeOut,
)
from ..validation import parse_body, parse_query
from ._common import IDEMPOTENCY_HEADER, idempotency_key, problems, secured

__all__ = [
    "admin_bets_blueprint",
    "admin_events_blueprint",
    "bet_out",
    "bets_blueprint",
    "event_id_of",
    "event_out",
    "events_blueprint",
    "iso",
    "optional_body",
]

M = TypeVar("M", bound=BaseModel)

MAX_ID = 2**62
MIN_YEAR, MAX_YEAR = 1970, 9000

# -- helpers ---------------------------------------------------------------------------------


def iso(t: datetime) -> str:
    """A time as the API sends it: ISO 8601 in UTC."""
    return t.astimezone(UTC).isoformat()


def _iso_or_none(t: datetime | None) -> str | None:
    return iso(t) if t is not None else None


def event_id_of(event_id: int) -> int:
    """An event id from the path (ids beyond 2**62 cannot exist; refuse before any SQL)."""
    if not 1 <= event_id <= MAX_ID:
        raise EventNotFound(f"no event {event_id}")
    return event_id


#: Each kit's event currencies (an event's currency never changes), so that a bet can be
#: answered with its currency without reading the event again.
_CURRENCIES: weakref.WeakKeyDictionary[WagerKit, dict[int, str]] = weakref.WeakKeyDictionary()
_CURRENCY_CACHE_MAX = 100_000


def _remember(kit: WagerKit, events: Iterable[Event]) -> None:
    cache = _CURRENCIES.setdefault(kit, {})
    if len(cache) >= _CURRENCY_CACHE_MAX:
        cache.clear()
    for e in events:
        cache[e.id] = e.currency


async def currencies_of(kit: WagerKit, event_ids: Iterable[int]) -> dict[int, str]:
    """The currency of each event (read once per event, then remembered)."""
    cache = _CURRENCIES.setdefault(kit, {})
    for eid in sorted(set(event_ids) - cache.keys()):
        _remember(kit, [await kit.events.get(eid)])
        cache = _CURRENCIES[kit]
    return cache


def event_out(e: Event) -> dict[str, Any]:
    view = pool_view(e)
    mult = {o.outcome_id: o.multiplier for o in view.outcomes}
    return EventOut(
        id=e.id,
        title=e.title,
        description=e.description,
        stream_type=e.stream_type.value,
        stream_url=e.stream_url,
        status=e.status.value,
        currency=e.currency,
        min_stake=e.min_stake,
        max_stake=e.max_stake,
        rake_bps=e.rake_bps,
        allow_topup=e.allow_topup,
        start_time=iso(e.start_time),
        betting_locked_at=iso(e.betting_locked_at),
        closes_at=iso(e.closes_at),
        settle_deadline=iso(e.settle_deadline),
        total=view.total,
        bettors=view.bettors,
        outcomes=[
            OutcomeOut(
                id=o.id,
                name=o.name,
                position=o.position,
                bettors=o.bettors,
                total=o.total,
                multiplier=mult.get(o.id),
            )
            for o in e.outcomes
        ],
        winning_outcome_id=e.winning_outcome_id,
        bet_count=e.bet_count,
        created_at=iso(e.created_at),
        updated_at=iso(e.updated_at),
        locked_at=_iso_or_none(e.locked_at),
        resolved_at=_iso_or_none(e.resolved_at),
    ).model_dump()


def bet_out(b: Bet, currency: str) -> BetOut:
    return BetOut(
        id=b.id,
        event_id=b.event_id,
        outcome_id=b.outcome_id,
        user_id=b.user_id,
        amount=b.amount,
        currency=currency,
        status=b.status.value,
        payout=b.payout,
        placements=b.placements,
        placed_at=iso(b.placed_at),
        updated_at=iso(b.updated_at),
    )


def receipt_out(r: BetReceipt, currency: str) -> BetReceiptOut:
    return BetReceiptOut(
        **bet_out(r.bet, currency).model_dump(), placed=r.placed, replayed=r.replayed
    )


async def _bet_list(kit: WagerKit, bets: list[Bet], limit: int) -> dict[str, Any]:
    currencies = await currencies_of(kit, (b.event_id for b in bets))
    return BetList(
        bets=[bet_out(b, currencies[b.event_id]) for b in bets],
        next_before=bets[-1].id if len(bets) == limit else None,
    ).model_dump()


# -- input -----------------------------------------------------------------------------------


def _text_time(v: object) -> object:
    if not isinstance(v, str):
        raise ValueError("a time is ISO 8601 text with a time zone, e.g. 2026-03-01T18:00:00Z")
    return v


def _utc(v: datetime) -> datetime:
    try:
        u = v.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"a time must be within the years {MIN_YEAR}-{MAX_YEAR}") from None
    if not MIN_YEAR <= u.year <= MAX_YEAR:
        raise ValueError(f"a time must be within the years {MIN_YEAR}-{MAX_YEAR}")
    return u


Time = Annotated[
    AwareDatetime,
    BeforeValidator(_text_time),
    Field(description="ISO 8601 with a time zone, e.g. 2026-03-01T18:00:00Z (naive: 422)"),
]


class OutcomeIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(max_length=500)


OutcomeSpec = Annotated[StrictStr, Field(max_length=500)] | OutcomeIn
_OUTCOMES_DOC = (
    'the outcomes (2-10), as names or objects {"name": ...}; the seed\'s `teams` is '
    "accepted as a synonym"
)


def _names(items: list[str | OutcomeIn] | None) -> tuple[str, ...] | None:
    if items is None:
        return None
    return tuple(i.name if isinstance(i, OutcomeIn) else i for i in items)


class _EventFields(ApiModel):
    """What create and edit share; every check of the values is the use case's (422)."""

    model_config = ConfigDict(extra="forbid")

    title: StrictStr | None = Field(None, max_length=1000, description="1-200 characters")
    description: StrictStr | None = Field(None, max_length=20000)
    stream_type: Literal["youtube", "twitch", "custom"] | None = None
    stream_url: StrictStr | None = Field(None, max_length=4000, description="http(s) URL")
    outcomes: list[OutcomeSpec] | None = Field(
        None,
        max_length=50,
        validation_alias=AliasChoices("outcomes", "teams"),
        description=_OUTCOMES_DOC,
    )
    min_stake: StrictInt | None = Field(None, ge=1, le=MAX_AMOUNT, description="minor units")
    max_stake: StrictInt | None = Field(None, ge=1, le=MAX_AMOUNT, description="minor units")
    rake_bps: StrictInt | None = Field(
        None, ge=0, le=MAX_RAKE_BPS, description="basis points of the losing side, 0-1000"
    )
    start_time: Time | None = None
    betting_locked_at: Time | None = Field(None, description="default: start_time")
    settle_deadline: Time | None = Field(None, description="default: 24 h after betting closes")
    allow_topup: StrictBool | None = None

    @field_validator("start_time", "betting_locked_at", "settle_deadline")
    @classmethod
    def _in_range(cls, v: datetime | None) -> datetime | None:
        return _utc(v) if v is not None else None


class EventIn(_EventFields):
    """A new event (staff). Only ``title``, ``outcomes`` (or ``teams``) and ``start_time``
    are required."""

    title: StrictStr = Field(max_length=1000, description="1-200 characters")
    outcomes: list[OutcomeSpec] = Field(
        max_length=50, validation_alias=AliasChoices("outcomes", "teams"), description=_OUTCOMES_DOC
    )
    start_time: Time
    status: Literal["scheduled", "open"] = Field(
        "scheduled", description="open: taking bets at once"
    )
    currency: StrictStr | None = Field(
        None, min_length=1, max_length=16, description="default: the default currency"
    )

    def draft(self, default_currency: str) -> EventDraft:
        fields: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "description",
                "stream_url",
                "min_stake",
                "max_stake",
                "rake_bps",
                "betting_locked_at",
                "settle_deadline",
                "allow_topup",
            )
            if getattr(self, k) is not None
        }
        if self.stream_type is not None:
            fields["stream_type"] = StreamType(self.stream_type)
        return EventDraft(
            title=self.title,
            outcomes=_names(self.outcomes) or (),
            start_time=self.start_time,
            currency=self.currency or default_currency,
            status=EventStatus(self.status),
            **fields,
        )


class EventPatch(_EventFields):
    """Any subset of an event's fields but ``status`` and ``currency`` (staff; allowed while
    it is scheduled or open and has no bets)."""

    @model_validator(mode="after")
    def _something(self) -> EventPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    def changes(self) -> EventChanges:
        return EventChanges(
            title=self.title,
            description=self.description,
            stream_type=StreamType(self.stream_type) if self.stream_type is not None else None,
            stream_url=self.stream_url,
            outcomes=_names(self.outcomes),
            min_stake=self.min_stake,
            max_stake=self.max_stake,
            rake_bps=self.rake_bps,
            start_time=self.start_time,
            betting_locked_at=self.betting_locked_at,
            settle_deadline=self.settle_deadline,
            allow_topup=self.allow_topup,
        )


class VoidIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field("", max_length=500, description="kept in the audit trail")


class WinnerIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    outcome_id: StrictInt = Field(
        ge=1,
        le=MAX_ID,
        validation_alias=AliasChoices("outcome_id", "team_id"),
        description="the winning outcome (the seed's `team_id` is accepted as a synonym)",
    )
    reason: StrictStr = Field("", max_length=500, description="kept in the audit trail")


class BetIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    event_id: StrictInt = Field(
        ge=1,
        le=MAX_ID,
        validation_alias=AliasChoices("event_id", "stream_id"),
        description="the seed's `stream_id` is accepted as a synonym",
    )
    outcome_id: StrictInt = Field(
        ge=1,
        le=MAX_ID,
        validation_alias=AliasChoices("outcome_id", "team_id"),
        description="the seed's `team_id` is accepted as a synonym",
    )
    amount: StrictInt = Field(
        ge=1, le=MAX_AMOUNT, description="minor units of the event's currency"
    )


_STATUSES = [s.value for s in EventStatus]


class EventsQuery(BaseModel):
    status: list[EventStatus] | None = None
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=MAX_ID)

    @field_validator("status", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            parts = [p.strip() for item in v if isinstance(item, str) for p in item.split(",")]
            return [p for p in parts if p] or None
        return v


class BetsQuery(BaseModel):
    event_id: int | None = Field(None, ge=1, le=MAX_ID)
    limit: int = Field(50, ge=1, le=500)
    before: int | None = Field(None, ge=1, le=MAX_ID)


class AdminBetsQuery(BetsQuery):
    user_id: int | None = Field(None, ge=1, le=MAX_ID)


def optional_body(request: WagerkitRequest, model: type[M]) -> M:
    """The body as ``model``, or ``model()`` when the request has no body."""
    if (request.body or b"").strip():
        return parse_body(request, model)
    return model()


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
    _remember(kit, events)
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
    _remember(kit, [event])
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
    if scheme.lower() == "bearer" and token.strip():
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
    return json(await _bet_list(kit, bets, q.limit))


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
    return json(await _bet_list(kit, bets, q.limit))


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
    _remember(kit, [event])
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

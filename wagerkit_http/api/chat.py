"""Event chat over HTTP (docs/events.md): for clients without Socket.IO, and for moderation.

- ``GET /events/{id}/chat``: recent history, newest first. Public, like the event itself
  (spectators read the chat without signing in); deleted messages are left out;
- ``POST /events/{id}/chat``: post as the signed-in user (muted: 403 ``chat_muted``; banned:
  403 ``account_banned``; 20 a minute by default, then 429 ``rate_limited``). The message also
  reaches the event's Socket.IO room;
- staff: ``DELETE /admin/chat/{message_id}``, ``POST /admin/users/{id}/mute`` and ``/unmute``.
"""

from __future__ import annotations

import dataclasses

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import ChatMessage, MessageNotFound, UserNotFound

from ..auth import authenticated
from ..context import WagerkitRequest
from ..models import ApiModel, component
from ..models_events import ChatHistory, ChatMessageOut, MuteOut
from ..validation import parse_body, parse_query
from ._common import MAX_ID, event_id_of, iso, optional_body, problems, secured

__all__ = ["admin_chat_blueprint", "chat_blueprint", "message_out"]

MAX_MUTE_MINUTES = 60 * 24 * 365


def message_out(m: ChatMessage) -> ChatMessageOut:
    return ChatMessageOut(
        id=m.id,
        event_id=m.event_id,
        user_id=m.user_id,
        author=m.author,
        text=m.text,
        created_at=iso(m.created_at),
        deleted=m.deleted,
    )


def _user_id(user_id: int) -> int:
    if not 1 <= user_id <= MAX_ID:
        raise UserNotFound(f"no user {user_id}")
    return user_id


class ChatIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    text: StrictStr = Field(
        max_length=4000, description="1-500 characters after trimming, no control characters"
    )


class MuteIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    minutes: StrictInt | None = Field(
        None, ge=1, le=MAX_MUTE_MINUTES, description="omit (or null) to mute until unmuted"
    )
    reason: StrictStr = Field("", max_length=500, description="kept in the audit trail")


class UnmuteIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Field("", max_length=500, description="kept in the audit trail")


class HistoryQuery(BaseModel):
    limit: int = Field(50, ge=1, le=200)
    before: int | None = Field(None, ge=1, le=MAX_ID)


class DeleteQuery(BaseModel):
    reason: str = Field("", max_length=500)


@openapi.operation("getChatHistory")
@openapi.tag("chat")
@openapi.parameter("limit", int, "query", description="1-200, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.response(200, {"application/json": component(ChatHistory)}, "Newest first")
@problems(404, 422)
async def history(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """An event's recent chat, newest first. Public: no sign-in needed."""
    q = parse_query(request, HistoryQuery)
    eid = event_id_of(event_id)
    messages = await request.app.ctx.kit.chat.history(eid, limit=q.limit, before_id=q.before)
    out = ChatHistory(
        event_id=eid,
        messages=[message_out(m) for m in messages],
        next_before=messages[-1].id if len(messages) == q.limit else None,
    )
    return json(out.model_dump())


@openapi.operation("postChatMessage")
@openapi.tag("chat")
@secured
@openapi.body({"application/json": component(ChatIn)}, required=True)
@openapi.response(201, {"application/json": component(ChatMessageOut)}, "The message as stored")
@problems(400, 401, 403, 404, 415, 422, 429)
async def post(request: WagerkitRequest, event_id: int) -> HTTPResponse:
    """Post in an event's chat as the signed-in user (also pushed to the event's Socket.IO
    room). Muted users get 403 ``chat_muted``; 20 messages a minute per user by default."""
    actor = await authenticated(request)
    body = parse_body(request, ChatIn)
    msg = await request.app.ctx.kit.chat.post(actor, event_id_of(event_id), body.text)
    return json(message_out(msg).model_dump(), status=201)


@openapi.operation("adminDeleteChatMessage")
@openapi.tag("admin")
@secured
@openapi.parameter("reason", str, "query", description="kept in the audit trail")
@openapi.response(200, {"application/json": component(ChatMessageOut)}, "The message, now deleted")
@problems(401, 403, 404, 422)
async def delete(request: WagerkitRequest, message_id: int) -> HTTPResponse:
    """Staff: delete a chat message (hidden from history and rooms, kept for the audit;
    audited). Deleting a deleted message again changes nothing."""
    actor = await authenticated(request)
    q = parse_query(request, DeleteQuery)
    if not 1 <= message_id <= MAX_ID:
        raise MessageNotFound(f"no chat message {message_id}")
    msg = await request.app.ctx.kit.chat.delete(actor, message_id, reason=q.reason)
    return json(message_out(dataclasses.replace(msg, deleted=True)).model_dump())


@openapi.operation("adminMuteUser")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(MuteIn)})
@openapi.response(200, {"application/json": component(MuteOut)}, "The user's mute")
@problems(400, 401, 403, 404, 415, 422)
async def mute(request: WagerkitRequest, user_id: int) -> HTTPResponse:
    """Staff: mute a user in every chat, for ``minutes`` or until unmuted (body optional;
    a new mute replaces the old one; audited)."""
    actor = await authenticated(request)
    body = optional_body(request, MuteIn)
    m = await request.app.ctx.kit.chat.mute(
        actor, _user_id(user_id), minutes=body.minutes, reason=body.reason
    )
    out = MuteOut(
        user_id=m.user_id,
        muted=True,
        until=iso(m.until) if m.until is not None else None,
        reason=m.reason,
        created_at=iso(m.created_at),
    )
    return json(out.model_dump())


@openapi.operation("adminUnmuteUser")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(UnmuteIn)})
@openapi.response(200, {"application/json": component(MuteOut)}, "Not muted any more")
@problems(400, 401, 403, 404, 415, 422)
async def unmute(request: WagerkitRequest, user_id: int) -> HTTPResponse:
    """Staff: lift a user's chat mute (body optional; audited)."""
    actor = await authenticated(request)
    body = optional_body(request, UnmuteIn)
    uid = _user_id(user_id)
    await request.app.ctx.kit.chat.unmute(actor, uid, reason=body.reason)
    return json(MuteOut(user_id=uid, muted=False).model_dump())


def chat_blueprint() -> Blueprint:
    bp = Blueprint("chat", url_prefix="/events")
    bp.add_route(history, "/<event_id:int>/chat", methods=["GET"], name="history")
    bp.add_route(post, "/<event_id:int>/chat", methods=["POST"], name="post")
    return bp


def admin_chat_blueprint() -> Blueprint:
    bp = Blueprint("admin_chat", url_prefix="/admin")
    bp.add_route(delete, "/chat/<message_id:int>", methods=["DELETE"], name="delete")
    bp.add_route(mute, "/users/<user_id:int>/mute", methods=["POST"], name="mute")
    bp.add_route(unmute, "/users/<user_id:int>/unmute", methods=["POST"], name="unmute")
    return bp

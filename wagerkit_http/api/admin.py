"""``/api/v1/admin``: staff tools (users, roles, bans, whitelist, balance adjustments, audit).

The routes only authenticate; the use cases decide who may do what (a player gets 403
``forbidden`` on every one of them, operators may not change roles, …).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from sanic import Blueprint, HTTPResponse
from sanic.response import json
from sanic_ext import openapi

from wagerkit import Role, UserNotFound

from ..auth import authenticated
from ..context import WagerkitRequest
from ..models import (
    AdjustmentOut,
    ApiModel,
    AuditEntryOut,
    AuditList,
    UserList,
    UserOut,
    component,
)
from ..validation import parse_body, parse_query
from ._common import IDEMPOTENCY_HEADER, idempotency_key, problems, secured, user_out

__all__ = ["admin_blueprint"]

Reason = Field(min_length=1, max_length=500, description="why (kept in the audit trail)")


def _target(user_id: int) -> int:
    """A user id from the path (ids beyond 2**62 cannot exist; refuse before any SQL)."""
    if not 1 <= user_id <= 2**62:
        raise UserNotFound(f"no user {user_id}")
    return user_id


class UsersQuery(BaseModel):
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**62)


class AuditQuery(BaseModel):
    limit: int = Field(50, ge=1, le=1000)
    before: int | None = Field(None, ge=1, le=2**62)
    action: str | None = Field(None, min_length=1, max_length=64)
    target: str | None = Field(None, min_length=1, max_length=128)


class RoleIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    reason: StrictStr = Reason


class ReasonIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: StrictStr = Reason


class WhitelistIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    whitelisted: StrictBool
    reason: StrictStr = Reason


class AdjustIn(ApiModel):
    """Signed minor units: positive credits the wallet from the treasury, negative debits it
    (never below zero)."""

    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(description="signed, non-zero, minor units")
    currency: StrictStr | None = Field(None, min_length=1, max_length=16)
    reason: StrictStr = Reason


@openapi.operation("adminListUsers")
@openapi.tag("admin")
@secured
@openapi.parameter("limit", int, "query", description="1-1000, default 100")
@openapi.parameter("offset", int, "query", description="default 0")
@openapi.response(200, {"application/json": component(UserList)}, "Users by id")
@problems(401, 403, 422)
async def list_users(request: WagerkitRequest) -> HTTPResponse:
    """Staff: list users."""
    actor = await authenticated(request)
    q = parse_query(request, UsersQuery)
    users = await request.app.ctx.kit.users.list(actor, limit=q.limit, offset=q.offset)
    out = UserList(users=[user_out(u) for u in users], limit=q.limit, offset=q.offset)
    return json(out.model_dump())


@openapi.operation("adminSetRole")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(RoleIn)}, required=True)
@openapi.response(200, {"application/json": component(UserOut)}, "The user after the change")
@problems(400, 401, 403, 404, 409, 415, 422)
async def set_role(request: WagerkitRequest, user_id: int) -> HTTPResponse:
    """Admins: make a user player, operator or admin (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, RoleIn)
    user = await request.app.ctx.kit.identity.set_role(
        actor, _target(user_id), body.role, body.reason
    )
    return json(user_out(user).model_dump())


@openapi.operation("adminBan")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(ReasonIn)}, required=True)
@openapi.response(200, {"application/json": component(UserOut)}, "The user after the change")
@problems(400, 401, 403, 404, 409, 415, 422)
async def ban(request: WagerkitRequest, user_id: int) -> HTTPResponse:
    """Staff: ban a user; its tokens stop working at once (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, ReasonIn)
    user = await request.app.ctx.kit.identity.ban(actor, _target(user_id), body.reason)
    return json(user_out(user).model_dump())


@openapi.operation("adminUnban")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(ReasonIn)}, required=True)
@openapi.response(200, {"application/json": component(UserOut)}, "The user after the change")
@problems(400, 401, 403, 404, 409, 415, 422)
async def unban(request: WagerkitRequest, user_id: int) -> HTTPResponse:
    """Staff: lift a ban (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, ReasonIn)
    user = await request.app.ctx.kit.identity.unban(actor, _target(user_id), body.reason)
    return json(user_out(user).model_dump())


@openapi.operation("adminWhitelist")
@openapi.tag("admin")
@secured
@openapi.body({"application/json": component(WhitelistIn)}, required=True)
@openapi.response(200, {"application/json": component(UserOut)}, "The user after the change")
@problems(400, 401, 403, 404, 409, 415, 422)
async def whitelist(request: WagerkitRequest, user_id: int) -> HTTPResponse:
    """Staff: add a user to the whitelist or remove it (audited)."""
    actor = await authenticated(request)
    body = parse_body(request, WhitelistIn)
    user = await request.app.ctx.kit.identity.set_whitelisted(
        actor, _target(user_id), body.whitelisted, body.reason
    )
    return json(user_out(user).model_dump())


@openapi.operation("adminAdjustBalance")
@openapi.tag("admin")
@secured
@IDEMPOTENCY_HEADER
@openapi.body({"application/json": component(AdjustIn)}, required=True)
@openapi.response(200, {"application/json": component(AdjustmentOut)}, "The transfer made")
@problems(400, 401, 403, 404, 409, 415, 422)
async def balance_adjust(request: WagerkitRequest, user_id: int) -> HTTPResponse:
    """Staff: move money between the treasury and a user's wallet, with a reason (audited).
    Honours ``Idempotency-Key``: a replay returns the same body and moves nothing."""
    actor = await authenticated(request)
    body = parse_body(request, AdjustIn)
    kit = request.app.ctx.kit
    t = await kit.wallets.adjust(
        actor,
        _target(user_id),
        body.amount,
        body.currency,
        reason=body.reason,
        idempotency_key=idempotency_key(request),
    )
    credit = body.amount > 0
    out = AdjustmentOut(
        transfer_id=t.id,
        user_id=user_id,
        amount=t.amount if credit else -t.amount,
        currency=t.currency,
        code=t.code,
        timestamp=t.timestamp.isoformat(),
        balance_after=t.credit_balance_after if credit else t.debit_balance_after,
        reason=t.memo,
    )
    return json(out.model_dump())


@openapi.operation("adminListAudit")
@openapi.tag("admin")
@secured
@openapi.parameter("limit", int, "query", description="1-1000, default 50")
@openapi.parameter("before", int, "query", description="the `next_before` of the last page")
@openapi.parameter("action", str, "query", description="e.g. wallet.adjust, user.ban")
@openapi.parameter("target", str, "query", description="e.g. user:42")
@openapi.response(200, {"application/json": component(AuditList)}, "Newest first")
@problems(401, 403, 422)
async def list_audit(request: WagerkitRequest) -> HTTPResponse:
    """Staff: the audit trail, newest first."""
    actor = await authenticated(request)
    q = parse_query(request, AuditQuery)
    entries = await request.app.ctx.kit.audit.list(
        actor, limit=q.limit, before_id=q.before, action=q.action, target=q.target
    )
    out = AuditList(
        entries=[
            AuditEntryOut(
                id=e.id,
                at=e.at.isoformat(),
                actor_id=e.actor_id,
                actor_name=e.actor_name,
                action=e.action,
                target=e.target,
                reason=e.reason,
                details=dict(e.details),
            )
            for e in entries
        ],
        next_before=entries[-1].id if len(entries) == q.limit else None,
    )
    return json(out.model_dump())


def admin_blueprint() -> Blueprint:
    bp = Blueprint("admin", url_prefix="/admin")
    bp.add_route(list_users, "/users", methods=["GET"], name="users")
    bp.add_route(set_role, "/users/<user_id:int>/role", methods=["POST"], name="role")
    bp.add_route(ban, "/users/<user_id:int>/ban", methods=["POST"], name="ban")
    bp.add_route(unban, "/users/<user_id:int>/unban", methods=["POST"], name="unban")
    bp.add_route(whitelist, "/users/<user_id:int>/whitelist", methods=["POST"], name="whitelist")
    bp.add_route(
        balance_adjust,
        "/users/<user_id:int>/balance-adjust",
        methods=["POST"],
        name="balance_adjust",
    )
    bp.add_route(list_audit, "/audit", methods=["GET"], name="audit")
    return bp

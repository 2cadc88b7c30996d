"""``/api/v1/auth``: signing in (Telegram Login Widget, Telegram Mini App, password) and
registering. Every successful sign-in answers ``{access_token, token_type, expires_at, user}``.

With ``?cookie=1`` a sign-in also sets the access token as the ``__Host-wagerkit_token``
cookie (``HttpOnly; Secure; SameSite=Strict; Path=/``, as long as the token lives), for
browser front ends that keep the token out of reach of scripts; such a request, when it
carries an ``Origin``, must come from an allowed one (``WAGERKIT_ALLOWED_ORIGINS``), so that
another site cannot sign a visitor in to an account of its choosing. ``POST /auth/logout``
clears the cookie (access tokens are stateless: one already copied stays valid until it
expires).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, StrictInt, StrictStr
from sanic import Blueprint, HTTPResponse
from sanic.response import json as json_response
from sanic_ext import openapi

from wagerkit import Session, TelegramMalformed

from ..auth import AUTH_COOKIE, check_origin
from ..context import WagerkitRequest
from ..errors import ProblemError
from ..models import ApiModel, SessionOut, component
from ..validation import loads_json, parse_body
from ._common import problems, user_out

__all__ = ["auth_blueprint"]


class TelegramWidgetIn(ApiModel):
    """The Login Widget's fields exactly as Telegram gave them to the page (every field takes
    part in the hash, so send them all, unchanged)."""

    model_config = ConfigDict(extra="allow")

    id: StrictInt | StrictStr
    first_name: StrictStr | None = None
    last_name: StrictStr | None = None
    username: StrictStr | None = None
    photo_url: StrictStr | None = None
    auth_date: StrictInt | StrictStr
    hash: StrictStr


class TelegramWebAppIn(ApiModel):
    """A Mini App's ``Telegram.WebApp.initData``: the raw query string, unchanged."""

    init_data: StrictStr = Field(min_length=1, max_length=8192)


class RegisterIn(ApiModel):
    """A password account: a username, an e-mail address or both."""

    model_config = ConfigDict(extra="forbid")

    password: StrictStr = Field(min_length=8, max_length=256)
    display_name: StrictStr = Field(min_length=1, max_length=64)
    username: StrictStr | None = Field(
        None, pattern=r"^[A-Za-z0-9_]{3,32}$", description="3-32 of A-Z a-z 0-9 _"
    )
    email: StrictStr | None = None


class LogoutOut(ApiModel):
    """The answer of ``POST /auth/logout``."""

    cookie_cleared: bool = True


class LoginIn(ApiModel):
    model_config = ConfigDict(extra="forbid")

    login: StrictStr = Field(min_length=1, max_length=254, description="username or e-mail")
    password: StrictStr = Field(min_length=1, max_length=256)


def _session_body(session: Session) -> dict[str, Any]:
    return SessionOut(
        access_token=session.access_token,
        token_type="bearer",  # noqa: S106 - the OAuth 2 token type
        expires_at=session.expires_at.isoformat(),
        user=user_out(session.user),
    ).model_dump()


def _wants_cookie(request: WagerkitRequest) -> bool:
    """``?cookie=1`` (or ``true``): the client asks for the token as a cookie; an Origin, when
    sent, must be allowed."""
    wanted = (request.args.get("cookie") or "").strip().lower() in ("1", "true", "yes")
    if wanted and request.headers.get("origin") is not None:
        check_origin(request)
    return wanted


def _signed_in(
    request: WagerkitRequest, session: Session, *, cookie: bool, status: int = 200
) -> HTTPResponse:
    """The session body, and the cookie when ``?cookie=1`` asked for it."""
    response = json_response(_session_body(session), status=status)
    if cookie:
        now = request.app.ctx.kit.deps.clock.now()
        response.add_cookie(
            AUTH_COOKIE,
            session.access_token,
            path="/",
            secure=True,
            httponly=True,
            samesite="Strict",
            max_age=max(0, int((session.expires_at - now).total_seconds())),
        )
    return response


COOKIE_PARAMETER = openapi.parameter(
    "cookie",
    str,
    "query",
    description="1: also set the access token as the HttpOnly cookie __Host-wagerkit_token",
)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise TelegramMalformed(f"Login Widget data has the field {key[:64]!r} more than once")
        out[key] = value
    return out


def _widget_fields(request: WagerkitRequest) -> dict[str, Any]:
    """The JSON object as sent: validated for shape by the model, then re-read keeping every
    field (all of them are signed) and refusing duplicated keys."""
    parse_body(request, TelegramWidgetIn)  # 400 / 415 / 422 on bad input
    data = loads_json(request.body, object_pairs_hook=_no_duplicate_keys)
    if not isinstance(data, dict):  # the model accepted it, so this cannot happen
        raise ProblemError(422, "validation_failed", "send a JSON object")
    return {k: v for k, v in data.items() if v is not None}


@openapi.operation("signInTelegramWidget")
@COOKIE_PARAMETER
@openapi.tag("auth")
@openapi.body({"application/json": component(TelegramWidgetIn)}, required=True)
@openapi.response(200, {"application/json": component(SessionOut)}, "Signed in")
@problems(400, 401, 403, 415, 422, 429, 503)
async def telegram_widget(request: WagerkitRequest) -> HTTPResponse:
    """Sign in with Telegram Login Widget data; the first sign-in creates the user.
    Rate-limited per client address (429 with Retry-After)."""
    fields = _widget_fields(request)
    ctx = request.app.ctx
    await ctx.kit.identity.limit(client_address(request), "telegram")
    cookie = _wants_cookie(request)  # the Origin is checked before any work
    identity = ctx.telegram.verify_widget(fields, now=ctx.kit.deps.clock.now())
    return _signed_in(request, await ctx.kit.identity.sign_in_telegram(identity), cookie=cookie)


@openapi.operation("signInTelegramWebApp")
@COOKIE_PARAMETER
@openapi.tag("auth")
@openapi.body({"application/json": component(TelegramWebAppIn)}, required=True)
@openapi.response(200, {"application/json": component(SessionOut)}, "Signed in")
@problems(400, 401, 403, 415, 422, 429, 503)
async def telegram_webapp(request: WagerkitRequest) -> HTTPResponse:
    """Sign in with a Telegram Mini App's initData; the first sign-in creates the user.
    Rate-limited per client address, together with the Login Widget (429 with Retry-After)."""
    body = parse_body(request, TelegramWebAppIn)
    ctx = request.app.ctx
    await ctx.kit.identity.limit(client_address(request), "telegram")
    cookie = _wants_cookie(request)
    identity = ctx.telegram.verify_webapp(body.init_data, now=ctx.kit.deps.clock.now())
    return _signed_in(request, await ctx.kit.identity.sign_in_telegram(identity), cookie=cookie)


@openapi.operation("register")
@COOKIE_PARAMETER
@openapi.tag("auth")
@openapi.body({"application/json": component(RegisterIn)}, required=True)
@openapi.response(201, {"application/json": component(SessionOut)}, "Registered and signed in")
@problems(400, 403, 409, 415, 422, 429)
async def register(request: WagerkitRequest) -> HTTPResponse:
    """Create a password account (with the welcome grant) and sign it in. Rate-limited per
    client address (429 with Retry-After)."""
    body = parse_body(request, RegisterIn)
    identity = request.app.ctx.kit.identity
    await identity.limit(client_address(request), "register")
    cookie = _wants_cookie(request)
    user = await identity.register(
        password=body.password,
        display_name=body.display_name,
        username=body.username,
        email=body.email,
    )
    return _signed_in(request, identity.session_for(user), cookie=cookie, status=201)


def client_address(request: WagerkitRequest) -> str:
    return str(request.remote_addr or request.ip or "unknown")


@openapi.operation("login")
@COOKIE_PARAMETER
@openapi.tag("auth")
@openapi.body({"application/json": component(LoginIn)}, required=True)
@openapi.response(200, {"application/json": component(SessionOut)}, "Signed in")
@problems(400, 401, 403, 415, 422, 429)
async def login(request: WagerkitRequest) -> HTTPResponse:
    """Sign in with a username or e-mail address and a password. Rate-limited per client
    address, and per login name and client address (429 with Retry-After)."""
    body = parse_body(request, LoginIn)
    identity = request.app.ctx.kit.identity
    address = client_address(request)
    await identity.limit(address, "login_ip")
    await identity.limit(f"{body.login.strip().lower()}|{address}", "login")
    cookie = _wants_cookie(request)
    return _signed_in(request, await identity.login(body.login, body.password), cookie=cookie)


@openapi.operation("logout")
@openapi.tag("auth")
@openapi.response(200, {"application/json": component(LogoutOut)}, "The cookie is cleared")
async def logout(request: WagerkitRequest) -> HTTPResponse:
    """Clear the access-token cookie set by a sign-in with ``?cookie=1`` (harmless without
    one). Access tokens are stateless: a token already copied stays valid until it expires."""
    response = json_response(LogoutOut().model_dump())
    response.add_cookie(
        AUTH_COOKIE, "", path="/", secure=True, httponly=True, samesite="Strict", max_age=0
    )
    return response


def auth_blueprint() -> Blueprint:
    bp = Blueprint("auth", url_prefix="/auth")
    bp.add_route(telegram_widget, "/telegram", methods=["POST"], name="telegram")
    bp.add_route(telegram_webapp, "/telegram/webapp", methods=["POST"], name="telegram_webapp")
    bp.add_route(register, "/register", methods=["POST"], name="register")
    bp.add_route(login, "/login", methods=["POST"], name="login")
    bp.add_route(logout, "/logout", methods=["POST"], name="logout")
    return bp

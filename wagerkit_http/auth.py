"""Authentication at the HTTP edge: who is calling.

``actor = await authenticated(request)`` reads the ``Authorization`` header on any endpoint:

- ``Bearer <jwt>``: an access token from ``/api/v1/auth/*`` (``kit.identity.authenticate``
  reads the user fresh, so a ban or a demotion takes effect on the next request);
- ``tma <initData>``: a Telegram Mini App's raw ``initData``, verified with the configured bot
  token (HMAC) and/or bot id (Ed25519 ``signature``), then ``kit.identity.sign_in_telegram``
  (the first sign-in creates the user);
- ``Bearer <initData>`` (seed 001's clients): a Bearer credential that is not a JWT and holds
  a ``=`` is initData and is treated exactly as ``tma``. The rule is unambiguous: a JWT is three
  base64url segments joined by dots (``[A-Za-z0-9_-]`` and ``.`` only, never ``=``: JWS
  segments are unpadded), while initData is a query string whose pairs all contain ``=``
  (``auth_date=…&hash=…``);
- with no ``Authorization`` header, the ``__Host-wagerkit_token`` cookie set by a sign-in
  asked with ``?cookie=1``. A state-changing request (POST, PUT, PATCH, DELETE) authenticated
  by the cookie must carry an ``Origin`` listed in ``WAGERKIT_ALLOWED_ORIGINS`` (403
  ``origin_not_allowed`` otherwise), so another site cannot act with a visitor's cookie; the
  header path is unchanged.

No header, or another scheme, is a 401 problem ``unauthenticated`` with
``WWW-Authenticate: Bearer``. Only *who* is decided here: *what* the caller may do is checked
by the use cases.

``build_identity(settings)`` builds the identity ports of a server from its settings; a missing
or short ``WAGERKIT_JWT_SECRET`` is a ``ConfigurationError`` so the server refuses to start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

from wagerkit import (
    DEFAULT_LIMITS,
    Actor,
    IdentityPolicy,
    LocalRateLimiter,
)
from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.adapters.ratelimit import rate_limiter_from_url
from wagerkit.adapters.tokens import JwtTokenService
from wagerkit.config import Settings

from .errors import ProblemError
from .telegram import TelegramConfig

if TYPE_CHECKING:
    from .context import AppContext, WagerkitRequest

__all__ = [
    "AUTH_COOKIE",
    "ConfigurationError",
    "IdentityPorts",
    "TelegramConfig",
    "authenticated",
    "build_identity",
    "check_origin",
    "cookie_in_header",
    "cookie_token",
    "is_init_data",
    "is_jwt",
    "origin_allowed",
    "origin_not_allowed",
    "unauthenticated",
]

#: the access-token cookie (``__Host-``: Secure, Path=/, no Domain, so no sibling site sets it)
AUTH_COOKIE = "__Host-wagerkit_token"
#: methods that change state: with cookie authentication they need an allowed Origin
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: a compact JWS: three base64url segments (unpadded) joined by dots
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class ConfigurationError(RuntimeError):
    """The server cannot start with these settings (the message says what to set)."""


@dataclass(frozen=True, slots=True)
class IdentityPorts:
    """What ``WagerKit`` needs for identity, built from the settings."""

    passwords: Argon2PasswordHasher
    tokens: JwtTokenService
    rate_limiter: Any
    policy: IdentityPolicy


def build_identity(
    settings: Settings, *, passwords: Argon2PasswordHasher | None = None
) -> IdentityPorts:
    """The identity ports of a server; ``ConfigurationError`` when the JWT secret is missing
    or too short (the message never contains the secret)."""
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret is not None else None
    try:
        tokens = JwtTokenService(
            secret,
            algorithm=settings.jwt_algorithm,
            lifetime=timedelta(minutes=settings.access_token_minutes),
        )
    except ValueError as exc:
        raise ConfigurationError(f"cannot start the server: {exc}") from None
    url = settings.rate_limit_url()
    try:
        # in process memory, wagerkit's own sliding window: the ``limits`` memory store sweeps
        # every key after each hit (measured: ~11 % of a worker's CPU with 1,000 bettors)
        limiter: Any = (
            LocalRateLimiter()
            if url.lower().startswith("memory://")
            else rate_limiter_from_url(url)
        )
    except ValueError as exc:
        raise ConfigurationError(f"cannot start the server: {exc}") from None
    return IdentityPorts(
        passwords=passwords if passwords is not None else Argon2PasswordHasher(),
        tokens=tokens,
        rate_limiter=limiter,
        policy=IdentityPolicy(
            telegram_admin_ids=settings.telegram_admin_id_set(),
            whitelist_mode=settings.whitelist_mode,
            limits={**DEFAULT_LIMITS, **settings.rate_limit_overrides()},
        ),
    )


def unauthenticated(detail: str = "sign in and send Authorization: Bearer <token>") -> ProblemError:
    return ProblemError(
        401,
        "unauthenticated",
        detail,
        title="Unauthenticated",
        headers={"WWW-Authenticate": "Bearer"},
    )


def is_jwt(credentials: str) -> bool:
    """Whether a Bearer credential has the shape of a JWT (else, with a ``=``, initData)."""
    return _JWT.fullmatch(credentials) is not None


def is_init_data(credentials: str) -> bool:
    """Whether a Bearer credential is Mini App initData (seed 001's clients): it has a ``=``
    and is not JWT-shaped. Anything else is taken for an access token."""
    return "=" in credentials and not is_jwt(credentials)


async def actor_from_credentials(ctx: AppContext, scheme: str, credentials: str) -> Actor:
    """The actor for one credential: ``bearer`` (a JWT, or initData as the module says) or
    ``tma`` (Mini App initData)."""
    scheme = scheme.lower()
    credentials = credentials.strip()
    if not credentials:
        raise unauthenticated("the Authorization header has no credentials")
    if scheme == "bearer" and is_init_data(credentials):
        scheme = "tma"
    if scheme == "bearer":
        return await ctx.kit.identity.authenticate(credentials)
    if scheme == "tma":
        identity = ctx.telegram.verify_webapp(credentials, now=ctx.kit.deps.clock.now())
        session = await ctx.kit.identity.sign_in_telegram(identity)
        return Actor.of(session.user)
    raise unauthenticated("unsupported Authorization scheme: use Bearer or tma")


async def authenticated(request: WagerkitRequest) -> Actor:
    """The actor behind the request's ``Authorization`` header (cached per request)."""
    cached = getattr(request.ctx, "actor", None)
    if isinstance(cached, Actor):
        return cached
    header = request.headers.get("authorization")
    if header:
        scheme, _, credentials = header.strip().partition(" ")
        actor = await actor_from_credentials(request.app.ctx, scheme, credentials)
    else:
        token = cookie_token(request)
        if token is None:
            raise unauthenticated()
        if request.method.upper() in STATE_CHANGING:
            check_origin(request)
        actor = await request.app.ctx.kit.identity.authenticate(token)
    request.ctx.actor = actor
    return actor


def cookie_token(request: WagerkitRequest) -> str | None:
    """The access token in the ``__Host-wagerkit_token`` cookie, if the request has one."""
    values = request.cookies.getlist(AUTH_COOKIE) or []
    token = str(values[0]).strip() if values else ""
    return token or None


def check_origin(request: WagerkitRequest) -> None:
    """403 ``origin_not_allowed`` unless the request's ``Origin`` is one of
    ``WAGERKIT_ALLOWED_ORIGINS`` (a missing or ``null`` Origin is refused too)."""
    if not origin_allowed(request.app.ctx, request.headers.get("origin")):
        raise origin_not_allowed()


def origin_allowed(ctx: AppContext, origin: str | None) -> bool:
    """Whether ``origin`` is listed in ``WAGERKIT_ALLOWED_ORIGINS`` (None, empty: no)."""
    normalized = (origin or "").strip().rstrip("/").lower()
    return bool(normalized) and normalized in ctx.settings.allowed_origin_set()


def origin_not_allowed() -> ProblemError:
    return ProblemError(
        403,
        "origin_not_allowed",
        "this request is authenticated by a cookie and its Origin is not allowed "
        "(WAGERKIT_ALLOWED_ORIGINS); send Authorization instead",
        title="Origin not allowed",
    )


def cookie_in_header(header: str | None) -> str | None:
    """The access token in a raw ``Cookie`` header (a Socket.IO handshake's), if any."""
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(AUTH_COOKIE)
    token = morsel.value.strip() if morsel is not None else ""
    return token or None

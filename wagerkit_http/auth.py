"""Authentication at the HTTP edge: who is calling.

``actor = await authenticated(request)`` reads the ``Authorization`` header on any endpoint:

- ``Bearer <jwt>``: an access token from ``/api/v1/auth/*`` (``kit.identity.authenticate``
  reads the user fresh, so a ban or a demotion takes effect on the next request);
- ``tma <initData>``: a Telegram Mini App's raw ``initData``, verified with the configured bot
  token (HMAC) and/or bot id (Ed25519 ``signature``), then ``kit.identity.sign_in_telegram``
  (the first sign-in creates the user).

No header, or another scheme, is a 401 problem ``unauthenticated`` with
``WWW-Authenticate: Bearer``. Only *who* is decided here: *what* the caller may do is checked
by the use cases.

``build_identity(settings)`` builds the identity ports of a server from its settings; a missing
or short ``WAGERKIT_JWT_SECRET`` is a ``ConfigurationError`` so the server refuses to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
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
    "ConfigurationError",
    "IdentityPorts",
    "TelegramConfig",
    "authenticated",
    "build_identity",
    "unauthenticated",
]


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


async def actor_from_credentials(ctx: AppContext, scheme: str, credentials: str) -> Actor:
    """The actor for one credential: ``bearer`` (a JWT) or ``tma`` (Mini App initData)."""
    scheme = scheme.lower()
    credentials = credentials.strip()
    if not credentials:
        raise unauthenticated("the Authorization header has no credentials")
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
    if not header:
        raise unauthenticated()
    scheme, _, credentials = header.strip().partition(" ")
    actor = await actor_from_credentials(request.app.ctx, scheme, credentials)
    request.ctx.actor = actor
    return actor

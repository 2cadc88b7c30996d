"""The Sanic app factory: the composition root of the server.

``create_app(settings)`` builds the store from ``settings.database_url``, the ``WagerKit`` use
cases on it, and a Sanic app whose typed ``app.ctx`` (``AppContext``) holds them. Embedding
apps and tests may pass their own ``kit`` or ``store``; a store passed in is not closed by the
app. Serve the result through ``wagerkit_http.asgi.create_asgi`` (which mounts Socket.IO
beside it) under uvicorn.
"""

from __future__ import annotations

import itertools
import logging
import os
from typing import Any

from sanic import Sanic
from sanic.config import Config
from sanic_ext import Extend
from sanic_ext.extensions.openapi.extension import OpenAPIExtension

import wagerkit
from wagerkit import Notifier, UnitOfWorkFactory, WagerKit
from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.adapters.realtime import SocketIOSink
from wagerkit.adapters.sql import SqlStore
from wagerkit.config import Settings

from .api import api_v1
from .auth import ConfigurationError, TelegramConfig, build_identity
from .context import DEFAULT_MAX_BODY, AppContext, WagerkitApp, WagerkitRequest
from .errors import ProblemErrorHandler
from .listeners import register_listeners
from .methods import add_head_and_options
from .metrics import Metrics
from .realtime import WagerkitNamespace, create_sio
from .routes.docs import docs_blueprint
from .routes.system import system_blueprint

__all__ = ["ConfigurationError", "create_app"]

log = logging.getLogger("wagerkit_http")

_app_numbers = itertools.count(1)

#: sanic-ext settings: OpenAPI JSON at /openapi.json, its CDN-backed UI pages off (our
#: /docs page serves local assets), and the extensions we do not use disabled.
_EXT_CONFIG = {
    "oas": True,
    "oas_url_prefix": "",
    "oas_uri_to_json": "/openapi.json",
    "oas_ui_redoc": False,
    "oas_ui_swagger": False,
    "oas_ui_default": None,
    "oas_autodoc": True,
    "cors": False,
    "health": False,
    "health_endpoint": False,
    "templating_enable_async": False,
}


class _OpenAPIDocument(OpenAPIExtension):  # type: ignore[no-untyped-call]
    """sanic-ext's OpenAPI extension, announcing the JSON document: its own start-up banner
    looks for the CDN-backed UI page, which is switched off here."""

    name = "openapidocument"

    def label(self) -> str:
        return str(self.app.config.OAS_URI_TO_JSON)


#: The sanic-ext part in use: OpenAPI (automatic HEAD/OPTIONS: methods.py). Its dependency
#: injection is left out: no handler asks for an injected argument, and the extension
#: dispatched a routing signal on every request all the same.
_EXTENSIONS = [_OpenAPIDocument]


def _app_name() -> str:
    n = next(_app_numbers)
    name = "wagerkit" if n == 1 else f"wagerkit_{n}"
    while name in Sanic._app_registry:  # another factory in this process took it
        name = f"wagerkit_{next(_app_numbers)}"
    return name


def create_app(
    settings: Settings,
    *,
    kit: WagerKit | None = None,
    store: UnitOfWorkFactory | None = None,
    passwords: Argon2PasswordHasher | None = None,
    telegram_public_key: bytes | None = None,
    sio: Any = None,
) -> WagerkitApp:
    """Build the server app.

    - neither ``kit`` nor ``store``: open ``SqlStore.from_url(settings.database_url)`` (closed
      on shutdown) and build ``WagerKit`` with the configured currencies, welcome grant and
      identity ports (argon2id passwords, JWT access tokens, rate limiter, Telegram admin ids
      and whitelist mode) and the live updates that feed Socket.IO
      (``realtime=SocketIOSink(sio)``);
    - ``store`` only: the same, on that store;
    - ``kit``: use it as is (its store is ``kit.deps.uow``); it must have a token service.
      It pushes to this server's sockets when it was built with
      ``realtime=SocketIOSink(sio)`` over the ``sio`` passed here too
      (``sio = create_sio(settings)``).

    ``sio`` is the Socket.IO server (default: ``create_sio(settings)``, built first, so the
    kit's sink can send through it); the app registers its ``WagerkitNamespace`` on it and
    keeps it in ``app.ctx.sio``.

    ``passwords`` replaces the argon2id hasher (tests use cheap parameters);
    ``telegram_public_key`` replaces Telegram's Ed25519 key for the Mini App ``signature``
    check (tests sign with their own key). Raises ``ConfigurationError`` (the server refuses
    to start) when ``WAGERKIT_JWT_SECRET`` is missing or too short.
    """
    owns_store = False
    notifier: Notifier | None = None
    uow: UnitOfWorkFactory
    sio = sio if sio is not None else create_sio(settings)
    if kit is None:
        ports = build_identity(settings, passwords=passwords)
        if store is None:
            uow, owns_store = SqlStore.from_url(settings.database_url), True
        else:
            uow = store
        kit = WagerKit(
            uow,
            currencies=settings.currency_registry(),
            welcome_grant=settings.welcome_grants(),
            realtime=SocketIOSink(sio),
            passwords=ports.passwords,
            tokens=ports.tokens,
            rate_limiter=ports.rate_limiter,
            identity_policy=ports.policy,
            payment_providers=_payment_providers(settings),
            **settings.price_options(),  # the recorder's feed and the price rule
            predictions=settings.prediction_policy(),  # contracts and rounds
            beacon=settings.randomness_beacon(),  # drand rounds for raffle draws
            orders_currency=settings.orders_currency,
            cities=settings.city_directory(),
            notifier=(notifier := settings.telegram_notifier()),
        )
    else:
        if kit.deps.tokens is None:
            raise ConfigurationError(
                "cannot start the server: the WagerKit passed in has no token service "
                "(pass tokens=JwtTokenService(secret))"
            )
        uow = store if store is not None else kit.deps.uow

    ctx = AppContext(
        settings=settings,
        kit=kit,
        store=uow,
        owns_store=owns_store,
        metrics=Metrics(),
        telegram=TelegramConfig.from_settings(settings, public_key=telegram_public_key),
        sio=sio,
    )
    app: WagerkitApp = Sanic(
        _app_name(),
        ctx=ctx,
        error_handler=ProblemErrorHandler(),
        request_class=WagerkitRequest,  # type: ignore[arg-type]
        configure_logging=False,
    )
    _configure(app.config)
    Extend(app, extensions=list(_EXTENSIONS), built_in_extensions=False, config=_EXT_CONFIG)
    app.ext.openapi.add_security_scheme(
        "bearer",
        "http",
        scheme="bearer",
        bearer_format="JWT",
        description="an access token from /api/v1/auth/*; Mini Apps may send "
        "`Authorization: tma <initData>` instead",
    )

    close = getattr(notifier, "aclose", None)
    if close is not None:  # a Telegram bot's HTTP client, closed at shutdown

        async def _close_notifier(_: object) -> None:
            await close()

        app.register_listener(_close_notifier, "after_server_stop")

    app.blueprint(system_blueprint())
    app.blueprint(docs_blueprint())
    app.blueprint(api_v1())
    add_head_and_options(app)

    app.register_middleware(ctx.metrics.on_request, "request", priority=1000)
    app.register_middleware(ctx.metrics.on_response, "response", priority=-1000)  # type: ignore[arg-type]
    register_listeners(app)
    sio.register_namespace(WagerkitNamespace(app))
    return app


def _payment_providers(settings: Settings) -> dict[str, Any]:
    from wagerkit.adapters.payments import payment_providers

    return dict(
        payment_providers(
            dev_payments=settings.dev_payments, webhook_secrets=settings.webhook_secrets
        )
    )


def _configure(config: Config) -> None:
    config.FALLBACK_ERROR_FORMAT = "json"  # belt and braces: ProblemErrorHandler renders all
    config.DEBUG = False
    # TouchUp rewrites the Sanic class at start-up, which fails when a second app starts in the
    # same process (tests, embedding): off here; the server's factory turns it on (asgi.py)
    config.TOUCHUP = False
    config.REQUEST_MAX_SIZE = int(os.environ.get("SANIC_REQUEST_MAX_SIZE", DEFAULT_MAX_BODY))
    config.ACCESS_LOG = False  # uvicorn logs access
    config.API_TITLE = "wagerkit"
    config.API_VERSION = wagerkit.__version__
    config.API_DESCRIPTION = (
        "Virtual-currency wagering on a double-entry ledger. Amounts are integers in minor "
        "units plus a currency code. Errors are application/problem+json (RFC 9457) with a "
        "stable `code`."
    )
    config.API_LICENSE_NAME = "MIT"
    config.API_LICENSE_URL = "https://opensource.org/license/mit"

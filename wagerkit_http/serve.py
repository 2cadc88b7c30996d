"""Running the server under uvicorn from code: the one serve path (``wagerkit serve`` reaches
it by name, ``importlib.import_module("wagerkit_http.serve")``, since the CLI never imports
``wagerkit_http``).

``prepare`` refuses settings that cannot work before anything is bound (each refusal a
``SettingsError`` with one line naming the variable) and resolves the JWT secret (see
``Settings.with_jwt_secret``: configured, else kept next to a SQLite file). ``run`` then
serves: with one worker the ASGI app is built here from the settings; with several, uvicorn
must import the app in each worker process, so it is given the factory's import string and
the settings travel to the workers as ``WAGERKIT_*`` environment variables (secrets in clear).

Forwarded headers (``X-Forwarded-For``/``-Proto``) are believed only from the addresses in
``WAGERKIT_FORWARDED_ALLOW_IPS``; empty (the default) turns uvicorn's proxy support off, so
the client address that rate limits count is always the peer's.
"""

from __future__ import annotations

import copy
import json
import os
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from pydantic import SecretStr

from wagerkit.config import Settings, SettingsError

__all__ = ["FACTORY", "log_config", "prepare", "run", "settings_env", "uvicorn_options"]

FACTORY = "wagerkit_http.asgi:create_asgi"


def _env_text(value: Any) -> str | None:
    """A setting as its environment variable's text (secrets in clear: the workers need
    them; collections as JSON, as pydantic-settings reads them)."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(
            {k: _env_text(v) for k, v in value.items()}
            if isinstance(value, dict)
            else [_env_text(v) for v in value]
        )
    return str(value)


def settings_env(settings: Settings) -> dict[str, str | None]:
    """The environment that makes ``Settings()`` equal ``settings`` (None: unset it)."""
    env: dict[str, str | None] = {}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        text = _env_text(value)
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:  # e.g. REDIS_URL | WAGERKIT_REDIS_URL: set the first, clear the others
            keys = [str(c) for c in choices]
            env[keys[0]] = text
            env.update(dict.fromkeys(keys[1:]))
        else:
            env[f"WAGERKIT_{name.upper()}"] = text
    return env


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up, plus wagerkit's and Sanic's loggers on the same handler."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for name in ("wagerkit_http", "sanic.error", "sanic.root"):
        config["loggers"][name] = {
            "handlers": ["default"],
            "level": level.upper(),
            "propagate": False,
        }
    return config


def _migrate_sqlite_once(url: str) -> None:
    """Before forking workers, migrate a SQLite file here so they do not race to do it."""
    from wagerkit.adapters.sql import async_url
    from wagerkit.adapters.sql.migrate import upgrade

    if async_url(url).startswith("sqlite") and ":memory:" not in url:
        upgrade(url)


def _check_bind(host: str, port: int) -> None:
    """Refuse, with one line, an address the server could not listen on (uvicorn would log
    it and exit 1 after start-up began). Port 0 (any free port) always binds."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise SettingsError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(address)
        except OSError as exc:
            raise SettingsError(
                f"cannot listen on {host}:{port}: {exc.strerror} (WAGERKIT_HOST, WAGERKIT_PORT)"
            ) from None


def prepare(settings: Settings, *, note: Callable[[str], None] | None = None) -> Settings:
    """The settings the server will run with, or ``SettingsError`` (one line) before anything
    is served: no usable JWT secret, a bad rate-limit store, an address that cannot be bound.
    ``note`` gets the line saying a JWT secret was generated (once, on first start)."""
    from .auth import ConfigurationError, build_identity

    settings, line = settings.with_jwt_secret()
    if line is not None and note is not None:
        note(line)
    try:
        build_identity(settings)
    except ConfigurationError as exc:
        raise SettingsError(str(exc)) from None
    _check_bind(settings.host, settings.port)
    return settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What uvicorn is told besides the app: address, logging, lifespan, graceful shutdown,
    and forwarded headers only from the configured proxies."""
    trusted = settings.forwarded_allow_ips.strip()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "log_config": log_config(settings.log_level),
        "lifespan": "on",
        "proxy_headers": bool(trusted),
        "timeout_graceful_shutdown": 10,
    }
    if trusted:
        options["forwarded_allow_ips"] = trusted
    return options


def run(settings: Settings, *, note: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down gracefully). Raises
    ``SettingsError`` (one line), before binding anything, when the settings cannot work."""
    from .auth import ConfigurationError

    settings = prepare(settings, note=note)
    common = uvicorn_options(settings)
    if settings.workers > 1:
        _migrate_sqlite_once(settings.database_url)
        for key, value in settings_env(settings).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        uvicorn.run(FACTORY, factory=True, workers=settings.workers, **common)
    else:
        from .asgi import create_asgi

        try:
            app = create_asgi(settings, touchup=True)
        except ConfigurationError as exc:
            raise SettingsError(str(exc)) from None
        uvicorn.run(app, **common)

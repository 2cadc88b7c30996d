"""Running the server under uvicorn from code (what ``wagerkit serve`` calls).

With one worker the ASGI app is built here from the given settings. With several, uvicorn
must import the app in each worker process, so it is given the factory's import string and
the settings travel to the workers as ``WAGERKIT_*`` environment variables.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import uvicorn
from pydantic import SecretStr

from wagerkit.config import Settings

__all__ = ["FACTORY", "log_config", "run", "settings_env"]

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


def run(settings: Settings) -> None:
    """Serve until interrupted (SIGINT/SIGTERM shut down gracefully). Exits with a one-line
    message, before binding anything, when the settings cannot work (no JWT secret …)."""
    from .auth import ConfigurationError, build_identity

    try:
        build_identity(settings)
    except ConfigurationError as exc:
        raise SystemExit(str(exc)) from None
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "log_config": log_config(settings.log_level),
        "lifespan": "on",
        "proxy_headers": True,
        "timeout_graceful_shutdown": 10,
    }
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

        uvicorn.run(create_asgi(settings), **common)

"""``wagerkit serve``: run the HTTP and Socket.IO server under uvicorn.

There is one serve path, ``wagerkit_http.serve.run(settings)``. The CLI reaches the server
only by name (``importlib.import_module``): the two entry points never import each other
(the import-linter ``independence`` contract), so ``wagerkit_http`` stays optional.

Before serving: the server's ``prepare`` refuses settings that cannot work (each one line,
exit 2: no JWT secret on PostgreSQL, an address in use, ...) and, on SQLite with no
``WAGERKIT_JWT_SECRET``, makes or reuses the secret kept next to the database file; then a
SQLite schema is created or checked here (PostgreSQL must be at ``db upgrade``'s head).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Annotated

import typer

from ..errors import CliError, abort
from ..runtime import state

SERVER_MODULE = "wagerkit_http.serve"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def server_module() -> ModuleType:
    """``wagerkit_http.serve``, imported by name; a clear error when the extra is missing."""
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        raise abort("the server needs the http extra: pip install 'wagerkit[http]'") from None
    try:
        return importlib.import_module(SERVER_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and SERVER_MODULE.startswith(exc.name):
            raise abort("the server package wagerkit_http is not installed") from None
        raise abort(
            f"the server needs the http extra ({exc.name} is missing): pip install 'wagerkit[http]'"
        ) from None


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind \\[default: WAGERKIT_HOST, else 127.0.0.1]."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="TCP port \\[default: WAGERKIT_PORT, else 8000]."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes \\[default: WAGERKIT_WORKERS, else 1]."),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            help="uvicorn log level: " + ", ".join(LOG_LEVELS) + " "
            "\\[default: WAGERKIT_LOG_LEVEL, else info].",
        ),
    ] = None,
) -> None:
    """Start the HTTP API and Socket.IO server (Ctrl-C stops it gracefully).

    Without WAGERKIT_JWT_SECRET, on SQLite, the first start makes the secret
    that signs access tokens and keeps it next to the database file
    (<database>.jwt-secret, mode 0600); later starts reuse it.
    PostgreSQL needs WAGERKIT_JWT_SECRET."""
    from wagerkit.config import SettingsError

    st = state(ctx)
    settings = st.settings
    if log_level is not None and log_level.lower() not in LOG_LEVELS:
        raise abort(f"--log-level must be one of {', '.join(LOG_LEVELS)}")
    updates = {
        name: value
        for name, value in (
            ("host", host),
            ("port", port),
            ("workers", workers),
            ("log_level", log_level),
        )
        if value is not None
    }
    settings = settings.model_copy(update=updates)
    server = server_module()
    try:
        settings = server.prepare(settings, note=st.terminal.note)
        st.ensure_schema()
        st.terminal.note(
            f"serving on http://{settings.host}:{settings.port} with {settings.workers} "
            f"worker(s), database {st.safe_url}"
        )
        server.run(settings)
    except SettingsError as exc:
        raise CliError(str(exc), code=exc.code) from None

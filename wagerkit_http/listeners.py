"""Server lifecycle: what happens when the server starts and stops.

Under uvicorn these run from the ASGI lifespan (``create_asgi`` lets it through to Sanic), as
``before_server_start`` and ``after_server_stop``:

- start: learn the Alembic heads; on a SQLite file run the migrations (in a thread, they are
  synchronous) so ``wagerkit serve`` works with no set-up. PostgreSQL is never migrated
  behind the operator's back: ``/ready`` answers 503 until ``wagerkit db upgrade`` has run.
  Start-up opens no connection to PostgreSQL, so an unreachable database cannot hang it.
- stop: close the connection pool if this app built it.
"""

from __future__ import annotations

import asyncio
import logging

from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import current, upgrade
from wagerkit.domain.errors import StoreError

from .context import WagerkitApp
from .schema import head_revisions

__all__ = ["on_shutdown", "on_startup", "register_listeners"]

log = logging.getLogger("wagerkit_http")


def _sqlite_file(store: SqlStore) -> bool:
    db = store.engine.url.database
    return store.dialect == "sqlite" and bool(db) and db != ":memory:"


def _upgrade_sqlite(url: str, heads: frozenset[str] | None) -> None:
    """Migrate; if that fails because another worker process migrated at the same moment,
    the schema is at head anyway and that is fine."""
    try:
        upgrade(url)
    except StoreError:
        if heads is None or current(url) not in heads:
            raise
        log.info("schema was brought up to date by another process")


async def on_startup(app: WagerkitApp) -> None:
    ctx = app.ctx
    store = ctx.store
    if isinstance(store, SqlStore):
        ctx.schema.heads = await asyncio.to_thread(head_revisions)
        if _sqlite_file(store):
            log.info("bringing the SQLite schema at %s up to date", store.url)
            full_url = store.engine.url.render_as_string(hide_password=False)
            await asyncio.to_thread(_upgrade_sqlite, full_url, ctx.schema.heads)
            ctx.schema.at_head = ctx.schema.heads is not None
    ctx.started = True
    log.info("wagerkit server started (store: %s)", getattr(store, "url", type(store).__name__))


async def on_shutdown(app: WagerkitApp) -> None:
    ctx = app.ctx
    ctx.started = False
    if ctx.owns_store and isinstance(ctx.store, SqlStore):
        await ctx.store.dispose()


def register_listeners(app: WagerkitApp) -> None:
    app.register_listener(on_startup, "before_server_start")
    app.register_listener(on_shutdown, "after_server_stop")

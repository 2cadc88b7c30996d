"""Building engines from a URL, and the store object the composition roots hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ...domain.errors import InvalidInput, StoreError
from .store import SqlUnitOfWork
from .tables import metadata

__all__ = ["SqlStore", "async_url", "sync_url"]


def async_url(url: str) -> str:
    """``sqlite:///x.db`` → aiosqlite, ``postgresql://…`` → psycopg (async)."""
    try:
        u = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in the text
        raise InvalidInput("database URL is not valid") from exc
    backend = u.get_backend_name()
    if backend == "sqlite":
        return str(u.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False))
    if backend == "postgresql":
        return str(u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    raise InvalidInput(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (for Alembic)."""
    u = make_url(async_url(url))
    driver = "sqlite" if u.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return str(u.set(drivername=driver).render_as_string(hide_password=False))


def redact(url: str) -> str:
    try:
        return str(make_url(url).render_as_string(hide_password=True))
    except Exception:
        return "<invalid url>"


class SqlStore:
    """A connection pool to one database; call it for a unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10, echo: bool = False) -> SqlStore:
        full = async_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if full.startswith("postgresql"):
            kwargs.update(
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                json_deserializer=orjson.loads,  # every json/jsonb value the driver reads
            )
        else:
            db = make_url(full).database
            if db and db != ":memory:":
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(connect_args={"timeout": 30})
        engine = create_async_engine(full, **kwargs)
        if engine.dialect.name == "sqlite":
            _sqlite_setup(engine)
        return cls(engine)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    @property
    def url(self) -> str:
        """The URL with the password hidden (safe to log)."""
        return str(self.engine.url.render_as_string(hide_password=True))

    async def ping(self) -> None:
        """Raise ``StoreError`` unless the database answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (DBAPIError, OSError) as exc:
            raise StoreError("database unavailable") from exc

    async def create_all(self) -> None:
        """Create the schema directly (tests); production uses ``wagerkit db upgrade``."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_setup(engine: AsyncEngine) -> None:
    """WAL, durable commits, foreign keys, and BEGIN IMMEDIATE so that a transaction takes the
    write lock up front (no lock upgrades that deadlock or fail half-way)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
        ):
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

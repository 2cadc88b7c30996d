"""The SQL unit of work: one database transaction over every area's repository. SQLite
(embedded default, WAL, one writer at a time through ``BEGIN IMMEDIATE``) and PostgreSQL
(psycopg 3, READ COMMITTED, rows locked in id order so that two transactions never deadlock).

Each area registers its repository once, in ``REPOSITORIES``; the unit of work builds them all
on its session when it is entered. A new area adds one line there (and its typed attribute
below, which mypy checks against the ``UnitOfWork`` port).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...ports import UnitOfWork
from .audit import SqlAudit
from .chat import SqlChat
from .events import SqlEvents
from .ledger import SqlLedger
from .orders import SqlOrders
from .payments import SqlPayments
from .predictions import SqlPredictions
from .prices import SqlPrices
from .raffles import SqlRaffles
from .session import Session, translate_error
from .users import SqlUsers

__all__ = ["REPOSITORIES", "SqlUnitOfWork", "translate_error"]

# (attribute on the unit of work, repository class built on its session), one line per area
REPOSITORIES: tuple[tuple[str, Callable[[Session], Any]], ...] = (
    ("users", SqlUsers),
    ("ledger", SqlLedger),
    ("audit", SqlAudit),
    ("payments", SqlPayments),
    ("events", SqlEvents),
    ("chat", SqlChat),
    ("prices", SqlPrices),
    ("predictions", SqlPredictions),
    ("raffles", SqlRaffles),
    ("orders", SqlOrders),
)


class SqlUnitOfWork:
    """One database transaction over the repositories; rolls back unless committed."""

    users: SqlUsers
    ledger: SqlLedger
    audit: SqlAudit
    payments: SqlPayments
    events: SqlEvents
    chat: SqlChat
    prices: SqlPrices
    predictions: SqlPredictions
    raffles: SqlRaffles
    orders: SqlOrders

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._committed = False

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
            await conn.begin()
        except DBAPIError as exc:
            raise translate_error(exc) from None
        self._conn = conn
        self._session = session = Session(conn)
        for name, repository in REPOSITORIES:
            setattr(self, name, repository(session))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if not self._committed:
                await self._conn.rollback()
        finally:
            await self._conn.close()
        if isinstance(exc, DBAPIError):
            raise translate_error(exc) from None

    async def commit(self) -> None:
        assert self._conn is not None
        try:
            await self._session.commit()
        except DBAPIError as exc:
            raise translate_error(exc) from None
        self._committed = True

    async def rollback(self) -> None:
        assert self._conn is not None
        await self._conn.rollback()


if TYPE_CHECKING:  # the SQL store satisfies the port (checked by mypy)
    _check: type[UnitOfWork] = SqlUnitOfWork

"""What every SQL repository shares: the unit of work's connection (``Session``), the
repository base class, the mapping of driver errors to store errors, and timestamps in UTC.

On PostgreSQL a repository may *defer* a write: it is sent together with COMMIT in one
pipeline (one round trip, and the write's row locks are held for one round trip less), or
flushed first if any other statement runs in the same unit of work, so every read still sees
every write. The ledger defers its batch writes this way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, overload

import orjson
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.errors import StoreError, TransientStoreError

__all__ = ["Repository", "Session", "dump_json", "translate_error", "utc"]

_TRANSIENT_SQLSTATES = {"40001", "40P01", "23505", "55P03"}


def translate_error(exc: DBAPIError) -> StoreError:
    """Map a driver error to the store errors the services understand (no SQL in the text)."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _TRANSIENT_SQLSTATES:
        return TransientStoreError()
    if isinstance(exc, OperationalError) and "locked" in str(orig).lower():
        return TransientStoreError()
    if isinstance(exc, IntegrityError) and "UNIQUE" in str(orig):
        return TransientStoreError()
    return StoreError("the database refused the operation")


def _translate_driver(exc: Exception) -> StoreError:
    """The same mapping for errors raised by the driver directly (the pipelined commit)."""
    if getattr(exc, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return TransientStoreError()
    return StoreError("the database refused the operation")


@overload
def utc(value: datetime | str) -> datetime: ...
@overload
def utc(value: None) -> None: ...
@overload
def utc(value: datetime | str | None) -> datetime | None: ...
def utc(value: datetime | str | None) -> datetime | None:
    """As the store gives every timestamp back: aware, in UTC. Timestamps arrive as datetimes
    (rows, callers) and as ISO text (PostgreSQL's JSON); a naive datetime is refused."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).astimezone(UTC)
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC)


class Session:
    """The unit of work's connection as the repositories see it (see the module docstring for
    deferred writes: ``defer`` queues one, ``execute`` and ``commit`` send the queue)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        # (statement for SQLAlchemy, the same SQL for the driver, its parameters)
        self.deferred: list[tuple[Any, str, dict[str, Any]]] = []
        self.transient: frozenset[str] = frozenset()  # the deferred writes' own lost races

    def defer(
        self,
        statement: Any,
        driver_sql: str,
        parameters: dict[str, Any],
        *,
        transient: frozenset[str] = frozenset(),
    ) -> None:
        """Queue a write to go with COMMIT (PostgreSQL only: the commit pipelines it through
        psycopg), or with the next statement, whichever comes first. ``transient``: more
        SQLSTATEs that mean a lost race for this write (the unit of work is retried)."""
        self.deferred.append((statement, driver_sql, parameters))
        self.transient |= transient

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        if self.deferred:
            await self.flush()
        if parameters is None:
            return await self.conn.execute(statement)
        return await self.conn.execute(statement, parameters)

    async def flush(self) -> None:
        writes, self.deferred = self.deferred, []
        transient, self.transient = self.transient, frozenset()
        try:
            for statement, _, params in writes:
                await self.conn.execute(statement, params)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in transient:
                raise TransientStoreError() from None
            raise

    async def driver(self) -> Any:
        """PostgreSQL: psycopg's own connection under this unit of work, for what SQLAlchemy
        would slow down (pipelines, unprepared statements, a million plain tuples)."""
        raw = (await self.conn.get_raw_connection()).driver_connection
        assert raw is not None
        return raw

    async def driver_rows(
        self, sql: str, params: Any, *, prepare: bool | None = False
    ) -> list[Any]:
        """PostgreSQL: the rows of ``sql`` (psycopg placeholders) as the driver's tuples, after
        the queued writes. Unprepared by default (``prepare=None``: psycopg's threshold), so
        PostgreSQL plans these batch reads for their actual arrays and the tables' present
        size every time (a fraction of a millisecond a batch): a generic plan cached while a
        table was young kept scanning it whole as it grew (the take batch's read went from 1.6
        to 13 ms within 30 s of the orders benchmark, a purchase batch's from 5 to 80 ms)."""
        from psycopg import Error as DriverError

        await self.flush()
        raw = await self.driver()
        try:
            cur = await raw.execute(sql, params, prepare=prepare)
            return list(await cur.fetchall())
        except DriverError as exc:
            raise _translate_driver(exc) from None

    async def pipeline(self, last: tuple[str, Any] | None = None, *, commit: bool = False) -> Any:
        """PostgreSQL: the queued writes, then ``last`` (driver SQL and its parameters) and
        COMMIT where asked, in ONE psycopg pipeline (one round trip); ``last``'s rows, if any."""
        from psycopg import Error as DriverError

        writes, self.deferred = self.deferred, []
        transient, self.transient = self.transient, frozenset()
        raw = await self.driver()
        try:
            async with raw.pipeline():
                for _, driver_sql, params in writes:
                    await raw.execute(driver_sql, params)
                cur = await raw.execute(*last) if last is not None else None
                if commit:
                    await raw.commit()
            return list(await cur.fetchall()) if cur is not None else []
        except DriverError as exc:
            if getattr(exc, "sqlstate", None) in transient:
                raise TransientStoreError() from None
            raise _translate_driver(exc) from None

    async def commit(self) -> None:
        if self.deferred:  # only ever on PostgreSQL, so psycopg is installed
            await self.pipeline(commit=True)
        await self.conn.commit()  # SQLAlchemy's bookkeeping; no round trip when already done


class Repository:
    """A repository on the unit of work's session: ``_c`` runs statements, ``_pg`` tells the
    dialect, ``_insert`` is the dialect's INSERT (for ``ON CONFLICT``)."""

    def __init__(self, session: Session) -> None:
        self._s = session
        self._c = session
        self._pg = session.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        return postgresql.insert(table) if self._pg else sqlite.insert(table)


def dump_json(value: Any) -> str:
    """A JSON parameter (``CAST(:p AS json)``) encoded by orjson: several times faster than
    ``json.dumps`` on a batch's rows, which matters while the batch holds its row locks."""
    return orjson.dumps(value).decode()


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL integer array literal (``{1,2,3}``), for ``= ANY(:ids)`` parameters."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"

"""Counting the SQL statements a kit sends to PostgreSQL, per unit of work (the batch
statement-count tests of bets' neighbours: purchases, placements, takes).

``StatementCounter`` records every statement SQLAlchemy sends, every raw driver read
(``Session.driver_rows``) and, with ``pipelines=True``, the last statement of each driver
pipeline (the one that rides with the COMMIT); ``marks`` holds the count at which each unit of
work began, so ``between(i)`` is the i-th unit of work's statements."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text

from wagerkit import WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.session import Session
from wagerkit.ports import UnitOfWork


class StatementCounter:
    def __init__(
        self,
        kit: WagerKit,
        store: SqlStore,
        monkeypatch: pytest.MonkeyPatch,
        *,
        pipelines: bool = False,
    ) -> None:
        self.statements: list[str] = []
        self.marks: list[int] = []  # statements issued before each unit of work began
        self._engine = store.engine.sync_engine
        read, pipeline, real = Session.driver_rows, Session.pipeline, kit.deps.uow
        statements, marks = self.statements, self.marks

        async def counted_read(self: Session, sql: str, params: Any, **kw: Any) -> Any:
            statements.append(sql)
            return await read(self, sql, params, **kw)

        async def counted_pipeline(self: Session, last: Any = None, **kw: Any) -> Any:
            if last is not None:
                statements.append(last[0])
            return await pipeline(self, last, **kw)

        def counting() -> UnitOfWork:
            marks.append(len(statements))
            return real()

        monkeypatch.setattr(Session, "driver_rows", counted_read)
        if pipelines:
            monkeypatch.setattr(Session, "pipeline", counted_pipeline)
        monkeypatch.setattr(kit.deps, "uow", counting)
        sa_event.listen(self._engine, "before_cursor_execute", self._count)

    def _count(self, _c: Any, _cur: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    def between(self, i: int) -> int:
        """Statements of the i-th unit of work (up to the next one, or to now)."""
        end = self.marks[i + 1] if len(self.marks) > i + 1 else len(self.statements)
        return end - self.marks[i]

    def close(self) -> None:
        sa_event.remove(self._engine, "before_cursor_execute", self._count)


async def analyse_and_freeze_statistics(store: SqlStore, table: str) -> None:
    """ANALYZE ``table`` now and switch its autovacuum off: the planner's figures for it then
    stay those of this moment however it grows (autovacuum would analyse it again after 10 %
    growth, at its own pace), as on a young table in a busy new database."""
    async with store.engine.connect() as conn:
        await conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        await conn.execute(text(f"ANALYZE {table}"))
        await conn.commit()


async def whole_table_scans(uow: UnitOfWork, table: str) -> int:
    """Sequential scans of ``table`` this connection has made and not yet reported
    (``pg_stat_xact_user_tables``): read it before and after a statement, in one unit of work."""
    q = text("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = :t")
    (n,) = (await uow.ledger._c.execute(q, {"t": table})).one()  # type: ignore[attr-defined]
    return int(n)

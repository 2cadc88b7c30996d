"""Is the database schema at the migrations shipped with this code? (for ``/ready``)"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from wagerkit import StoreError
from wagerkit.adapters.sql import SqlStore

__all__ = ["current_revisions", "head_revisions"]


def head_revisions() -> frozenset[str] | None:
    """The Alembic heads in ``migrations/``; ``None`` if the directory is not installed."""
    from alembic.script import ScriptDirectory

    from wagerkit.adapters.sql.migrate import migrations_dir

    try:
        return frozenset(ScriptDirectory(str(migrations_dir())).get_heads())
    except StoreError:
        return None


async def current_revisions(store: SqlStore) -> frozenset[str]:
    """The revisions the database is at (empty if it was never migrated)."""
    from alembic.migration import MigrationContext

    def read(conn: Connection) -> frozenset[str]:
        return frozenset(MigrationContext.configure(conn).get_current_heads())

    try:
        async with store.engine.connect() as conn:
            return await conn.run_sync(read)
    except Exception as exc:  # a DBAPI or socket error: the store is unavailable
        raise StoreError("could not read the schema version") from exc

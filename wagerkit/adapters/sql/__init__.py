"""SQLAlchemy adapter: SQLite and PostgreSQL. The only importer of sqlalchemy in wagerkit."""

from .engine import SqlStore, async_url, redact, sync_url
from .store import SqlUnitOfWork
from .tables import metadata

__all__ = ["SqlStore", "SqlUnitOfWork", "async_url", "metadata", "redact", "sync_url"]

"""Run the Alembic migrations (the only way the schema changes) from code."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from ...domain.errors import StoreError
from .engine import sync_url

__all__ = ["current", "migrations_dir", "upgrade"]


def migrations_dir() -> Path:
    """``migrations/`` beside the packages (a source or editable install)."""
    override = os.environ.get("WAGERKIT_MIGRATIONS")
    path = Path(override) if override else Path(__file__).resolve().parents[3] / "migrations"
    if not (path / "env.py").exists():
        raise StoreError(f"migrations not found at {path}; set WAGERKIT_MIGRATIONS")
    return path


def _config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["wagerkit_url"] = sync_url(url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating a SQLite file if needed)."""
    from alembic import command

    try:
        command.upgrade(_config(url), revision)
    except DBAPIError as exc:
        raise StoreError("could not migrate the database") from exc


def current(url: str) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()

"""Alembic environment: target metadata from wagerkit.adapters.sql; the URL comes from the
caller (``wagerkit db upgrade``) or ``WAGERKIT_DATABASE_URL``."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool

from wagerkit.adapters.sql.engine import sync_url
from wagerkit.adapters.sql.tables import metadata

config = context.config
url = config.attributes.get("wagerkit_url") or sync_url(
    os.environ.get("WAGERKIT_DATABASE_URL", "sqlite:///wagerkit.db")
)
if url.startswith("sqlite:///"):
    db = url[len("sqlite:///") :]
    if db and db != ":memory:":
        Path(db).parent.mkdir(parents=True, exist_ok=True)


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""Shared fixtures. The PostgreSQL server is started once per session, on first use, by the
test run itself (tests/pgserver.py); if it cannot start, the PostgreSQL tests fail loudly."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pgserver import PgServer, create_database, postgres_server
from redisserver import redis_server

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.tokens import JwtTokenService
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, InMemoryStore, SequentialIds

_db_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for one test module; fails loudly if it cannot start."""
    try:
        with redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return create_database(pg_server, f"t{os.getpid()}_{next(_db_names)}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wagerkit.db'}"


STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    """The same tests against every store: in memory, SQLite and PostgreSQL."""
    if request.param == "memory":
        yield InMemoryStore()
        return
    url = (
        f"sqlite:///{tmp_path / 'wagerkit.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    sql = SqlStore.from_url(url)
    await sql.create_all()
    try:
        yield sql
    finally:
        await sql.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    return WagerKit(store, clock=clock, ids=SequentialIds())


@pytest.fixture
def token_kit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    """``kit`` with an access-token service (HS256, an hour's tokens): for the token paths of
    the player commands, whose batches admit the bearer from their own read."""
    tokens = JwtTokenService("k" * 48, lifetime=timedelta(hours=1))
    return WagerKit(store, clock=clock, ids=SequentialIds(), tokens=tokens)


@pytest.fixture
def system() -> Actor:
    return Actor.system("test")

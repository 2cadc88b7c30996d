"""``wagerkit jobs tick`` and ``wagerkit jobs run``.

The CLI reads the system clock, so events are made due by their times relative to real now:
the test setup creates them and places their bets through the library with a clock set in
the past, against the same database file.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeVar

import pytest
from cli_harness import Cli

from wagerkit import Actor, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.domain.events import EventDraft, EventStatus
from wagerkit.testing import FixedClock

T = TypeVar("T")


def library(url: str, work: Callable[[WagerKit], Awaitable[T]], at: datetime) -> T:
    """Run ``work`` with the library on the CLI's database, its clock standing at ``at``."""

    async def main() -> T:
        store = SqlStore.from_url(url)
        try:
            return await work(WagerKit(store, clock=FixedClock(at)))
        finally:
            await store.dispose()

    return asyncio.run(main())


def past_event(
    cli: Cli,
    title: str,
    *,
    created: datetime,
    start: datetime,
    deadline: datetime | None = None,
    bets: tuple[tuple[int, int, int], ...] = (),
) -> int:
    """An open event created at ``created`` (betting closes at ``start``) with ``bets``
    (user id, outcome position, amount) placed then; returns its id."""

    async def work(kit: WagerKit) -> int:
        event = await kit.events.create(
            Actor.system(),
            EventDraft(
                title=title,
                outcomes=("A", "B"),
                start_time=start,
                settle_deadline=deadline,
                status=EventStatus.OPEN,
            ),
        )
        for user_id, position, amount in bets:
            user = await kit.users.get(Actor.system(), user_id)
            outcome = event.outcomes[position].id
            await kit.events.place_bet(Actor.of(user), event.id, outcome, amount)
        return event.id

    return library(cli.url, work, created)


def balances(cli: Cli, *user_ids: int) -> list[int]:
    return [
        cli.json("wallet", "show", str(u), "-c", "COIN")["wallets"][0]["balance"] for u in user_ids
    ]


@pytest.fixture
def players(cli: Cli) -> Cli:
    """Alice, Bob and Carol: users 1-3 with 1000 COIN each."""
    for name in ("Alice", "Bob", "Carol"):
        cli.ok("users", "add", name)
    return cli


def test_help(cli: Cli) -> None:
    out = cli.ok("jobs", "--help", db=False)
    assert "tick" in out
    assert "run" in out
    assert "--interval" in cli.ok("jobs", "run", "--help", db=False)


def test_tick_with_nothing_due(players: Cli) -> None:
    assert players.ok("jobs", "tick") == "nothing due\n"
    assert players.json("jobs", "tick") == {
        "locked": [],
        "voided": [],
        "resumed": [],
        "expired_holds": 0,
        "idle": True,
    }


def test_tick_locks_a_due_event_and_voids_an_overdue_one(players: Cli) -> None:
    now = datetime.now(UTC)
    overdue = past_event(
        players,
        "Old",
        created=now - timedelta(days=3),
        start=now - timedelta(days=2),
        deadline=now - timedelta(days=1),
        bets=((1, 0, 100), (2, 1, 50)),
    )
    due = past_event(
        players,
        "Started",
        created=now - timedelta(hours=2),
        start=now - timedelta(hours=1),
        bets=((3, 0, 70),),
    )
    players.ok("events", "create", "Later", "-o", "A", "-o", "B", "--start", "2099-01-01T00:00Z")
    players.ok("events", "open", "3")
    assert (overdue, due) == (1, 2)
    assert balances(players, 1, 2, 3) == [900, 950, 930]

    assert players.ok("jobs", "tick") == (
        "locked events: 2; voided events: 1; resumed events: none; expired holds: 0\n"
    )
    statuses = [(e["id"], e["status"]) for e in players.json("events", "list")["events"]]
    assert statuses == [(3, "open"), (2, "locked"), (1, "voided")]
    assert balances(players, 1, 2, 3) == [1000, 1000, 930]  # the overdue stakes came back
    audit = [
        (e["action"], e["target"], e["actor_name"], e["reason"])
        for e in players.json("audit", "--target", "event:1")["entries"]
        + players.json("audit", "--target", "event:2")["entries"]
        if e["action"].startswith("event.auto_")
    ]
    assert audit == [
        ("event.auto_void", "event:1", "jobs", "not settled by its deadline"),
        ("event.auto_lock", "event:2", "jobs", "betting closed"),
    ]
    # idempotent: the next pass finds nothing; the locked event settles by hand as usual
    assert players.json("jobs", "tick")["idle"] is True
    assert players.ok("events", "settle", "2", "-o", "A") == (
        "settled event 2 (Started): A won; 1 winning bet(s) paid 70 COIN, rake 0 COIN\n"
    )
    assert balances(players, 3) == [1000]


def test_tick_finishes_an_interrupted_settlement_and_expires_holds(players: Cli) -> None:
    now = datetime.now(UTC)
    event_id = past_event(
        players,
        "Final",
        created=now - timedelta(hours=1),
        start=now + timedelta(days=1),
        bets=((1, 0, 100), (2, 0, 300), (3, 1, 200)),
    )

    class Crash(Exception):
        pass

    def crash(done: int, total: int) -> None:
        raise Crash  # the process dies after the first chunk of payouts committed

    async def interrupted(kit: WagerKit) -> None:
        kit.events.chunk_size = 1
        with pytest.raises(Crash):
            await kit.events.settle(Actor.system(), event_id, 1, progress=crash)
        await kit.wallets.hold(Actor.system(), 3, 25, timeout_seconds=60, memo="expired")

    library(players.url, interrupted, now - timedelta(minutes=10))
    assert players.json("events", "show", "1")["status"] == "settling"
    assert balances(players, 1, 2, 3) == [1050, 700, 800]  # only Alice was paid so far

    assert players.json("jobs", "tick") == {
        "locked": [],
        "voided": [],
        "resumed": [1],
        "expired_holds": 1,
        "idle": False,
    }
    assert balances(players, 1, 2, 3) == [1050, 1150, 800]  # nobody paid twice
    assert players.json("wallet", "show", "3")["wallets"][0]["available"] == 800
    assert players.json("events", "show", "1")["status"] == "settled"
    assert players.ok("jobs", "tick") == "nothing due\n"


# -- jobs run -------------------------------------------------------------------------------
def _lines(stream: IO[str], out: queue.Queue[str]) -> None:
    for line in stream:
        out.put(line)


class Runner:
    """``wagerkit jobs run`` in a subprocess; its output read line by line."""

    def __init__(self, url: str, cwd: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAGERKIT_")}
        # no DEMO-USD rounds (the default): these tests count the events' work
        env.update({"NO_COLOR": "1", "COLUMNS": "120", "WAGERKIT_ROUND_SYMBOLS": ""})
        env.pop("REDIS_URL", None)
        code = "from wagerkit_cli.main import run; run()"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "--db", url, "jobs", "run", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        for stream, q in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            assert stream is not None
            threading.Thread(target=_lines, args=(stream, q), daemon=True).start()

    def line(self, q: queue.Queue[str], timeout: float = 30) -> str:
        try:
            return q.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("no output from 'jobs run'") from None

    def stop(self, sig: int) -> tuple[int, list[str]]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        time.sleep(0.1)  # let the reader threads drain
        rest = []
        while not self.err.empty():
            rest.append(self.err.get())
        return code, rest

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_loops_until_a_signal_and_exits_cleanly(
    players: Cli, tmp_path: Path, sig: signal.Signals
) -> None:
    now = datetime.now(UTC)
    past_event(players, "Started", created=now - timedelta(hours=2), start=now - timedelta(hours=1))
    runner = Runner(players.url, tmp_path, "--interval", "0.2")
    try:
        assert runner.line(runner.err) == (
            f"jobs: a pass every 0.2s on {players.url}; Ctrl-C or SIGTERM to stop\n"
        )
        first = runner.line(runner.out)
        assert first.endswith(
            " locked events: 1; voided events: none; resumed events: none; expired holds: 0\n"
        ), first
        # a later event falls due while the loop runs
        past_event(
            players, "Next", created=now - timedelta(hours=2), start=now - timedelta(minutes=1)
        )
        assert runner.line(runner.out).endswith(
            " locked events: 2; voided events: none; resumed events: none; expired holds: 0\n"
        )
        code, err = runner.stop(sig)
    finally:
        runner.kill()
    assert code == 0
    assert err == ["jobs: stopped\n"]
    assert runner.out.empty()  # idle passes print nothing
    assert [e["status"] for e in players.json("events", "list")["events"]] == ["locked", "locked"]


def test_run_as_json_lines(players: Cli, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    past_event(
        players,
        "Old",
        created=now - timedelta(days=3),
        start=now - timedelta(days=2),
        deadline=now - timedelta(days=1),
        bets=((1, 0, 10),),
    )
    runner = Runner(players.url, tmp_path, "--interval", "0.1", "--json")
    try:
        runner.line(runner.err)
        doc: dict[str, Any] = json.loads(runner.line(runner.out))
        code, _ = runner.stop(signal.SIGTERM)
    finally:
        runner.kill()
    assert code == 0
    assert datetime.fromisoformat(doc.pop("at")).utcoffset() is not None
    assert doc == {"locked": [], "voided": [1], "resumed": [], "expired_holds": 0, "idle": False}
    assert balances(players, 1) == [1000]


def test_run_refuses_a_bad_interval(cli: Cli) -> None:
    assert cli.fail("jobs", "run", "--interval", "0").startswith(
        "error: usage: Invalid value for '--interval'"
    )


@pytest.mark.postgres
def test_tick_on_postgres(pg_cli: Cli) -> None:
    cli = pg_cli
    cli.ok("db", "upgrade")
    for name in ("Alice", "Bob"):
        cli.ok("users", "add", name)
    now = datetime.now(UTC)
    past_event(
        cli,
        "Old",
        created=now - timedelta(days=3),
        start=now - timedelta(days=2),
        deadline=now - timedelta(days=1),
        bets=((1, 0, 100), (2, 1, 50)),
    )
    past_event(cli, "Started", created=now - timedelta(hours=2), start=now - timedelta(hours=1))
    assert cli.ok("jobs", "tick") == (
        "locked events: 2; voided events: 1; resumed events: none; expired holds: 0\n"
    )
    assert cli.ok("jobs", "tick") == "nothing due\n"
    assert balances(cli, 1, 2) == [1000, 1000]
    cli.assert_conserved()

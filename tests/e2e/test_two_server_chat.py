"""Two server processes share event rooms through Redis: two uvicorn processes on one SQLite
file, a real redis-server, real python-socketio clients, and the CLI as a third process.

- a client of server A posts ``chat_message``; a client of server B in the same event room
  receives it (and the poster too);
- a bet placed over HTTP on server A → ``event_update`` for the client of server B;
- ``wagerkit events settle`` run as a CLI subprocess with ``REDIS_URL`` → ``event_settled``
  on both servers' sockets and the winner's ``balance_update``;
- the job loops of both servers: an event whose betting closes a second later is locked
  (once, audited once) and the room hears ``event_update`` with ``locked``.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio  # type: ignore[import-untyped]
from redisserver import free_port
from serverkit import SECRET, WAGERKIT, base_env, wait_ready

PUSHES = ("event_update", "event_settled", "chat_message", "balance_update")


def _stop(proc: subprocess.Popen[bytes]) -> bytes:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[str, str, str]]:
    """Servers A and B (one after the other: A migrates the fresh SQLite file) sharing
    ``redis_url``, job loops every 0.3 s; yields their URLs and the database URL. Fails if
    either logged a traceback."""
    tmp_path = tmp_path_factory.mktemp("two")
    db_url = f"sqlite:///{tmp_path / 'two.db'}"
    env = base_env(db_url) | {
        "WAGERKIT_JWT_SECRET": SECRET,
        "REDIS_URL": redis_url,
        "WAGERKIT_JOBS_INTERVAL_SECONDS": "0.3",
    }
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(2):
            port = free_port()
            cmd = [
                sys.executable, "-m", "uvicorn", "wagerkit_http.asgi:create_asgi", "--factory",
                "--host", "127.0.0.1", "--port", str(port),
            ]  # fmt: skip
            proc = subprocess.Popen(
                cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            procs.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
            wait_ready(urls[-1], proc)
        yield urls[0], urls[1], db_url
    finally:
        logs = [_stop(p).decode(errors="replace") for p in procs]
    for log in logs:
        assert "Traceback" not in log, log


async def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        WAGERKIT, *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, (out, err)
    assert b"warning" not in err, err
    return out.decode()


class Client:
    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.got: dict[str, asyncio.Queue[Any]] = {n: asyncio.Queue() for n in PUSHES}
        for name, q in self.got.items():
            self.sio.on(name, q.put_nowait)

    async def until(self, name: str, pred: Callable[[Any], bool], wait: float = 5) -> Any:
        deadline = time.monotonic() + wait
        while True:
            data = await asyncio.wait_for(self.got[name].get(), deadline - time.monotonic())
            if pred(data):
                return data


@asynccontextmanager
async def connected(url: str, token: str) -> AsyncIterator[Client]:
    c = Client()
    await c.sio.connect(url, transports=["websocket"], auth={"token": token}, wait_timeout=10)
    try:
        yield c
    finally:
        await c.sio.disconnect()


async def _register(http: httpx.AsyncClient) -> dict[str, Any]:
    name = f"u{uuid.uuid4().hex[:12]}"
    r = await http.post(
        "/api/v1/auth/register",
        json={"username": name, "password": "correct horse", "display_name": name},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@asynccontextmanager
async def local_kit(db_url: str) -> AsyncIterator[Any]:
    """The use cases in this process, on the servers' database (no pushes)."""
    from wagerkit import WagerKit
    from wagerkit.adapters.sql import SqlStore

    store = SqlStore.from_url(db_url, pool_size=2)
    try:
        yield WagerKit(store)
    finally:
        await store.dispose()


async def _open_event(db_url: str, closes_in: timedelta, *outcomes: str) -> Any:
    from wagerkit import Actor
    from wagerkit.domain.events import EventDraft, EventStatus

    draft = EventDraft(
        title=f"match {uuid.uuid4().hex[:6]}",
        outcomes=outcomes,
        start_time=datetime.now(UTC) + closes_in,
        status=EventStatus.OPEN,
    )
    async with local_kit(db_url) as kit:
        return await kit.events.create(Actor.system("tests"), draft)


def _coin(payload: dict[str, Any]) -> int:
    (b,) = [b["balance"] for b in payload["balances"] if b["currency"] == "COIN"]
    return int(b)


async def test_rooms_span_two_server_processes(
    servers: tuple[str, str, str], redis_url: str, tmp_path: Path
) -> None:
    url_a, url_b, db_url = servers
    cli_env = base_env(db_url) | {"REDIS_URL": redis_url}
    event = await _open_event(db_url, timedelta(hours=1), "Red", "Blue")
    event_id = event.id
    red, blue = (o.id for o in event.outcomes)

    async with (
        httpx.AsyncClient(base_url=url_a, timeout=10) as http_a,
        httpx.AsyncClient(base_url=url_b, timeout=10) as http_b,
    ):
        alice, bob = await _register(http_a), await _register(http_b)
        async with (
            connected(url_a, alice["access_token"]) as a,
            connected(url_b, bob["access_token"]) as b,
        ):
            for c in (a, b):
                ack = await c.sio.call("join_event", {"event_id": event_id}, timeout=10)
                assert ack["pool"]["status"] == "open", ack

            # chat posted on A reaches B's socket (and A's, which is in the room too)
            msg = await a.sio.call(
                "chat_message", {"event_id": event_id, "text": "hello from A"}, timeout=10
            )
            assert msg["text"] == "hello from A", msg
            assert await b.until("chat_message", lambda m: m["id"] == msg["id"]) == msg
            assert await a.until("chat_message", lambda m: m["id"] == msg["id"]) == msg

            # bets placed over HTTP on A → event_update on B
            for session, outcome, amount in ((alice, red, 100), (bob, blue, 300)):
                r = await http_a.post(
                    "/api/v1/bets",
                    json={"event_id": event_id, "outcome_id": outcome, "amount": amount},
                    headers={"Authorization": f"Bearer {session['access_token']}"},
                )
                assert r.status_code in (200, 201), r.text
            update = await b.until("event_update", lambda u: u["total"] == 400)
            assert update["event_id"] == event_id
            assert update["bettors"] == 2
            assert {o["id"]: o["multiplier"] for o in update["outcomes"]} == {
                red: "4.0000",
                blue: "1.3333",
            }

            # settled by the CLI (a third process): both servers' sockets hear it
            await _cli(cli_env, tmp_path, "events", "settle", str(event_id), "-o", "Red")
            for c in (a, b):
                settled = await c.until("event_settled", lambda s: s["event_id"] == event_id)
                assert settled["status"] == "settled"
                assert settled["winning_outcome_id"] == red
                assert settled["paid"] == 400
            won = await a.until("balance_update", lambda p: _coin(p) == 1000 - 100 + 400)
            assert won["user_id"] == alice["user"]["id"]


async def test_the_server_job_loops_lock_a_due_event_once(servers: tuple[str, str, str]) -> None:
    _, url_b, db_url = servers
    async with httpx.AsyncClient(base_url=url_b, timeout=10) as http:
        carol = await _register(http)
        event = await _open_event(db_url, timedelta(seconds=1.5), "Yes", "No")
        async with connected(url_b, carol["access_token"]) as c:
            ack = await c.sio.call("join_event", {"event_id": event.id}, timeout=10)
            if ack["pool"]["status"] == "open":
                locked = await c.until("event_update", lambda u: u["status"] == "locked", 8)
                assert locked["event_id"] == event.id
            else:  # a slow machine: the loop locked it before we joined
                assert ack["pool"]["status"] == "locked"
    await asyncio.sleep(1)  # a few more passes of both loops: nothing more happens
    from wagerkit import Actor
    from wagerkit.domain.events import EventStatus

    async with local_kit(db_url) as kit:
        assert (await kit.events.get(event.id)).status is EventStatus.LOCKED
        locks = await kit.audit.list(
            Actor.system("tests"), action="event.auto_lock", target=f"event:{event.id}"
        )
    assert len(locks) == 1, locks  # two runners, one lock


async def test_a_ban_from_the_cli_cuts_the_users_sockets_off_on_both_servers(
    servers: tuple[str, str, str], redis_url: str, tmp_path: Path
) -> None:
    """``wagerkit users ban`` in a third process: through Redis, both servers disconnect the
    user's sockets within a second of the command's end; another user's socket stays up."""
    url_a, url_b, db_url = servers
    cli_env = base_env(db_url) | {"REDIS_URL": redis_url}
    async with httpx.AsyncClient(base_url=url_a, timeout=10) as http:
        mallory, dave = await _register(http), await _register(http)
    gone = [asyncio.Event(), asyncio.Event()]
    async with (
        connected(url_a, mallory["access_token"]) as on_a,
        connected(url_b, mallory["access_token"]) as on_b,
        connected(url_b, dave["access_token"]) as bystander,
    ):
        for c, flag in zip((on_a, on_b), gone, strict=True):
            c.sio.on("disconnect", lambda *_, flag=flag: flag.set())
        uid = str(mallory["user"]["id"])
        await _cli(cli_env, tmp_path, "users", "ban", uid, "--reason", "abuse")
        await asyncio.wait_for(asyncio.gather(*(g.wait() for g in gone)), 1)
        assert not on_a.sio.connected
        assert not on_b.sio.connected
        assert await bystander.sio.call("ping", timeout=5) == "pong"

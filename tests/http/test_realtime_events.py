"""Event rooms and chat over Socket.IO, against a real uvicorn server with real
python-socketio clients: join/leave, coalesced ``event_update`` after bets, ``event_settled``
/ ``event_voided`` with each bettor's ``balance_update``, chat in and out (muted, banned and
rate-limited users refused), and the job loop the server runs (an event whose betting closes
is locked by it and the room hears so).

The server runs on the in-memory store; the use cases the tests drive directly (create,
bet, settle, mute, ban) run in the server's event loop (``Live.call``), as a route would.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
import socketio  # type: ignore[import-untyped]
from authkit import JWT_SECRET

from wagerkit import Actor, User, WagerKit
from wagerkit.config import Settings
from wagerkit.domain.events import (
    Event,
    EventDraft,
    EventStatus,
)
from wagerkit.testing import InMemoryStore
from wagerkit_http import create_app, create_asgi
from wagerkit_http.context import WagerkitApp
from wagerkit_http.realtime import MAX_EVENT_ROOMS

T = TypeVar("T")
SYSTEM = Actor.system("tests")
CHAT_LIMIT = 5  # chat messages a minute per user on the test server
PUSHES = (
    "event_update",
    "event_settled",
    "event_voided",
    "chat_message",
    "chat_deleted",
    "balance_update",
)


@dataclass
class Live:
    url: str
    app: WagerkitApp
    loop: asyncio.AbstractEventLoop

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the server's event loop (where the kit and its store live)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    @property
    def kit(self) -> Any:
        return self.app.ctx.kit

    async def user(self) -> tuple[User, str]:
        """A new player (1000 COIN welcome grant) and an access token for it."""
        user = await self.call(self.kit.users.add(SYSTEM, f"p{uuid.uuid4().hex[:8]}"))
        return user, self.kit.identity.session_for(user).access_token

    async def event(self, *, closes_in: float = 3600, outcomes: int = 2, rake: int = 0) -> Event:
        now = datetime.now(UTC)
        draft = EventDraft(
            title=f"match {uuid.uuid4().hex[:6]}",
            outcomes=tuple(f"team {i}" for i in range(outcomes)),
            start_time=now + timedelta(seconds=closes_in),
            rake_bps=rake,
            status=EventStatus.OPEN,
        )
        event: Event = await self.call(self.kit.events.create(SYSTEM, draft))
        return event

    async def bet(self, user: User, event: Event, outcome: int, amount: int) -> Any:
        actor = Actor.of(user)
        oid = event.outcomes[outcome].id
        return await self.call(self.kit.events.place_bet(actor, event.id, oid, amount))


def _settings(**extra: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url="sqlite:///:memory:",  # unused: the app runs on an InMemoryStore
        jwt_secret=JWT_SECRET,
        _env_file=None,
        **extra,
    )


def _start(
    server: Callable[[Any], AbstractContextManager[str]], settings: Settings
) -> Iterator[Live]:
    app = create_app(settings, store=InMemoryStore())
    identity = app.ctx.kit.identity
    limits = {**identity.policy.limits, "bet": (100_000, 60), "chat": (CHAT_LIMIT, 60)}
    identity.policy = replace(identity.policy, limits=limits)
    loops: list[asyncio.AbstractEventLoop] = []

    async def capture(_app: Any) -> None:
        loops.append(asyncio.get_running_loop())

    app.register_listener(capture, "after_server_start")
    with server(create_asgi(settings, app=app)) as url:
        yield Live(url, app, loops[0])


@pytest.fixture(scope="module")
def live(server: Callable[[Any], AbstractContextManager[str]]) -> Iterator[Live]:
    """One server for the module; its job loop ticks every 0.2 s."""
    yield from _start(server, _settings(jobs_interval_seconds=0.2))


class Client:
    """A connected python-socketio client that queues every push it gets, with arrival
    times."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.got: dict[str, asyncio.Queue[tuple[float, Any]]] = {}
        for name in PUSHES:
            q: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
            self.got[name] = q
            self.sio.on(name, self._put(q))

    @staticmethod
    def _put(q: asyncio.Queue[tuple[float, Any]]) -> Callable[[Any], Awaitable[None]]:
        async def put(data: Any) -> None:
            await q.put((time.monotonic(), data))

        return put

    async def next(self, name: str, wait: float = 5) -> Any:
        return (await asyncio.wait_for(self.got[name].get(), wait))[1]

    async def until(self, name: str, pred: Callable[[Any], bool], wait: float = 5) -> Any:
        """The first ``name`` push for which ``pred`` holds (earlier ones are dropped)."""
        deadline = time.monotonic() + wait
        while True:
            data = await self.next(name, max(0.01, deadline - time.monotonic()))
            if pred(data):
                return data

    async def quiet(self, name: str, seconds: float = 0.6) -> bool:
        await asyncio.sleep(seconds)
        return self.got[name].empty()

    def drain(self, name: str) -> list[tuple[float, Any]]:
        out = []
        while not self.got[name].empty():
            out.append(self.got[name].get_nowait())
        return out

    async def call(self, event: str, data: Any) -> Any:
        return await self.sio.call(event, data, timeout=5)


@asynccontextmanager
async def connected(live: Live, token: str) -> AsyncIterator[Client]:
    c = Client()
    await c.sio.connect(live.url, transports=["websocket"], wait_timeout=5, auth={"token": token})
    try:
        yield c
    finally:
        if c.sio.connected:
            await c.sio.disconnect()


def coin(payload: dict[str, Any]) -> int:
    (b,) = [b["balance"] for b in payload["balances"] if b["currency"] == "COIN"]
    return int(b)


# -- rooms ---------------------------------------------------------------------------------


async def test_join_refuses_unknown_events_and_bad_input(live: Live) -> None:
    _, token = await live.user()
    async with connected(live, token) as c:
        assert (await c.call("join_event", {"event_id": 987654}))["error"][
            "code"
        ] == "event_not_found"
        for bad in (None, {}, {"event_id": "x"}, {"event_id": True}, {"event_id": -1}, [1]):
            ack = await c.call("join_event", bad)
            assert ack["error"]["code"] == "invalid_input", bad
        assert (await c.call("leave_event", {"event_id": "x"}))["error"]["code"] == "invalid_input"


async def test_join_answers_the_pool_chat_and_own_bet_then_leave_stops_updates(
    live: Live,
) -> None:
    event = await live.event()
    (alice, token), (bob, _) = await live.user(), await live.user()
    await live.bet(alice, event, 0, 100)
    async with connected(live, token) as c:
        posted = await c.call("chat_message", {"event_id": event.id, "text": "  hello  "})
        assert posted["text"] == "hello"
        ack = await c.call("join_event", {"event_id": event.id})
        pool = ack["pool"]
        assert pool["event_id"] == event.id
        assert pool["status"] == "open"
        assert (pool["total"], pool["bettors"], pool["currency"]) == (100, 1, "COIN")
        assert [(o["id"], o["name"]) for o in pool["outcomes"]] == [
            (o.id, o.name) for o in event.outcomes
        ]
        first = pool["outcomes"][0]
        assert (first["bettors"], first["total"], first["multiplier"]) == (1, 100, "1.0000")
        assert [o["position"] for o in pool["outcomes"]] == [0, 1]
        assert pool["bet_count"] == 1
        assert pool["outcomes"][1]["multiplier"] is None
        assert [m["id"] for m in ack["chat"]] == [posted["id"]]
        assert ack["my_bet"]["amount"] == 100
        assert ack["my_bet"]["outcome_id"] == event.outcomes[0].id
        assert (ack["my_bet"]["user_id"], ack["my_bet"]["currency"]) == (alice.id, "COIN")
        assert (ack["my_bet"]["status"], ack["my_bet"]["payout"]) == ("open", None)

        await live.bet(bob, event, 1, 300)
        update = await c.until("event_update", lambda u: u["total"] == 400)
        by_id = {o["id"]: o for o in update["outcomes"]}
        assert by_id[event.outcomes[0].id]["multiplier"] == "4.0000"
        assert by_id[event.outcomes[1].id]["multiplier"] == "1.3333"
        assert update["bettors"] == 2

        left = await c.call("leave_event", {"event_id": event.id})
        assert left == {"event_id": event.id, "left": True}
        other, _ = await live.user()
        await live.bet(other, event, 0, 5)
        assert await c.quiet("event_update")


async def test_a_socket_watches_a_bounded_number_of_events(live: Live) -> None:
    _, token = await live.user()
    events = [await live.event() for _ in range(MAX_EVENT_ROOMS + 1)]
    async with connected(live, token) as c:
        for e in events[:MAX_EVENT_ROOMS]:
            assert "pool" in await c.call("join_event", {"event_id": e.id})
        assert "pool" in await c.call("join_event", {"event_id": events[0].id})  # again: fine
        ack = await c.call("join_event", {"event_id": events[-1].id})
        assert ack["error"]["code"] == "invalid_input"
        await c.call("leave_event", {"event_id": events[0].id})
        assert "pool" in await c.call("join_event", {"event_id": events[-1].id})


async def collect_updates(c: Client, final_total: int) -> list[tuple[float, Any]]:
    """Every ``event_update`` up to the one with ``final_total``, then 0.5 s more."""
    got: list[tuple[float, Any]] = []
    deadline = time.monotonic() + 10
    while not got or got[-1][1]["total"] != final_total:
        got.append(await asyncio.wait_for(c.got["event_update"].get(), deadline - time.monotonic()))
    await asyncio.sleep(0.5)
    return got + c.drain("event_update")


async def test_a_burst_of_bets_is_coalesced_and_the_last_update_is_final(live: Live) -> None:
    """60 bets spread over ~1.5 s, each its own commit and ``event.pool``: the room gets at
    most one ``event_update`` per 250 ms (the first at once, a trailing one after the
    burst), far fewer than 60, and the last one carries the final totals."""
    event = await live.event(outcomes=3)
    users = [await live.user() for _ in range(60)]
    _, watcher_token = await live.user()
    async with connected(live, watcher_token) as c:
        await c.call("join_event", {"event_id": event.id})
        start = time.monotonic()
        for i, (user, _) in enumerate(users):
            await live.bet(user, event, i % 3, 10 + i)
            await asyncio.sleep(0.02)
        burst = time.monotonic() - start
        final_total = sum(10 + i for i in range(60))
        got = await collect_updates(c, final_total)
    n = len(got)
    print(f"\n60 bets in {burst:.2f}s -> {n} event_update ({n / burst:.1f}/s)")
    assert n <= burst / 0.25 + 3
    assert n <= 12
    last = got[-1][1]
    assert last["total"] == final_total  # nothing after the final state but the final state
    assert last["bettors"] == 60
    per_outcome = {o["id"]: o["total"] for o in last["outcomes"]}
    for k, o in enumerate(event.outcomes):
        assert per_outcome[o.id] == sum(10 + i for i in range(60) if i % 3 == k)
    totals = [u["total"] for _, u in got]
    assert totals == sorted(totals)
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(got)]
    assert all(g > 0.15 for g in gaps), gaps  # 250 ms apart, give or take the network


async def test_simultaneous_bets_commit_together_and_update_once(live: Live) -> None:
    """Bets arriving at the same moment share one batch (one commit, one ``event.pool``)."""
    event = await live.event()
    users = [await live.user() for _ in range(30)]
    _, watcher_token = await live.user()
    async with connected(live, watcher_token) as c:
        await c.call("join_event", {"event_id": event.id})
        await asyncio.gather(*(live.bet(u, event, i % 2, 3) for i, (u, _) in enumerate(users)))
        got = await collect_updates(c, 90)
    assert 1 <= len(got) <= 3


# -- results -------------------------------------------------------------------------------


async def test_settlement_reaches_the_room_and_each_bettor_gets_its_balance(live: Live) -> None:
    event = await live.event()
    (alice, a_token), (bob, b_token) = await live.user(), await live.user()
    _, w_token = await live.user()
    await live.bet(alice, event, 0, 100)
    await live.bet(bob, event, 1, 300)
    async with (
        connected(live, a_token) as a,
        connected(live, b_token) as b,
        connected(live, w_token) as watcher,
    ):
        for c in (a, b, watcher):
            await c.call("join_event", {"event_id": event.id})
        winner = event.outcomes[0]
        await live.call(live.kit.events.settle(SYSTEM, event.id, winner.id))
        for c in (a, b, watcher):
            settled = await c.next("event_settled")
            assert settled["event_id"] == event.id
            assert settled["status"] == "settled"
            assert settled["winning_outcome_id"] == winner.id
            assert settled["winning_outcome"] == winner.name
            assert (settled["refund"], settled["rake"]) == (False, 0)
            assert (settled["bets"], settled["paid"]) == (2, 400)
            assert settled["pool"]["status"] == "settled"
            final = await c.until("event_update", lambda u: u["status"] == "settled")
            assert final["winning_outcome_id"] == winner.id
            assert c.got["event_voided"].empty()
        balance = await a.until("balance_update", lambda p: coin(p) == 1000 - 100 + 400)
        assert balance["user_id"] == alice.id
        assert await b.quiet("balance_update", 0.3)  # bob lost: his wallet did not change now
    assert (await live.call(live.kit.events.get(event.id))).status is EventStatus.SETTLED


async def test_void_reaches_the_room_and_refunds_every_bettor(live: Live) -> None:
    event = await live.event()
    (alice, a_token), (bob, b_token) = await live.user(), await live.user()
    await live.bet(alice, event, 0, 100)
    await live.bet(bob, event, 1, 250)
    async with connected(live, a_token) as a, connected(live, b_token) as b:
        await a.call("join_event", {"event_id": event.id})
        await live.call(live.kit.events.void(SYSTEM, event.id, reason="stream down"))
        voided = await a.next("event_voided")
        assert voided["status"] == "voided"
        assert voided["refund"] is True
        assert voided["winning_outcome_id"] is None
        assert (voided["bets"], voided["paid"]) == (2, 350)
        assert a.got["event_settled"].empty()
        for c in (a, b):  # b did not join the room, but its wallet is its own
            assert coin(await c.until("balance_update", lambda p: coin(p) == 1000)) == 1000
        assert b.got["event_voided"].empty()


# -- chat ----------------------------------------------------------------------------------


async def test_chat_goes_to_the_room_and_deletions_follow(live: Live) -> None:
    event = await live.event()
    (alice, a_token), (_, b_token) = await live.user(), await live.user()
    _, outsider_token = await live.user()
    async with (
        connected(live, a_token) as a,
        connected(live, b_token) as b,
        connected(live, outsider_token) as outsider,
    ):
        await a.call("join_event", {"event_id": event.id})
        await b.call("join_event", {"event_id": event.id})
        ack = await a.call("chat_message", {"event_id": event.id, "text": "gl hf"})
        assert set(ack) == {"id", "event_id", "user_id", "author", "text", "created_at"}
        assert (ack["event_id"], ack["user_id"], ack["text"]) == (event.id, alice.id, "gl hf")
        assert ack["author"] == alice.display_name
        assert await b.next("chat_message") == ack
        assert await a.next("chat_message") == ack  # the sender is in the room too
        assert outsider.got["chat_message"].empty()

        await live.call(live.kit.chat.delete(SYSTEM, ack["id"], reason="spam"))
        assert await b.next("chat_deleted") == {"id": ack["id"], "event_id": event.id}
        history = await live.call(live.kit.chat.history(event.id))
        assert ack["id"] not in [m.id for m in history]

        for bad in ("", "   ", "x" * 501, "bell\x07"):
            r = await a.call("chat_message", {"event_id": event.id, "text": bad})
            assert r["error"]["code"] == "invalid_input", bad
        r = await a.call("chat_message", {"event_id": event.id})
        assert r["error"]["code"] == "invalid_input"
        r = await a.call("chat_message", {"event_id": 987654, "text": "hi"})
        assert r["error"]["code"] == "event_not_found"
        assert await b.quiet("chat_message", 0.3)


async def test_muted_users_cannot_post(live: Live) -> None:
    event = await live.event()
    (muted, m_token), (_, w_token) = await live.user(), await live.user()
    async with connected(live, m_token) as m, connected(live, w_token) as w:
        await w.call("join_event", {"event_id": event.id})
        await live.call(live.kit.chat.mute(SYSTEM, muted.id, minutes=5, reason="flood"))
        r = await m.call("chat_message", {"event_id": event.id, "text": "let me talk"})
        assert r["error"]["code"] == "chat_muted"
        assert m.sio.connected  # muted, not banned: the socket stays
        await live.call(live.kit.chat.unmute(SYSTEM, muted.id))
        ok = await m.call("chat_message", {"event_id": event.id, "text": "thanks"})
        assert (await w.next("chat_message"))["id"] == ok["id"]
        assert w.got["chat_message"].empty()


async def test_a_user_banned_after_connecting_is_refused_and_cut_off(live: Live) -> None:
    """Banned where the server does not hear of it (the use cases of another process without
    Redis, on the same store): the next call on the socket is refused and cuts it off."""
    event = await live.event()
    (user, token), (_, w_token) = await live.user(), await live.user()
    unannounced = WagerKit(live.kit.deps.uow)  # no live updates
    async with connected(live, token) as c, connected(live, w_token) as w:
        await w.call("join_event", {"event_id": event.id})
        await live.call(unannounced.identity.ban(SYSTEM, user.id, "abuse"))
        r = await c.call("chat_message", {"event_id": event.id, "text": "still here?"})
        assert r["error"]["code"] == "account_banned"
        for _ in range(50):
            if not c.sio.connected:
                break
            await asyncio.sleep(0.05)
        assert not c.sio.connected
        assert await w.quiet("chat_message", 0.2)
    assert await live.call(live.kit.chat.history(event.id)) == []


async def test_chat_is_rate_limited(live: Live) -> None:
    event = await live.event()
    _, token = await live.user()
    async with connected(live, token) as c:
        for i in range(CHAT_LIMIT):
            assert "id" in await c.call("chat_message", {"event_id": event.id, "text": f"m{i}"})
        r = await c.call("chat_message", {"event_id": event.id, "text": "one too many"})
        assert r["error"]["code"] == "rate_limited"
        assert 1 <= r["error"]["retry_after"] <= 60
    history = await live.call(live.kit.chat.history(event.id))
    assert len(history) == CHAT_LIMIT


# -- the job loop --------------------------------------------------------------------------


async def test_the_server_job_loop_locks_an_event_when_betting_closes(live: Live) -> None:
    event = await live.event(closes_in=1.0)
    _, token = await live.user()
    async with connected(live, token) as c:
        ack = await c.call("join_event", {"event_id": event.id})
        assert ack["pool"]["status"] == "open"
        update = await c.until("event_update", lambda u: u["status"] == "locked", wait=5)
        assert update["event_id"] == event.id
    current = await live.call(live.kit.events.get(event.id))
    assert current.status is EventStatus.LOCKED
    audit = await live.call(live.kit.audit.list(SYSTEM, limit=50))
    assert any(r.action == "event.auto_lock" and r.target == f"event:{event.id}" for r in audit)


async def _job_tasks() -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name() == "wagerkit-jobs"]


async def test_the_job_loop_runs_in_the_server_and_stops_with_it(
    server: Callable[[Any], AbstractContextManager[str]],
) -> None:
    for setting, expected in ((True, ["wagerkit-jobs"]), (False, [])):
        gen = _start(server, _settings(jobs_in_server=setting, jobs_interval_seconds=0.1))
        live = next(gen)
        try:
            assert await live.call(_job_tasks()) == expected
        finally:
            with pytest.raises(StopIteration):
                next(gen)  # shuts the server down: the shutdown listeners stop the loop

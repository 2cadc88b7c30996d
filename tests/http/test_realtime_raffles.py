"""Raffle rooms over Socket.IO against a real server with real python-socketio clients:
``join_raffle`` answers the live view and the user's numbers; purchases push coalesced
``raffle_update`` sold counts; the close pushes ``raffle_closed`` with the commitment; the
draw pushes ``raffle_drawn`` with the winners, and each winner gets ``balance_update``."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from test_realtime_events import SYSTEM, Client, Live, coin, connected
from test_realtime_events import live as live  # the module's server fixture

from wagerkit import Actor, RaffleCategoryDraft, RaffleDraft


async def _raffle(live: Live) -> Any:
    c = await live.call(
        live.kit.raffles.create_category(
            SYSTEM, RaffleCategoryDraft("Live", 10, 20, 2, 1000, (60, 40))
        )
    )
    now = datetime.now(UTC)
    draft = RaffleDraft(f"r{uuid.uuid4().hex[:6]}", c.id, now, now + timedelta(hours=1))
    return await live.call(live.kit.raffles.create(SYSTEM, draft))


def _listen(c: Client) -> None:
    for name in ("raffle_update", "raffle_closed", "raffle_drawn"):
        q: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        c.got[name] = q

        async def put(data: Any, q: asyncio.Queue[tuple[float, Any]] = q) -> None:
            await q.put((time.monotonic(), data))

        c.sio.on(name, put)


async def test_room_hears_sales_close_and_draw_and_winners_their_balance(live: Live) -> None:
    r = await _raffle(live)
    (alice, a_token), (bob, b_token) = await live.user(), await live.user()
    await live.call(live.kit.raffles.buy(Actor.of(alice), r.id, numbers=[1, 2]))
    async with connected(live, a_token) as a, connected(live, b_token) as b:
        _listen(a)
        _listen(b)
        ack = await a.call("join_raffle", {"raffle_id": r.id})
        assert ack["raffle"]["sold"] == 2
        assert ack["my_numbers"] == [1, 2]
        assert (await b.call("join_raffle", {"raffle_id": str(r.id)}))["my_numbers"] == []
        assert (await a.call("join_raffle", {"raffle_id": 0}))["error"]["code"] == "invalid_input"
        bad = await a.call("join_raffle", {"raffle_id": 99999})
        assert bad["error"]["code"] == "raffle_not_found"
        await live.call(live.kit.raffles.buy(Actor.of(bob), r.id, count=3))
        update = await a.until("raffle_update", lambda d: d["sold"] == 5)
        assert update["raffle_id"] == r.id
        closed = await live.call(live.kit.raffles.close(SYSTEM, r.id))
        note = await b.until("raffle_closed", lambda d: d["raffle_id"] == r.id)
        assert note["commitment"] == closed.commitment
        drawn = await live.call(live.kit.raffles.draw(SYSTEM, r.id, public_value="live value"))
        got = await a.until("raffle_drawn", lambda d: d["paid"])
        assert [w["number"] for w in got["winners"]] == [w[0] for w in drawn.winners]
        assert [w["prize"] for w in got["winners"]] == [27, 18]  # 50 sold, 5 rake, 60/40
        winners = {w[1] for w in drawn.winners}
        for user, client in ((alice, a), (bob, b)):
            if user.id in winners:
                won = sum(w[2] for w in drawn.winners if w[1] == user.id)
                held = 2 if user is alice else 3
                bal = await client.until(
                    "balance_update",
                    lambda d, won=won, held=held: coin(d) == 1000 - 10 * held + won,
                )
                assert bal["user_id"] == user.id
        left = await a.call("leave_raffle", {"raffle_id": r.id})
        assert left == {"raffle_id": r.id, "left": True}

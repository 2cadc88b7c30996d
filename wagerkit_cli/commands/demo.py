"""``wagerkit demo``: a few users with money and history, and two events with bets (one
open, one settled), to try the other commands (and ``wagerkit serve``) on.

Safe to run again: users are found by username and events by title rather than created twice,
and every money movement (bets included) carries an idempotency key, so a second run moves
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer

from ..output import balance_json, user_json
from ..runtime import CliState, state
from ..terminal import Column
from . import JsonOpt, raffles
from .events import event_json, event_row
from .orders import seed_orders_demo
from .predictions import seed_predictions_demo
from .prices import seed_prices_demo

if TYPE_CHECKING:
    from wagerkit import Currency, Event, User, WagerKit, WalletBalance

# (display name, username, role)
DEMO_USERS = [
    ("Alice Demo", "demo-alice", "player"),
    ("Bob Demo", "demo-bob", "player"),
    ("Carol Demo", "demo-carol", "player"),
    ("Oscar Demo", "demo-oscar", "operator"),
]
DEMO_GRANT = "500"  # in the default currency, to every player
# (from, to, amount, memo, key)
DEMO_TRANSFERS = [
    ("demo-alice", "demo-bob", "150", "pizza night", "demo-1"),
    ("demo-bob", "demo-carol", "75", "raffle ticket split", "demo-2"),
    ("demo-carol", "demo-alice", "20", "coffee", "demo-3"),
]
DEMO_ADJUST = ("demo-carol", "-10", "demo: correcting a double payout", "demo-adjust")

# (title, outcomes, rake in bps, stream URL, bets (username, outcome, amount, key), winner):
# the first stays open for a week and takes top-ups (so a demo player who already bet can
# still add to its bet over HTTP, as README.md shows), the second is settled at once.
DEMO_EVENTS = [
    (
        "Demo: Red vs Blue, grand final",
        ("Red", "Blue"),
        500,
        "https://example.com/streams/demo-final",
        [
            ("demo-alice", "Red", "100", "demo-bet-1"),
            ("demo-bob", "Blue", "200", "demo-bet-2"),
            ("demo-carol", "Red", "50", "demo-bet-3"),
        ],
        None,
    ),
    (
        "Demo: who takes the first map?",
        ("Red", "Blue", "Draw"),
        0,
        "",
        [
            ("demo-alice", "Blue", "30", "demo-bet-4"),
            ("demo-bob", "Blue", "60", "demo-bet-5"),
            ("demo-carol", "Red", "40", "demo-bet-6"),
        ],
        "Blue",
    ),
]
DEMO_EVENT_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Title"),
    Column("Status", no_wrap=True),
    Column("Pool", "right", no_wrap=True),
    Column("Bets", "right", no_wrap=True),
    Column("Closes (UTC)", "left", no_wrap=True),
    Column("Winner"),
    Column(""),
]

DEMO_COLUMNS = [
    Column("ID", "right", no_wrap=True),
    Column("Name"),
    Column("Username"),
    Column("Role"),
    Column("Balance", "right", no_wrap=True),
    Column(""),
]


def demo(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Create demo users, grants and transfers (idempotent: run it twice, nothing doubles)."""
    from wagerkit import Role

    st = state(ctx)
    cur = st.currency(None)

    async def work(kit: WagerKit) -> list[tuple[User, bool, WalletBalance]]:
        actor = st.actor
        users: dict[str, tuple[User, bool]] = {}
        for name, username, role in DEMO_USERS:
            async with kit.deps.uow() as uow:
                existing = await uow.users.get_by_username(username)
            if existing is not None:
                users[username] = (existing, False)
            else:
                users[username] = (
                    await kit.users.add(actor, name, role=Role(role), username=username),
                    True,
                )
        for user, _ in users.values():
            if user.role is Role.PLAYER:
                await kit.wallets.grant(
                    actor,
                    user.id,
                    cur.parse(DEMO_GRANT),
                    cur.code,
                    memo="demo grant",
                    idempotency_key="demo-grant",
                )
        for src, dst, amount, memo, key in DEMO_TRANSFERS:
            await kit.wallets.transfer(
                actor,
                users[src][0].id,
                users[dst][0].id,
                cur.parse(amount),
                cur.code,
                memo=memo,
                idempotency_key=key,
            )
        who, amount, reason, key = DEMO_ADJUST
        await kit.wallets.adjust(
            actor,
            users[who][0].id,
            cur.parse(amount, allow_negative=True),
            cur.code,
            reason=reason,
            idempotency_key=key,
        )
        found_events.extend(await _demo_events(st, kit, cur, {u: v[0] for u, v in users.items()}))
        await seed_prices_demo(kit, st.settings.price_seed)  # DEMO-USD, recent ticks
        await seed_predictions_demo(
            kit, [u for u, _ in users.values() if u.role is Role.PLAYER], "DEMO-USD"
        )
        await raffles.seed_raffle_demo(kit, actor, {u: v[0] for u, v in users.items()})
        await seed_orders_demo(kit, {u: v[0] for u, v in users.items()})  # docs/orders.md
        return [
            (user, created, await kit.wallets.balance(actor, user.id, cur.code))
            for user, created in users.values()
        ]

    found_events: list[tuple[Event, bool]] = []
    result = st.run(work)
    if as_json:
        out: list[dict[str, Any]] = [
            {**user_json(u), "created": created, "wallet": balance_json(b, cur)}
            for u, created, b in result
        ]
        events = [{**event_json(e, cur), "created": created} for e, created in found_events]
        st.terminal.json({"users": out, "events": events, "currency": cur.code})
        return
    rows = [
        [
            u.id,
            u.display_name,
            u.username,
            u.role.value,
            cur.format(b.balance),
            "new" if created else "existing",
        ]
        for u, created, b in result
    ]
    st.terminal.table(DEMO_COLUMNS, rows, title=f"Demo users (balances in {cur.code})")
    st.terminal.table(
        DEMO_EVENT_COLUMNS,
        [[*event_row(st, e), "new" if created else "existing"] for e, created in found_events],
        title="Demo events",
    )
    st.terminal.line(
        f"try: wagerkit users list; wagerkit wallet statement {result[0][0].id}; "
        f"wagerkit events show {found_events[0][0].id}; wagerkit bets list"
    )
    st.terminal.line(
        "and: wagerkit prices show; wagerkit rounds list; "
        f"wagerkit predictions list --as {result[0][0].id}; wagerkit raffles list; "
        "wagerkit orders list; wagerkit reviews list"
    )


async def _find_event(kit: WagerKit, title: str) -> Event | None:
    """The newest event with this title (demo events are found by title)."""
    before: int | None = None
    while True:
        page = await kit.events.list_events(limit=200, before_id=before)
        for e in page:
            if e.title == title:
                return e
        if len(page) < 200:
            return None
        before = page[-1].id


async def _demo_events(
    st: CliState, kit: WagerKit, cur: Currency, users: dict[str, User]
) -> list[tuple[Event, bool]]:
    """Create (or find) the demo events, place their bets (keyed: a replay moves nothing)
    and settle the one that has a winner."""
    from wagerkit import Actor, EventDraft, EventStatus, StreamType

    from .events import outcome_arg

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
    out: list[tuple[Event, bool]] = []
    for title, outcomes, rake_bps, url, bets, winner in DEMO_EVENTS:
        event = await _find_event(kit, title)
        created = event is None
        if event is None:
            event = await kit.events.create(
                st.actor,
                EventDraft(
                    title=title,
                    outcomes=outcomes,
                    start_time=start,
                    description="Created by 'wagerkit demo'.",
                    stream_type=StreamType.CUSTOM,
                    stream_url=url,
                    currency=cur.code,
                    rake_bps=rake_bps,
                    allow_topup=winner is None,
                    status=EventStatus.OPEN,
                ),
            )
        for username, name, amount, key in bets if event.status is EventStatus.OPEN else []:
            await kit.events.place_bet(
                Actor.of(users[username]),
                event.id,
                outcome_arg(event, name),
                cur.parse(amount),
                idempotency_key=key,
            )
        if winner is not None and not event.status.final:
            await kit.events.settle(st.actor, event.id, outcome_arg(event, winner))
        out.append((await kit.events.get(event.id), created))
    return out

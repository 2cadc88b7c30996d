"""``wagerkit demo``: a few users with money and history, to try the other commands on.

Safe to run again: users are found by username rather than created twice, and every money
movement carries an idempotency key, so a second run moves nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from ..output import balance_json, user_json
from ..runtime import state
from ..terminal import Column
from . import JsonOpt

if TYPE_CHECKING:
    from wagerkit import User, WagerKit, WalletBalance

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
        return [
            (user, created, await kit.wallets.balance(actor, user.id, cur.code))
            for user, created in users.values()
        ]

    result = st.run(work)
    if as_json:
        out: list[dict[str, Any]] = [
            {**user_json(u), "created": created, "wallet": balance_json(b, cur)}
            for u, created, b in result
        ]
        st.terminal.json({"users": out, "currency": cur.code})
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
    st.terminal.line("try: wagerkit users list; wagerkit wallet statement " + str(result[0][0].id))

"""``GET /users/me``'s stats (``kit.orders.profile``) on every store: counted by the store's
aggregate reads, exact whatever the user's history (the profile once read at most 10,000 of
a user's orders and takes and counted them), and equal to a count of the rows themselves."""

from __future__ import annotations

import dataclasses

from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.domain.orders import Order, OrderStatus, Take
from wagerkit.ports import UnitOfWork

OLD_CAP = 10_000
STATUSES = [
    OrderStatus.COMPLETED,
    OrderStatus.EXPIRED,
    OrderStatus.CLOSED,
    OrderStatus.CLOSED_NO_RESPONSE,
    OrderStatus.DELETED,
    OrderStatus.COMPLETED,
]


async def _add_orders(uow: UnitOfWork, history: list[Order]) -> None:
    """What ``uow.orders.add`` would write for each order, in bulk: 10,000 single inserts
    take half a minute on PostgreSQL, and the memory store's check of each contact is linear
    (history orders are closed: no contact check applies)."""
    session = getattr(uow.orders, "_c", None)
    if session is None:  # the memory store: its table is a dict
        uow.orders._d.orders.update((o.id, o) for o in history)  # type: ignore[attr-defined]
        return
    from sqlalchemy import insert

    from wagerkit.adapters.sql.orders import _values
    from wagerkit.adapters.sql.tables import orders

    rows = [
        {**_values(o), "id": o.id, "client_id": o.client_id, "created_at": o.created_at}
        | {"currency": o.currency}
        for o in history
    ]
    await session.execute(insert(orders), rows)


async def test_stats_are_exact_beyond_the_old_cap(kit: WagerKit) -> None:
    system = Actor.system("test")
    client = await kit.users.add(system, "Busy client")
    executor = await kit.users.add(system, "Busy executor")
    other = await kit.users.add(system, "Other client")
    first = (await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Tap", "c0")).order
    await kit.orders.create(Actor.of(other), "cleaning", "Omsk", "Floor", "o0")  # not counted
    # the history, written straight through the repository (creating 10,000 orders through
    # the use case would take minutes): closed orders in several statuses, one taken each
    n = OLD_CAP + 1
    history = [
        dataclasses.replace(
            first.with_status(STATUSES[i % len(STATUSES)], first.created_at),
            id=f"hist{i:08d}",
            contact=f"h{i}",
        )
        for i in range(n)
    ]
    async with kit.deps.uow() as uow:
        await _add_orders(uow, history)
        await uow.orders.add_takes(
            [Take(o.id, executor.id, 0, f"t{o.id}", o.created_at) for o in history], []
        )
        await uow.commit()
    await kit.orders.take(Actor.of(executor), first.id)  # one paid take on top
    await kit.orders.respond(Actor.of(client), first.id)
    await kit.orders.complete(Actor.of(client), first.id)
    await kit.orders.review(Actor.of(client), first.id, executor.id, 4)

    mine = await kit.orders.profile(Actor.of(client))
    theirs = await kit.orders.profile(Actor.of(executor))
    completed = sum(1 for o in history if o.status is OrderStatus.COMPLETED) + 1
    assert (mine.orders_created, mine.orders_completed, mine.orders_taken) == (n + 1, completed, 0)
    assert (theirs.orders_created, theirs.orders_taken, theirs.orders_completed) == (0, n + 1, 0)
    assert (theirs.user.rating_sum, theirs.user.rating_count, theirs.rating) == (4, 1, 4.0)

    # the reference: the rows themselves, read whole and counted here
    async with kit.deps.uow() as uow:
        rows = await uow.orders.list_orders(client_id=client.id, status=None, limit=10 * n)
        takes = await uow.orders.takes_by(executor.id, limit=10 * n)
        stats = await uow.orders.stats(client.id)
    reviews = await kit.orders.reviews(executor_id=executor.id)
    by_status: dict[OrderStatus, int] = {}
    for o in rows:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    assert stats.created_by_status == by_status
    assert mine.orders_created == len(rows)
    assert mine.orders_completed == by_status[OrderStatus.COMPLETED]
    assert theirs.orders_taken == len(takes)
    assert (theirs.user.rating_sum, theirs.user.rating_count) == (
        sum(r.stars for r in reviews),
        len(reviews),
    )
    await assert_conserved(kit)


async def test_stats_of_a_new_user_are_zero(kit: WagerKit) -> None:
    user = await kit.users.add(Actor.system("test"), "New")
    me = await kit.orders.profile(Actor.of(user))
    assert (me.orders_created, me.orders_taken, me.orders_completed, me.rating) == (0, 0, 0, None)
    async with kit.deps.uow() as uow:
        assert (await uow.orders.stats(user.id)).created_by_status == {}

"""The service-order marketplace through the ``WagerKit`` facade (SPEC section 6), on every
store (memory, SQLite, PostgreSQL): creating (one active order per contact, rate limit),
edits and deletes before the first take, takes (fee to the house, at most three, never one's
own, repeat takes free, expiry on the spot), contact visibility, the client's actions, the job
runner's expiry and auto-close with refunds exactly once, invalid-contact reports, reviews and
the rating, complaints, preferences and the profile. Every scenario ends with the books
checked: money conserved and no wallet below zero."""

from __future__ import annotations

import asyncio

import pytest
from builders import assert_conserved

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, WagerKit
from wagerkit.domain.errors import (
    ActiveOrderExists,
    AlreadyReviewed,
    InsufficientFunds,
    InvalidInput,
    OrderClosed,
    OrderExpired,
    OrderFull,
    OrderLocked,
    OrderNotFound,
    OwnOrder,
    PermissionDenied,
    RateLimited,
    ReportNotAllowed,
)
from wagerkit.domain.identity import Role, User
from wagerkit.domain.ledger import AccountKind
from wagerkit.domain.notifications import WalletChanged
from wagerkit.domain.orders import (
    REPORT_REJECTION_LIMIT,
    NotifyMode,
    OrderCategory,
    OrderCreated,
    OrderStatus,
    OrderUpdated,
)
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, RecordingPublisher, SequentialIds

GRANT = 1000
FEE = 2


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock, publisher: RecordingPublisher) -> WagerKit:
    limits = {**DEFAULT_LIMITS, "order": (1000, 3600), "take": (1000, 60)}
    return WagerKit(
        store,
        clock=clock,
        ids=SequentialIds(),
        publisher=publisher,
        identity_policy=IdentityPolicy(limits=limits),
    )


async def _users(kit: WagerKit, n: int, *, grant: bool = True) -> list[User]:
    system = Actor.system("test")
    return [await kit.users.add(system, f"User {i}", welcome_grant=grant) for i in range(n)]


async def _balance(kit: WagerKit, user: User) -> int:
    return (await kit.wallets.balance(Actor.system(), user.id)).balance


async def _house(kit: WagerKit) -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.find_account(AccountKind.HOUSE, "system", "COIN")
    return 0 if acc is None else acc.balance


async def _order(kit: WagerKit, client: User, contact: str = "+7 900 000-00-00") -> str:
    view = await kit.orders.create(
        Actor.of(client), "plumbing", "Moscow", "Leaking tap, today", contact
    )
    return view.order.id


async def test_create_is_free_and_hides_the_contact(kit: WagerKit) -> None:
    client, other = await _users(kit, 2)
    view = await kit.orders.create(Actor.of(client), "plumbing", "Moscow", "Tap", "+7 900")
    o = view.order
    assert len(o.id) == 12
    assert view.contact == "+7 900"
    assert o.status is OrderStatus.ACTIVE
    assert o.takers == 0
    assert o.free_slots == 3
    assert o.fee == FEE
    assert (o.expires_at - o.created_at).total_seconds() == 3600
    assert await _balance(kit, client) == GRANT
    public = await kit.orders.list_orders()
    assert [v.order.id for v in public] == [o.id]
    assert public[0].contact is None
    assert public[0].order.contact == ""
    assert (await kit.orders.get(Actor.of(other), o.id)).contact is None
    assert (await kit.orders.get(None, o.id)).contact is None
    assert (await kit.orders.get(Actor.of(client), o.id)).contact == "+7 900"
    await assert_conserved(kit)


async def test_one_active_order_per_contact(kit: WagerKit) -> None:
    a, b = await _users(kit, 2)
    oid = await _order(kit, a, "c1")
    with pytest.raises(ActiveOrderExists):
        await _order(kit, b, "c1")
    await kit.orders.delete(Actor.of(a), oid)
    await _order(kit, b, "c1")  # the first is no longer active


async def test_bad_input_is_refused(kit: WagerKit) -> None:
    (a,) = await _users(kit, 1)
    me = Actor.of(a)
    for args in (
        ("nope", "Moscow", "x", "c"),
        ("plumbing", "", "x", "c"),
        ("plumbing", "Moscow", "", "c"),
        ("plumbing", "Moscow", "x", "c\u202e"),
    ):
        with pytest.raises(InvalidInput):
            await kit.orders.create(me, *args)
    with pytest.raises(OrderNotFound):
        await kit.orders.get(me, "../etc")
    with pytest.raises(OrderNotFound):
        await kit.orders.take(me, "AAAAAAAAAAAA")
    assert await kit.orders.list_orders() == []


async def test_creation_is_rate_limited(store: UnitOfWorkFactory, clock: FixedClock) -> None:
    kit = WagerKit(store, clock=clock, ids=SequentialIds())
    (a,) = await _users(kit, 1)
    for i in range(10):
        await _order(kit, a, f"c{i}")
    with pytest.raises(RateLimited):
        await _order(kit, a, "c10")


async def test_take_moves_the_fee_and_reveals_the_contact(
    kit: WagerKit, publisher: RecordingPublisher
) -> None:
    client, ex = await _users(kit, 2)
    oid = await _order(kit, client)
    r = await kit.orders.take(Actor.of(ex), oid)
    assert r.contact == "+7 900 000-00-00"
    assert r.fee == FEE
    assert not r.replayed
    assert r.order.takers == 1
    assert r.order.city_locked
    assert r.order.respond_by is not None
    assert await _balance(kit, ex) == GRANT - FEE
    assert await _house(kit) == FEE
    again = await kit.orders.take(Actor.of(ex), oid)  # repeat: contact, no charge
    assert again.replayed
    assert again.contact == r.contact
    assert await _balance(kit, ex) == GRANT - FEE
    view = await kit.orders.get(Actor.of(ex), oid)
    assert view.contact == r.contact
    assert view.taken_by_me
    assert any(isinstance(n, WalletChanged) and ex.id in n.user_ids for n in publisher.notes)
    assert any(isinstance(n, OrderUpdated) and n.takers == 1 for n in publisher.notes)
    assert any(isinstance(n, OrderCreated) for n in publisher.notes)
    await assert_conserved(kit)


async def test_at_most_three_and_never_ones_own(kit: WagerKit) -> None:
    client, *ex = await _users(kit, 5)
    oid = await _order(kit, client)
    with pytest.raises(OwnOrder):
        await kit.orders.take(Actor.of(client), oid)
    for e in ex[:3]:
        await kit.orders.take(Actor.of(e), oid)
    with pytest.raises(OrderFull):
        await kit.orders.take(Actor.of(ex[3]), oid)
    assert await _balance(kit, ex[3]) == GRANT
    assert await _house(kit) == 3 * FEE
    await assert_conserved(kit)


async def test_concurrent_takes_charge_exactly_three(kit: WagerKit) -> None:
    client, *ex = await _users(kit, 9)
    oid = await _order(kit, client)
    results = await asyncio.gather(
        *(kit.orders.take(Actor.of(e), oid) for e in ex), return_exceptions=True
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 3
    assert all(isinstance(r, OrderFull) for r in results if isinstance(r, BaseException))
    assert await _house(kit) == 3 * FEE
    await assert_conserved(kit)


async def test_insufficient_funds_reveals_nothing(kit: WagerKit) -> None:
    (client,) = await _users(kit, 1)
    (poor,) = await _users(kit, 1, grant=False)
    oid = await _order(kit, client)
    with pytest.raises(InsufficientFunds):
        await kit.orders.take(Actor.of(poor), oid)
    view = await kit.orders.get(Actor.of(poor), oid)
    assert view.contact is None
    assert view.order.takers == 0
    await assert_conserved(kit)


async def test_edit_and_delete_only_before_the_first_take(kit: WagerKit) -> None:
    client, ex, other = await _users(kit, 3)
    me = Actor.of(client)
    oid = await _order(kit, client)
    with pytest.raises(PermissionDenied):
        await kit.orders.edit(Actor.of(other), oid, description="mine now")
    view = await kit.orders.edit(me, oid, description="Two taps", city="Kazan")
    assert view.order.description == "Two taps"
    assert view.order.city == "Kazan"
    await kit.orders.take(Actor.of(ex), oid)
    with pytest.raises(OrderLocked, match="city"):
        await kit.orders.edit(me, oid, city="Moscow")
    with pytest.raises(OrderLocked):
        await kit.orders.edit(me, oid, description="again")
    with pytest.raises(OrderLocked):
        await kit.orders.delete(me, oid)
    await assert_conserved(kit)


async def test_take_after_expiry_marks_it_expired_on_the_spot(
    kit: WagerKit, clock: FixedClock
) -> None:
    client, ex = await _users(kit, 2)
    oid = await _order(kit, client)
    clock.advance(minutes=60)
    with pytest.raises(OrderExpired):
        await kit.orders.take(Actor.of(ex), oid)
    assert (await kit.orders.get(None, oid)).order.status is OrderStatus.EXPIRED
    assert await _balance(kit, ex) == GRANT
    with pytest.raises(OrderClosed):
        await kit.orders.take(Actor.of(ex), oid)
    await assert_conserved(kit)


async def test_jobs_expire_without_refund(kit: WagerKit, clock: FixedClock) -> None:
    client, ex = await _users(kit, 2)
    oid = await _order(kit, client)
    await kit.orders.take(Actor.of(ex), oid)
    await kit.orders.respond(Actor.of(client), oid)
    clock.advance(minutes=59)
    assert (await kit.jobs.tick()).parts["orders"].idle
    clock.advance(minutes=1)
    part = (await kit.jobs.tick()).parts["orders"]
    assert part.expired == [oid]  # type: ignore[attr-defined]
    assert (await kit.orders.get(None, oid)).order.status is OrderStatus.EXPIRED
    assert await _balance(kit, ex) == GRANT - FEE
    assert await _house(kit) == FEE
    await assert_conserved(kit)


async def test_no_response_refunds_every_fee_once(kit: WagerKit, clock: FixedClock) -> None:
    client, *ex = await _users(kit, 4)
    oid = await _order(kit, client)
    await kit.orders.take(Actor.of(ex[0]), oid)
    clock.advance(minutes=10)
    await kit.orders.take(Actor.of(ex[1]), oid)
    clock.advance(minutes=5)  # 15 minutes after the first take
    part = (await kit.jobs.tick()).parts["orders"]
    assert part.closed_no_response == [oid]
    assert part.refunds == 2
    assert (await kit.orders.get(None, oid)).order.status is OrderStatus.CLOSED_NO_RESPONSE
    assert [await _balance(kit, e) for e in ex] == [GRANT] * 3
    assert await _house(kit) == 0
    assert (await kit.jobs.tick()).parts["orders"].idle  # never twice
    clock.advance(hours=2)
    assert (await kit.jobs.tick()).parts["orders"].idle
    assert [await _balance(kit, e) for e in ex] == [GRANT] * 3
    entries = await kit.audit.list(Actor.system(), target=f"order:{oid}")
    assert [e.action for e in entries] == ["order.auto_closed_no_response"]
    await assert_conserved(kit)


async def test_take_after_the_window_closes_and_refunds_on_the_spot(
    kit: WagerKit, clock: FixedClock
) -> None:
    client, a, b = await _users(kit, 3)
    oid = await _order(kit, client)
    await kit.orders.take(Actor.of(a), oid)
    clock.advance(minutes=15)
    with pytest.raises(OrderExpired):
        await kit.orders.take(Actor.of(b), oid)
    assert (await kit.orders.get(None, oid)).order.status is OrderStatus.CLOSED_NO_RESPONSE
    assert await _balance(kit, a) == GRANT
    assert await _balance(kit, b) == GRANT
    assert (await kit.jobs.tick()).parts["orders"].idle
    await assert_conserved(kit)


async def test_client_actions(kit: WagerKit) -> None:
    client, ex, other = await _users(kit, 3)
    oid = await _order(kit, client, "c1")
    with pytest.raises(PermissionDenied):
        await kit.orders.complete(Actor.of(other), oid)
    assert (await kit.orders.respond(Actor.of(client), oid)).order.responded
    done = await kit.orders.complete(Actor.of(client), oid)
    assert done.order.status is OrderStatus.COMPLETED
    assert done.order.closed_at is not None
    with pytest.raises(OrderClosed):
        await kit.orders.close(Actor.of(client), oid)
    oid2 = await _order(kit, client, "c2")
    await kit.orders.take(Actor.of(ex), oid2)
    closed = await kit.orders.close(Actor.of(client), oid2)
    assert closed.order.status is OrderStatus.CLOSED
    assert await _balance(kit, ex) == GRANT - FEE  # closing refunds nothing
    await assert_conserved(kit)


async def test_invalid_contact_reports(kit: WagerKit, clock: FixedClock) -> None:
    client, ex, other = await _users(kit, 3)
    op = Actor.of(await kit.users.add(Actor.system(), "Op", role=Role.OPERATOR))
    oid = await _order(kit, client)
    with pytest.raises(PermissionDenied):
        await kit.orders.report_contact(Actor.of(other), oid, "dead number")
    await kit.orders.take(Actor.of(ex), oid)
    report = await kit.orders.report_contact(Actor.of(ex), oid, "dead number")
    with pytest.raises(PermissionDenied):
        await kit.orders.reports(Actor.of(ex))
    with pytest.raises(PermissionDenied):
        await kit.orders.decide_report(Actor.of(ex), report.id, accept=True)
    assert [r.id for r in await kit.orders.reports(op)] == [report.id]
    decided = await kit.orders.decide_report(op, report.id, accept=True, reason="checked")
    assert decided.status.value == "accepted"
    assert await _balance(kit, ex) == GRANT
    assert await _house(kit) == 0
    assert await kit.orders.reports(op) == []
    entries = await kit.audit.list(Actor.system(), action="order.report_accept")
    assert len(entries) == 1
    assert entries[0].actor_id == op.user_id
    # the response window passes: the take was refunded already, nothing moves twice
    clock.advance(minutes=15)
    assert (await kit.jobs.tick()).parts["orders"].closed_no_response == [oid]  # type: ignore[attr-defined]
    assert await _balance(kit, ex) == GRANT
    await assert_conserved(kit)


async def test_report_window_and_rejection_limit(kit: WagerKit, clock: FixedClock) -> None:
    client, ex = await _users(kit, 2)
    op = Actor.system("op")
    ids = []
    for i in range(REPORT_REJECTION_LIMIT + 1):
        oid = await _order(kit, client, f"c{i}")
        await kit.orders.take(Actor.of(ex), oid)
        await kit.orders.respond(Actor.of(client), oid)
        ids.append(oid)
    for oid in ids[:REPORT_REJECTION_LIMIT]:
        r = await kit.orders.report_contact(Actor.of(ex), oid, "wrong")
        await kit.orders.decide_report(op, r.id, accept=False)
    with pytest.raises(ReportNotAllowed, match="no longer"):
        await kit.orders.report_contact(Actor.of(ex), ids[-1], "wrong")
    clock.advance(hours=25)
    with pytest.raises(ReportNotAllowed, match="24 hours"):
        await kit.orders.report_contact(Actor.of(ex), ids[-1], "wrong")
    await assert_conserved(kit)


async def test_reviews_and_rating(kit: WagerKit, clock: FixedClock) -> None:
    client, a, b, other = await _users(kit, 4)
    oid = await _order(kit, client)
    await kit.orders.take(Actor.of(a), oid)
    await kit.orders.take(Actor.of(b), oid)
    with pytest.raises(OrderClosed):  # still active
        await kit.orders.review(Actor.of(client), oid, a.id, 5)
    await kit.orders.respond(Actor.of(client), oid)
    await kit.orders.complete(Actor.of(client), oid)
    with pytest.raises(PermissionDenied):
        await kit.orders.review(Actor.of(other), oid, a.id, 5)
    with pytest.raises(InvalidInput):
        await kit.orders.review(Actor.of(client), oid, other.id, 5)
    with pytest.raises(InvalidInput):
        await kit.orders.review(Actor.of(client), oid, a.id, 6)
    await kit.orders.review(Actor.of(client), oid, a.id, 5, "fast")
    await kit.orders.review(Actor.of(client), oid, b.id, 2)
    with pytest.raises(AlreadyReviewed):
        await kit.orders.review(Actor.of(client), oid, a.id, 1)
    pa = await kit.orders.profile(Actor.of(a))
    assert (pa.user.rating_sum, pa.user.rating_count, pa.rating) == (5, 1, 5.0)
    listed = await kit.orders.reviews()
    assert [r.stars for r in listed] == [2, 5]
    assert listed[1].city == "Moscow"
    assert [r.executor_id for r in await kit.orders.reviews(executor_id=a.id)] == [a.id]
    assert [r.stars for r in await kit.orders.reviews(min_stars=3)] == [5]
    # complaints: once per order taken, a fixed reason
    with pytest.raises(InvalidInput):
        await kit.orders.complain(Actor.of(a), oid, "because")
    with pytest.raises(PermissionDenied):
        await kit.orders.complain(Actor.of(other), oid, "rude")
    await kit.orders.complain(Actor.of(a), oid, "rude", "shouted")
    with pytest.raises(AlreadyReviewed):
        await kit.orders.complain(Actor.of(a), oid, "fraud")
    await assert_conserved(kit)


async def test_preferences_and_profile(kit: WagerKit) -> None:
    client, ex, off = await _users(kit, 3)
    prefs = await kit.orders.set_preferences(
        Actor.of(ex), categories=["plumbing"], cities=["Moscow"], mode="instant"
    )
    assert prefs.categories == ("plumbing",)
    assert prefs.cities == ("Moscow",)
    await kit.orders.set_preferences(Actor.of(off), mode=NotifyMode.OFF)
    with pytest.raises(InvalidInput):
        await kit.orders.set_preferences(Actor.of(ex), categories=["nope"])
    with pytest.raises(InvalidInput):
        await kit.orders.set_preferences(Actor.of(ex), mode="loud")
    with pytest.raises(InvalidInput):
        await kit.orders.set_preferences(Actor.of(ex), mode="digest", digest_minutes=1)
    got = await kit.orders.set_preferences(Actor.of(ex), mode="digest", digest_minutes=30)
    assert got.mode is NotifyMode.DIGEST
    assert got.categories == ("plumbing",)
    async with kit.deps.uow() as uow:
        subs = await uow.orders.subscribers("plumbing", "moscow")
        assert [p.user_id for p in subs] == [ex.id]
        assert await uow.orders.subscribers("cleaning", "Moscow") == []
    oid = await _order(kit, client)
    await kit.orders.take(Actor.of(ex), oid)
    me = await kit.orders.update_profile(Actor.of(ex), display_name="Ivan", phone="+7 1")
    assert me.user.display_name == "Ivan"
    assert me.phone == "+7 1"
    assert (me.balance, me.orders_taken, me.rating) == (GRANT - FEE, 1, None)
    mine = await kit.orders.profile(Actor.of(client))
    assert mine.orders_created == 1


async def test_operators_manage_categories(kit: WagerKit, clock: FixedClock) -> None:
    client, ex = await _users(kit, 2)
    with pytest.raises(PermissionDenied):
        await kit.orders.put_category(Actor.of(client), OrderCategory("towing", "Towing"))
    cat = OrderCategory("towing", "Towing", fee=5, max_executors=1, lifetime_minutes=30)
    await kit.orders.put_category(Actor.system("op"), cat)
    slugs = [c.slug for c in await kit.orders.categories()]
    assert "towing" in slugs
    assert "plumbing" in slugs
    with pytest.raises(InvalidInput):
        await kit.orders.put_category(Actor.system("op"), OrderCategory("x", "X"))
    view = await kit.orders.create(Actor.of(client), "towing", "Omsk", "Car", "c")
    assert view.order.fee == 5
    assert view.order.max_executors == 1
    await kit.orders.take(Actor.of(ex), view.order.id)
    assert await _balance(kit, ex) == GRANT - 5
    clock.advance(minutes=15)  # response window first: refunded
    await kit.jobs.tick()
    assert await _balance(kit, ex) == GRANT
    await assert_conserved(kit)


async def test_orders_currency_scales_the_default_fee(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    kit = WagerKit(store, clock=clock, orders_currency="RUB", welcome_grant={"RUB": 1000})
    client, ex = await _users(kit, 2)
    view = await kit.orders.create(Actor.of(client), "plumbing", "Omsk", "Tap", "c")
    assert view.order.currency == "RUB"
    assert view.order.fee == 200  # the seed's 2 RUB, in kopecks
    await kit.orders.take(Actor.of(ex), view.order.id)
    assert (await kit.wallets.balance(Actor.system(), ex.id, "RUB")).balance == 800
    await assert_conserved(kit)


async def test_a_refused_fee_frees_its_slot_for_the_next_executor(kit: WagerKit) -> None:
    client, *funded = await _users(kit, 4)
    (broke,) = await _users(kit, 1, grant=False)
    oid = await _order(kit, client)
    takers = [broke, *funded]  # the broke one first: its slot goes to the last in line
    results = await asyncio.gather(
        *(kit.orders.take(Actor.of(e), oid) for e in takers), return_exceptions=True
    )
    assert isinstance(results[0], InsufficientFunds)
    assert not any(isinstance(r, BaseException) for r in results[1:]), results
    assert (await kit.orders.get(None, oid)).order.takers == 3
    assert await _house(kit) == 3 * FEE
    await assert_conserved(kit)

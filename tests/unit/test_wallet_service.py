"""The wallet use cases through the ``WagerKit`` facade, on every store (memory, SQLite, PG)."""

from __future__ import annotations

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.domain.errors import (
    AccountFrozen,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidInput,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingExpired,
    PermissionDenied,
    SameAccount,
    TransferNotFound,
    UnknownCurrency,
    UserNotFound,
)
from wagerkit.domain.identity import Role, User
from wagerkit.domain.ledger import AccountKind, LinkedBatch, TransferKind, TransferRequest
from wagerkit.domain.notifications import WalletChanged
from wagerkit.testing import FixedClock, RecordingPublisher


async def _users(kit: WagerKit, system: Actor, *names: str) -> list[User]:
    return [await kit.users.add(system, n) for n in names]


async def _journal(kit: WagerKit) -> list:
    async with kit.deps.uow() as uow:
        return await uow.ledger.journal(limit=10_000)


async def _treasury_balance(kit: WagerKit, currency: str = "COIN") -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.find_account(AccountKind.TREASURY, "system", currency)
    return 0 if acc is None else acc.balance


# -- users and the welcome grant -------------------------------------------------------------


async def test_add_user_pays_the_welcome_grant_once(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    assert alice.id != bob.id
    for u in (alice, bob):
        b = await kit.wallets.balance(system, u.id)
        assert (b.currency, b.balance, b.available, b.held, b.frozen) == (
            "COIN",
            1000,
            1000,
            0,
            False,
        )
    journal = await _journal(kit)
    assert [(t.id, t.code, t.amount, t.kind) for t in journal] == [
        (f"welcome:{alice.id}:COIN", "grant", 1000, TransferKind.SINGLE),
        (f"welcome:{bob.id}:COIN", "grant", 1000, TransferKind.SINGLE),
    ]
    assert await _treasury_balance(kit) == -2000
    created = await kit.audit.list(system, action="user.create")
    assert {e.target for e in created} == {f"user:{alice.id}", f"user:{bob.id}"}
    await assert_conserved(kit)


async def test_add_user_without_grant(kit: WagerKit, system: Actor) -> None:
    carol = await kit.users.add(system, "Carol", welcome_grant=False)
    bals = await kit.wallets.balances(system, carol.id)
    assert [(b.currency, b.balance) for b in bals] == [("COIN", 0)]
    assert await _journal(kit) == []
    await assert_conserved(kit)


async def test_welcome_grant_configurable_per_currency(
    kit: WagerKit, system: Actor, clock: FixedClock
) -> None:
    custom = WagerKit(kit.deps.uow, clock=clock, welcome_grant={"COIN": 50, "RUB": 12_50})
    dave = await custom.users.add(system, "Dave")
    bals = {b.currency: b.balance for b in await custom.wallets.balances(system, dave.id)}
    assert bals == {"COIN": 50, "RUB": 1250}
    assert await _treasury_balance(custom, "RUB") == -1250
    await assert_conserved(custom)


async def test_only_staff_add_users(kit: WagerKit, system: Actor) -> None:
    (alice,) = await _users(kit, system, "Alice")
    with pytest.raises(PermissionDenied):
        await kit.users.add(Actor.of(alice), "Mallory")
    op = await kit.users.add(system, "Op", role=Role.OPERATOR)
    with pytest.raises(PermissionDenied):  # operators may not create other staff
        await kit.users.add(Actor.of(op), "Admin2", role=Role.ADMIN)
    await assert_conserved(kit)


# -- adjust ----------------------------------------------------------------------------------


async def test_adjust_up_and_down_audited(kit: WagerKit, system: Actor) -> None:
    (alice,) = await _users(kit, system, "Alice")
    up = await kit.wallets.adjust(system, alice.id, 500, reason="  compensation  ")
    assert up.code == "adjust"
    assert up.amount == 500
    assert up.memo == "compensation"
    treasury_id = (
        await kit.wallets.get_transfer(system, f"welcome:{alice.id}:COIN")
    ).debit_account_id
    wallet = await kit.wallets.balance(system, alice.id)
    assert (up.debit_account_id, up.credit_account_id) == (treasury_id, wallet.account_id)
    assert wallet.balance == 1500
    down = await kit.wallets.adjust(system, alice.id, -300, reason="clawback")
    assert (down.debit_account_id, down.credit_account_id) == (wallet.account_id, treasury_id)
    assert down.amount == 300
    assert (await kit.wallets.balance(system, alice.id)).balance == 1200
    assert await _treasury_balance(kit) == -1200
    entries = await kit.audit.list(system, action="wallet.adjust")
    assert [(e.reason, e.details["amount"], e.target) for e in entries] == [
        ("clawback", "-300", f"user:{alice.id}"),
        ("compensation", "500", f"user:{alice.id}"),
    ]
    assert entries[0].details["transfer"] == down.id
    assert entries[0].actor_name == "test"
    await assert_conserved(kit)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
async def test_adjust_needs_a_reason(kit: WagerKit, system: Actor, reason: str) -> None:
    (alice,) = await _users(kit, system, "Alice")
    with pytest.raises(InvalidInput):
        await kit.wallets.adjust(system, alice.id, 10, reason=reason)
    assert (await kit.wallets.balance(system, alice.id)).balance == 1000
    assert await kit.audit.list(system, action="wallet.adjust") == []
    await assert_conserved(kit)


@pytest.mark.parametrize("amount", [0, True, 1.5, 2**63])
async def test_adjust_bad_amounts(kit: WagerKit, system: Actor, amount: int) -> None:
    (alice,) = await _users(kit, system, "Alice")
    with pytest.raises(InvalidAmount):
        await kit.wallets.adjust(system, alice.id, amount, reason="r")
    await assert_conserved(kit)


async def test_adjust_replay_returns_same_transfer_and_audits_once(
    kit: WagerKit, system: Actor
) -> None:
    (alice,) = await _users(kit, system, "Alice")
    first = await kit.wallets.adjust(system, alice.id, 250, reason="bonus", idempotency_key="k-1")
    again = await kit.wallets.adjust(system, alice.id, 250, reason="bonus", idempotency_key="k-1")
    assert again == first
    assert (await kit.wallets.balance(system, alice.id)).balance == 1250
    assert len(await kit.audit.list(system, action="wallet.adjust")) == 1
    with pytest.raises(IdempotencyConflict):
        await kit.wallets.adjust(system, alice.id, 251, reason="bonus", idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict):
        await kit.wallets.adjust(system, alice.id, 250, reason="other", idempotency_key="k-1")
    assert (await kit.wallets.balance(system, alice.id)).balance == 1250
    assert len(await kit.audit.list(system, action="wallet.adjust")) == 1
    with pytest.raises(InvalidInput):
        await kit.wallets.adjust(system, alice.id, 1, reason="r", idempotency_key="bad key!")
    await assert_conserved(kit)


async def test_adjust_down_never_below_zero(kit: WagerKit, system: Actor) -> None:
    (alice,) = await _users(kit, system, "Alice")
    with pytest.raises(InsufficientFunds):
        await kit.wallets.adjust(system, alice.id, -1001, reason="too much")
    assert (await kit.wallets.balance(system, alice.id)).balance == 1000
    assert await kit.audit.list(system, action="wallet.adjust") == []
    await kit.wallets.adjust(system, alice.id, -1000, reason="all of it")
    assert (await kit.wallets.balance(system, alice.id)).balance == 0
    with pytest.raises(InsufficientFunds):
        await kit.wallets.adjust(system, alice.id, -1, reason="one more")
    # holds count: money on hold cannot be adjusted away
    await kit.wallets.adjust(system, alice.id, 100, reason="refill")
    await kit.wallets.hold(system, alice.id, 60)
    with pytest.raises(InsufficientFunds):
        await kit.wallets.adjust(system, alice.id, -41, reason="held money")
    await assert_conserved(kit)


async def test_adjust_unknown_user_or_currency(kit: WagerKit, system: Actor) -> None:
    with pytest.raises(UserNotFound):
        await kit.wallets.adjust(system, 999, 10, reason="r")
    (alice,) = await _users(kit, system, "Alice")
    with pytest.raises(UnknownCurrency):
        await kit.wallets.adjust(system, alice.id, 10, "EUR", reason="r")
    rub = await kit.wallets.adjust(system, alice.id, 1050, "rub", reason="r")
    assert rub.currency == "RUB"
    assert (await kit.wallets.balance(system, alice.id, "RUB")).balance == 1050
    await assert_conserved(kit)


# -- grant -----------------------------------------------------------------------------------


async def test_grant(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    t = await kit.wallets.grant(system, alice.id, 70, memo="prize", idempotency_key="g1")
    assert t.code == "grant"
    assert t.amount == 70
    assert (await kit.wallets.grant(system, alice.id, 70, memo="prize", idempotency_key="g1")) == t
    # keys are namespaced per wallet: bob may use the same key
    assert (await kit.wallets.grant(system, bob.id, 5, idempotency_key="g1")).id != t.id
    assert (await kit.wallets.balance(system, alice.id)).balance == 1070
    assert (await kit.wallets.balance(system, bob.id)).balance == 1005
    grants = await kit.audit.list(system, action="wallet.grant")
    assert len(grants) == 2
    for bad in (0, -5):
        with pytest.raises(InvalidAmount):
            await kit.wallets.grant(system, alice.id, bad)
    with pytest.raises(PermissionDenied):
        await kit.wallets.grant(Actor.of(alice), alice.id, 10)
    await assert_conserved(kit)


# -- transfers between users -----------------------------------------------------------------


async def test_transfer_between_users(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    t = await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 300, memo="thanks")
    assert t.amount == 300
    assert t.memo == "thanks"
    assert t.code == "transfer"
    assert t.debit_balance_after == 700
    assert t.credit_balance_after == 1300
    assert (await kit.wallets.balance(Actor.of(alice), alice.id)).balance == 700
    assert (await kit.wallets.balance(Actor.of(bob), bob.id)).balance == 1300
    with pytest.raises(InsufficientFunds):
        await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 701)
    with pytest.raises(SameAccount):
        await kit.wallets.transfer(Actor.of(alice), alice.id, alice.id, 1)
    with pytest.raises(UserNotFound):
        await kit.wallets.transfer(Actor.of(alice), alice.id, 999, 1)
    with pytest.raises(InvalidInput):
        await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 1, memo="x" * 501)
    # staff may move a user's money
    await kit.wallets.transfer(system, bob.id, alice.id, 100)
    assert (await kit.wallets.balance(system, alice.id)).balance == 800
    await assert_conserved(kit)


async def test_transfer_idempotency(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    me = Actor.of(alice)
    first = await kit.wallets.transfer(me, alice.id, bob.id, 100, idempotency_key="pay-1")
    again = await kit.wallets.transfer(me, alice.id, bob.id, 100, idempotency_key="pay-1")
    assert again == first
    assert (await kit.wallets.balance(me, alice.id)).balance == 900
    with pytest.raises(IdempotencyConflict):
        await kit.wallets.transfer(me, alice.id, bob.id, 101, idempotency_key="pay-1")
    with pytest.raises(IdempotencyConflict):
        await kit.wallets.transfer(me, alice.id, bob.id, 100, memo="x", idempotency_key="pay-1")
    # bob using the same key is a different command in his own namespace
    await kit.wallets.transfer(Actor.of(bob), bob.id, alice.id, 1, idempotency_key="pay-1")
    assert (await kit.wallets.balance(me, alice.id)).balance == 901
    await assert_conserved(kit)


async def test_player_cannot_act_for_others(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    hold = await kit.wallets.hold(system, bob.id, 10)
    mallory = Actor.of(alice)
    calls = [
        kit.wallets.transfer(mallory, bob.id, alice.id, 10),
        kit.wallets.balance(mallory, bob.id),
        kit.wallets.balances(mallory, bob.id),
        kit.wallets.statement(mallory, bob.id),
        kit.wallets.adjust(mallory, alice.id, 10, reason="me"),
        kit.wallets.grant(mallory, alice.id, 10),
        kit.wallets.hold(mallory, alice.id, 10),
        kit.wallets.post(mallory, hold.id),
        kit.wallets.void(mallory, hold.id),
        kit.wallets.expire_pending(mallory),
        kit.wallets.set_frozen(mallory, bob.id, None, True, reason="x"),
        kit.wallets.totals(mallory),
        kit.wallets.get_transfer(mallory, hold.id),
        kit.wallets.account(mallory, 1),
        kit.wallets.apply(mallory, [TransferRequest("x", 1, 2, 1)]),
        kit.audit.list(mallory),
        kit.users.list(mallory),
        kit.users.get(mallory, bob.id),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            await call
    # an operator is staff but raw ledger access is for admins only
    op = await kit.users.add(system, "Op", role=Role.OPERATOR)
    with pytest.raises(PermissionDenied):
        await kit.wallets.apply(Actor.of(op), [TransferRequest("x", 1, 2, 1)])
    assert (await kit.wallets.balance(system, bob.id)).balance == 1000
    assert (await kit.wallets.balance(system, bob.id)).held == 10
    await assert_conserved(kit)


# -- holds -----------------------------------------------------------------------------------


async def test_hold_post_partial(kit: WagerKit, system: Actor) -> None:
    (alice,) = await _users(kit, system, "Alice")
    h = await kit.wallets.hold(system, alice.id, 300, memo="bet")
    assert h.kind is TransferKind.PENDING
    assert h.code == "hold"
    b = await kit.wallets.balance(system, alice.id)
    assert (b.balance, b.available, b.held) == (1000, 700, 300)
    p = await kit.wallets.post(system, h.id, 100)
    assert p.kind is TransferKind.POST
    assert p.amount == 100
    assert p.pending_id == h.id
    b = await kit.wallets.balance(system, alice.id)
    assert (b.balance, b.available, b.held) == (900, 900, 0)
    escrow = await kit.wallets.account(system, h.credit_account_id)
    assert escrow.kind is AccountKind.ESCROW
    assert escrow.balance == 100
    assert escrow.credits_pending == 0
    # the same call again (no key) is a replay; a void now is refused
    assert await kit.wallets.post(system, h.id, 100) == p
    with pytest.raises(PendingAlreadyPosted):
        await kit.wallets.void(system, h.id)
    with pytest.raises(PendingAlreadyPosted):
        await kit.wallets.post(system, h.id, 50, idempotency_key="second")
    await assert_conserved(kit)


async def test_hold_post_full_and_void(kit: WagerKit, system: Actor) -> None:
    (alice,) = await _users(kit, system, "Alice")
    h1 = await kit.wallets.hold(system, alice.id, 200)
    h2 = await kit.wallets.hold(system, alice.id, 300)
    assert (await kit.wallets.balance(system, alice.id)).available == 500
    with pytest.raises(InsufficientFunds):
        await kit.wallets.hold(system, alice.id, 501)
    assert (await kit.wallets.post(system, h1.id)).amount == 200
    v = await kit.wallets.void(system, h2.id)
    assert v.kind is TransferKind.VOID
    assert v.amount == 300
    assert await kit.wallets.void(system, h2.id) == v
    with pytest.raises(PendingAlreadyVoided):
        await kit.wallets.post(system, h2.id)
    b = await kit.wallets.balance(system, alice.id)
    assert (b.balance, b.available, b.held) == (800, 800, 0)
    with pytest.raises(InvalidAmount):
        await kit.wallets.post(system, h2.id, -1)
    with pytest.raises(InvalidInput):
        await kit.wallets.hold(system, alice.id, 1, timeout_seconds=-1)
    await assert_conserved(kit)


async def test_hold_idempotency(kit: WagerKit, system: Actor) -> None:
    (alice,) = await _users(kit, system, "Alice")
    h = await kit.wallets.hold(system, alice.id, 100, idempotency_key="bet-7")
    assert await kit.wallets.hold(system, alice.id, 100, idempotency_key="bet-7") == h
    with pytest.raises(IdempotencyConflict):
        await kit.wallets.hold(system, alice.id, 100, timeout_seconds=5, idempotency_key="bet-7")
    assert (await kit.wallets.balance(system, alice.id)).held == 100
    await assert_conserved(kit)


async def test_expire_pending(kit: WagerKit, system: Actor, clock: FixedClock) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    timed = await kit.wallets.hold(system, alice.id, 100, timeout_seconds=60)
    forever = await kit.wallets.hold(system, alice.id, 50)
    later = await kit.wallets.hold(system, bob.id, 70, timeout_seconds=120)
    assert timed.timestamp == clock.now()
    assert timed.expires_at is not None
    assert (timed.expires_at - timed.timestamp).total_seconds() == 60
    clock.advance(59)
    assert await kit.wallets.expire_pending(system) == 0
    assert (await kit.wallets.balance(system, alice.id)).held == 150
    clock.advance(1)
    # the deadline is enforced on arrival, whether or not the job ran
    with pytest.raises(PendingExpired):
        await kit.wallets.post(system, timed.id)
    assert await kit.wallets.expire_pending(system) == 1
    assert await kit.wallets.expire_pending(system) == 0
    a = await kit.wallets.balance(system, alice.id)
    assert (a.balance, a.available, a.held) == (1000, 950, 50)
    with pytest.raises(PendingAlreadyVoided):
        await kit.wallets.post(system, timed.id)
    clock.advance(hours=10)
    assert await kit.wallets.expire_pending(system) == 1
    assert (await kit.wallets.balance(system, bob.id)).held == 0
    # a hold without timeout is still there and can be posted
    assert (await kit.wallets.post(system, forever.id)).amount == 50
    assert later.id != forever.id
    await assert_conserved(kit)


async def test_expire_pending_respects_limit(
    kit: WagerKit, system: Actor, clock: FixedClock
) -> None:
    (alice,) = await _users(kit, system, "Alice")
    for _ in range(3):
        await kit.wallets.hold(system, alice.id, 10, timeout_seconds=1)
    clock.advance(2)
    assert await kit.wallets.expire_pending(system, limit=2) == 2
    assert await kit.wallets.expire_pending(system, limit=2) == 1
    assert (await kit.wallets.balance(system, alice.id)).held == 0
    await assert_conserved(kit)


# -- freeze ----------------------------------------------------------------------------------


async def test_freeze_and_unfreeze(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    h = await kit.wallets.hold(system, alice.id, 100)
    h2 = await kit.wallets.hold(system, alice.id, 100)
    with pytest.raises(InvalidInput):
        await kit.wallets.set_frozen(system, alice.id, None, True, reason=" ")
    wb = await kit.wallets.set_frozen(system, alice.id, None, True, reason="fraud check")
    assert wb.frozen
    assert wb.balance == 1000
    assert (await kit.wallets.balance(system, alice.id)).frozen
    with pytest.raises(AccountFrozen):
        await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 10)
    with pytest.raises(AccountFrozen):
        await kit.wallets.transfer(Actor.of(bob), bob.id, alice.id, 10)
    with pytest.raises(AccountFrozen):
        await kit.wallets.grant(system, alice.id, 10)
    with pytest.raises(AccountFrozen):
        await kit.wallets.hold(system, alice.id, 10)
    with pytest.raises(AccountFrozen):
        await kit.wallets.post(system, h.id)
    # a void still releases the hold
    await kit.wallets.void(system, h2.id)
    assert (await kit.wallets.balance(system, alice.id)).held == 100
    assert (await kit.wallets.balance(system, bob.id)).balance == 1000
    wb = await kit.wallets.set_frozen(system, alice.id, None, False, reason="cleared")
    assert not wb.frozen
    await kit.wallets.transfer(Actor.of(alice), alice.id, bob.id, 10)
    await kit.wallets.post(system, h.id)
    assert (await kit.wallets.balance(system, alice.id)).balance == 890
    actions = [e.action for e in await kit.audit.list(system, target=f"user:{alice.id}")]
    assert actions[:2] == ["wallet.unfreeze", "wallet.freeze"]
    await assert_conserved(kit)


# -- statements and balances -----------------------------------------------------------------


async def test_statement_pagination_and_running_balances(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    w = kit.wallets
    await w.transfer(system, alice.id, bob.id, 100)
    await w.transfer(system, bob.id, alice.id, 30)
    h = await w.hold(system, alice.id, 200)
    await w.adjust(system, alice.id, 55, reason="r")
    await w.post(system, h.id, 120)
    h2 = await w.hold(system, alice.id, 40)
    await w.grant(system, bob.id, 1)  # not alice's
    await w.void(system, h2.id)
    await w.transfer(system, alice.id, bob.id, 5)
    await w.adjust(system, alice.id, -10, reason="r")

    entries = []
    before = None
    pages = 0
    while True:
        page = await w.statement(Actor.of(alice), alice.id, limit=3, before=before)
        pages += 1
        assert len(page.entries) <= 3
        entries.extend(page.entries)
        if page.next_before is None:
            break
        assert page.next_before == page.entries[-1].seq
        before = page.next_before
    assert pages == 4  # 10 entries, 3 a page
    seqs = [e.seq for e in entries]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == len(seqs)
    wallet_id = (await w.balance(system, alice.id)).account_id
    expected_ids = [
        t.id for t in await _journal(kit) if wallet_id in (t.debit_account_id, t.credit_account_id)
    ]
    assert [e.transfer_id for e in reversed(entries)] == expected_ids
    assert len(entries) == 10

    # recompute the running balances from the signed amounts, oldest first
    posted = held = 0
    pending_amounts: dict[str, int] = {}
    for e in reversed(entries):
        t = await w.get_transfer(system, e.transfer_id)
        if e.kind is TransferKind.SINGLE:
            posted += e.amount
        elif e.kind is TransferKind.PENDING:
            assert e.amount < 0  # a hold on alice's wallet is a debit
            held += -e.amount
            pending_amounts[e.transfer_id] = -e.amount
        elif e.kind is TransferKind.POST:
            assert t.pending_id is not None
            held -= pending_amounts[t.pending_id]
            posted += e.amount
        else:
            assert t.pending_id is not None
            held -= pending_amounts[t.pending_id]
        assert e.balance_after == posted, e
        assert e.available_after == posted - held, e
    b = await w.balance(system, alice.id)
    assert (
        (b.balance, b.available)
        == (posted, posted - held)
        == (1000 - 100 + 30 + 55 - 120 - 5 - 10,) * 2
    )

    one = await w.statement(system, alice.id, limit=500)
    assert one.next_before is None
    assert [e.seq for e in one.entries] == seqs
    with pytest.raises(InvalidInput):
        await w.statement(system, alice.id, limit=0)
    with pytest.raises(InvalidInput):
        await w.statement(system, alice.id, limit=501)
    empty = await w.statement(system, alice.id, "RUB")
    assert empty.entries == []
    assert empty.next_before is None
    await assert_conserved(kit)


async def test_balances(kit: WagerKit, system: Actor) -> None:
    (alice,) = await _users(kit, system, "Alice")
    await kit.wallets.adjust(system, alice.id, 990, "RUB", reason="r")
    await kit.wallets.hold(system, alice.id, 90, "RUB")
    bals = await kit.wallets.balances(Actor.of(alice), alice.id)
    got = {b.currency: (b.balance, b.available, b.held, b.frozen) for b in bals}
    assert got == {"COIN": (1000, 1000, 0, False), "RUB": (990, 900, 90, False)}
    assert all(b.user_id == alice.id for b in bals)
    usdt = await kit.wallets.balance(Actor.of(alice), alice.id, "USDT")
    assert (usdt.balance, usdt.available, usdt.account_id) == (0, 0, 0)
    with pytest.raises(UnknownCurrency):
        await kit.wallets.balance(system, alice.id, "EUR")
    with pytest.raises(UserNotFound):
        await kit.wallets.balances(system, 999)
    with pytest.raises(UserNotFound):
        await kit.wallets.balance(system, 999)
    with pytest.raises(TransferNotFound):
        await kit.wallets.get_transfer(system, "nope")
    totals = {t.currency: t for t in await kit.wallets.totals(system)}
    assert totals["RUB"].debits_pending == totals["RUB"].credits_pending == 90
    assert totals["COIN"].credits_posted == 1000
    await assert_conserved(kit)


async def test_raw_apply_linked_batch(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    a = (await kit.wallets.balance(system, alice.id)).account_id
    b = (await kit.wallets.balance(system, bob.id)).account_id
    ok = await kit.wallets.apply(
        system, [LinkedBatch([TransferRequest("l1", a, b, 600), TransferRequest("l2", a, b, 600)])]
    )
    assert not any(r.ok for r in ok)
    assert isinstance(ok[1].error, InsufficientFunds)
    res = await kit.wallets.apply(
        system, [LinkedBatch([TransferRequest("l1", a, b, 600), TransferRequest("l2", b, a, 100)])]
    )
    assert all(r.ok for r in res)
    assert res[0].transfer is not None
    assert res[1].transfer is not None
    assert res[0].transfer.seq < res[1].transfer.seq
    assert (await kit.wallets.balance(system, alice.id)).balance == 500
    await assert_conserved(kit)


async def test_events_are_published(store: object, clock: FixedClock, system: Actor) -> None:
    pub = RecordingPublisher()
    kit = WagerKit(store, clock=clock, publisher=pub)  # type: ignore[arg-type]
    alice, bob = await _users(kit, system, "Alice", "Bob")
    pub.notes.clear()
    await kit.wallets.transfer(system, alice.id, bob.id, 5, idempotency_key="e1")
    assert pub.notes == [WalletChanged(tuple(sorted([alice.id, bob.id])))]
    await kit.wallets.transfer(system, alice.id, bob.id, 5, idempotency_key="e1")
    assert len(pub.notes) == 1  # a replay changes nothing, so nothing is announced
    await assert_conserved(kit)


async def test_open_wallet_is_idempotent_and_authorised(kit: WagerKit, system: Actor) -> None:
    alice, bob = await _users(kit, system, "Alice", "Bob")
    first = await kit.wallets.open(Actor.of(alice), alice.id, "usdt")
    assert (first.currency, first.balance, first.available) == ("USDT", 0, 0)
    assert await kit.wallets.open(Actor.of(alice), alice.id, "USDT") == first
    assert {w.currency for w in await kit.wallets.balances(Actor.of(alice), alice.id)} == {
        "COIN",
        "USDT",
    }
    with pytest.raises(PermissionDenied):
        await kit.wallets.open(Actor.of(bob), alice.id, "USDT")
    with pytest.raises(UnknownCurrency):
        await kit.wallets.open(system, alice.id, "EUR")
    await assert_conserved(kit)

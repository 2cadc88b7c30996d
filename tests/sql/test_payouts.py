"""The shared payout runner (wagerkit.services.payouts) resumes exactly once, on every store.

A payout is interrupted after each of its chunks in turn (a progress callback raising once the
chunk committed) and inside a chunk (the area's callback raising before the commit), then run
again: nobody is paid twice, every item gets exactly its amount, the escrow ends at zero and
money is conserved (all accounts sum to zero, no user wallet below zero).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from builders import assert_conserved

from wagerkit import AccountFlags, AccountKind, Actor, Role, WagerKit
from wagerkit.domain.events import EventDraft, EventStatus, settle, stakes_of
from wagerkit.domain.ledger import Transfer, TransferRequest
from wagerkit.domain.refs import Area, transfer_id
from wagerkit.ports import UnitOfWork, UnitOfWorkFactory
from wagerkit.services import DEFAULT_LIMITS, IdentityPolicy
from wagerkit.services.payouts import Payout, PayoutItem, PayoutReport, PayoutRunner, Progress
from wagerkit.testing import FixedClock, SequentialIds

GRANT = 1000
STAKES = [17, 23, 5, 41, 13, 29, 60]  # the first five back the winner


class Interrupted(Exception):
    pass


def _after_chunk(k: int) -> Progress:
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == k:
            raise Interrupted

    return progress


@pytest.fixture
def kit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    limits = {**DEFAULT_LIMITS, "bet": (100_000, 60)}
    return WagerKit(
        store,
        clock=clock,
        ids=SequentialIds(),
        identity_policy=IdentityPolicy(limits=limits),
    )


async def _journal(kit: WagerKit) -> list[Transfer]:
    out: list[Transfer] = []
    async with kit.deps.uow() as uow:
        while batch := await uow.ledger.journal(after_seq=out[-1].seq if out else 0, limit=1000):
            out.extend(batch)
    return out


async def _balance(kit: WagerKit, account_id: int) -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.get_account(account_id)
    assert acc is not None
    return acc.balance


@pytest.mark.parametrize("resolution", ["settle", "void"])
async def test_an_event_payout_interrupted_after_each_chunk_pays_everyone_once(
    kit: WagerKit, clock: FixedClock, resolution: str
) -> None:
    system = Actor.system("test")
    op = Actor.of(await kit.users.add(system, "Olga", role=Role.OPERATOR, welcome_grant=False))
    players = [await kit.users.add(system, f"Player {i}") for i in range(len(STAKES))]
    kit.events.chunk_size = 2
    paid_items = 5 if resolution == "settle" else len(STAKES)
    chunks = -(-paid_items // kit.events.chunk_size)
    expected_balance = dict.fromkeys((p.id for p in players), GRANT)
    rakes = 0
    for k in range(1, chunks + 1):
        now = clock.now()
        event = await kit.events.create(
            op,
            EventDraft(
                title=f"Final {k}",
                outcomes=("A", "B"),
                start_time=now + timedelta(hours=1),
                status=EventStatus.OPEN,
                rake_bps=500,
            ),
        )
        win, lose = event.outcomes[0].id, event.outcomes[1].id
        for i, (p, amount) in enumerate(zip(players, STAKES, strict=True)):
            await kit.events.place_bet(Actor.of(p), event.id, win if i < 5 else lose, amount)
        interrupted = (
            kit.events.settle(op, event.id, win, progress=_after_chunk(k))
            if resolution == "settle"
            else kit.events.void(op, event.id, progress=_after_chunk(k))
        )
        with pytest.raises(Interrupted):
            await interrupted
        half = await kit.events.get(event.id)
        assert half.status.resolving
        code = "payout" if resolution == "settle" else "refund"
        so_far = [t for t in await _journal(kit) if t.id.startswith(f"{code}:{event.id}:")]
        assert len(so_far) == min(k * kit.events.chunk_size, paid_items)  # k chunks committed
        report = (
            await kit.events.settle_report(op, event.id, win)
            if resolution == "settle"
            else await kit.events.void_report(op, event.id)
        )
        assert report.event.status.final
        bets = await kit.events.bets(op, event_id=event.id, limit=500)
        plan = (
            settle(stakes_of(bets), win, 500)
            if resolution == "settle"
            else settle(stakes_of(bets), -1, 0)  # nobody on the "winner": a full refund
        )
        journal = [t for t in await _journal(kit) if t.reference.startswith(f"event:{event.id}")]
        paid = Counter(t.id for t in journal if t.code == code)
        assert set(paid.values()) == {1}  # nobody paid twice
        by_bet = {t.reference: t.amount for t in journal if t.code == code}
        for b in bets:
            want = plan.payouts[b.id]
            assert by_bet.get(f"event:{event.id}:bet:{b.id}", 0) == want == (b.payout or 0)
            expected_balance[b.user_id] += want - b.amount
        assert report.paid == sum(plan.payouts.values())
        assert report.rake == plan.rake
        assert (report.refund, report.bets, report.paid_bets) == (
            resolution == "void",
            len(bets),
            paid_items,
        )
        rakes += plan.rake
        assert report.paid + report.rake == sum(STAKES)
        assert await _balance(kit, event.escrow_account_id) == 0
        await assert_conserved(kit)
    for p in players:
        assert (await kit.wallets.balance(system, p.id)).balance == expected_balance[p.id]
    async with kit.deps.uow() as uow:
        house = await uow.ledger.find_account(AccountKind.HOUSE, "system", "COIN")
    assert (house.balance if house is not None else 0) == rakes


class _Tickets:
    """A toy area (a raffle refunding its tickets): no table of its own, so it records its
    results in the ledger only; ``fail_in`` makes the record of that chunk raise inside its
    transaction (a crash before the commit)."""

    def __init__(self) -> None:
        self.fail_in: int | None = None
        self.recorded = 0
        self.closed = 0

    async def lock(self, uow: UnitOfWork) -> bool:
        return True

    async def record(self, uow: UnitOfWork, items: Sequence[PayoutItem], now: datetime) -> None:
        self.recorded += 1
        if self.recorded == self.fail_in:
            raise Interrupted

    async def close(self, uow: UnitOfWork, now: datetime, paying: bool) -> int:
        self.closed += 1
        return self.closed


async def _raffle(kit: WagerKit, raffle: int, n: int) -> tuple[Payout, dict[int, int]]:
    """``n`` users each buy a ticket into a fresh escrow; the refund-everyone payout."""
    system = Actor.system("test")
    users = [await kit.users.add(system, f"Buyer {raffle}-{i}") for i in range(n)]

    async def fund(uow: UnitOfWork) -> Payout:
        escrow = await uow.ledger.open_account(
            AccountKind.ESCROW,
            f"raffle:{raffle}",
            "COIN",
            AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        )
        items = []
        for ticket, u in enumerate(users, start=1):
            wallet = await uow.ledger.find_account(AccountKind.USER, u.owner_ref, "COIN")
            assert wallet is not None
            amount = 10 + ticket
            (r,) = await uow.ledger.apply(
                [
                    TransferRequest(
                        transfer_id(Area.RAFFLES, "ticket", raffle, ticket),
                        wallet.id,
                        escrow.id,
                        amount,
                        "ticket",
                        currency="COIN",
                    )
                ],
                kit.deps.clock.now(),
            )
            r.unwrap()
            items.append(
                PayoutItem(
                    ticket,
                    wallet.id,
                    amount,
                    transfer_id(Area.RAFFLES, "refund", raffle, ticket),
                    f"raffle:{raffle}:ticket:{ticket}",
                )
            )
        return Payout(escrow.id, "COIN", "refund", items)

    payout = await kit.deps.transaction(fund)
    return payout, {i.account_id: i.amount for i in payout.items}


async def test_the_runner_resumes_after_a_crash_inside_or_after_any_chunk(kit: WagerKit) -> None:
    n, size = 7, 3
    chunks = -(-n // size)
    runner = PayoutRunner(kit.deps, chunk_size=size)
    raffle = 0
    for where in ("after", "inside"):
        for k in range(1, chunks + 1):
            raffle += 1
            payout, amounts = await _raffle(kit, raffle, n)
            area = _Tickets()
            area.fail_in = k if where == "inside" else None
            progress = _after_chunk(k) if where == "after" else None
            with pytest.raises(Interrupted):
                await runner.pay(payout, area, progress)
            refunds = [
                t for t in await _journal(kit) if t.id.startswith(f"raffles:refund:{raffle}:")
            ]
            committed = k if where == "after" else k - 1  # a failed chunk rolls back whole
            assert len(refunds) == min(committed * size, n)
            area.fail_in = None
            final, report = await runner.pay(payout, area)
            assert final == 1  # closed once
            assert report == PayoutReport(sum(amounts.values()), n, 0, chunks)
            again = len(await _journal(kit))
            await runner.pay(payout, area)  # a run after the end moves nothing
            assert len(await _journal(kit)) == again
            refunds = [
                t for t in await _journal(kit) if t.id.startswith(f"raffles:refund:{raffle}:")
            ]
            assert Counter(t.credit_account_id for t in refunds) == Counter(amounts.keys())
            assert {t.credit_account_id: t.amount for t in refunds} == amounts
            assert await _balance(kit, payout.escrow_account_id) == 0
            for account_id in amounts:
                assert await _balance(kit, account_id) == GRANT
            await assert_conserved(kit)

"""Predictions: pari-mutuel rounds, run by the job runner with no operator step.

Each pass (``run_rounds``), for every configured symbol, the runner creates the round of the
grid slot holding *now* (``domain.predictions.round_start``; a unique (symbol, starts_at)
makes two runners create it once) with its own escrow account. Rounds it missed while down are
never created: rounds resume from now by themselves. It then claims due rounds (``FOR UPDATE
SKIP LOCKED``) and moves each on:

* open, ``lock_at`` passed → locked at the first tick at or after ``lock_at`` within the
  buffer; with none once the buffer has passed → voided (everyone refunded);
* locked, ``close_at`` passed → close price the same way; the winner and rake are decided by
  ``round_settlement`` (section 3; tie, one side empty or no price → refund) and the round
  goes ``settling`` (or ``voiding``);
* ``settling``/``voiding`` → paid by the shared ``PayoutRunner`` (ids
  ``predictions:rpayout:<bet>``, ``predictions:rrefund:<bet>``, ``predictions:rrake:<round>``),
  resumable, exactly once; then ``settled``/``voided``.

**Bets** (one per user per round) move wallet → the round's escrow until ``lock_at − margin``.
They go through the area's second ``GroupCommit`` (one command per user in a batch): a batch
locks its rounds (``FOR UPDATE``, in id order: concurrent batches, the runner's claim and a
staff void queue on the round row), reads the stakes of its keyed commands and its users'
bets on those rounds (one statement each), decides each command on its own (replay or
``idempotency_conflict``, ``round_closed`` from ``bets_close_at``, ``already_bet``), opens the
missing wallets in one statement, moves every stake as one ledger batch (id
``predictions:rbet:<user>:<key>``, so a replayed key returns the first bet), inserts the bets
in one statement and adds them to each round's pool with one update, and commits once. Each
caller is answered after that commit; then ``WalletChanged`` and ``RoundChanged`` go out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ...domain.errors import (
    AlreadyBet,
    AlreadyExists,
    IdempotencyConflict,
    PermissionDenied,
    RoundClosed,
    RoundNotFound,
    StoreError,
    TransientStoreError,
    WagerkitError,
)
from ...domain.identity import Actor
from ...domain.ledger import AccountKind, TransferRequest
from ...domain.notifications import WalletChanged
from ...domain.predictions import (
    ROUND_BET_CODE,
    ROUND_PAYOUT_CODE,
    ROUND_RAKE_CODE,
    ROUND_REFUND_CODE,
    Direction,
    Round,
    RoundBet,
    RoundChanged,
    RoundStatus,
    parse_direction,
    round_settlement,
    round_start,
)
from ...domain.prices import parse_symbol, settle_tick
from ...domain.refs import check_key
from ...domain.text import clean_reason
from ...ports import UnitOfWork
from ..accounts import batch_wallets, system_account
from ..base import check_page_limit
from ..groupcommit import GroupCommit
from ..payouts import Payout, PayoutItem, PayoutRunner
from .common import PredictionsBase, round_ref, tid

__all__ = ["RoundBetReceipt", "RoundOps", "RoundsReport"]


@dataclass(frozen=True, slots=True)
class RoundBetReceipt:
    bet: RoundBet
    round: Round
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class _RoundCommand:
    user_id: int
    round_id: int
    direction: Direction
    amount: int
    transfer_id: str
    keyed: bool


@dataclass(slots=True)
class RoundsReport:
    created: list[int] = field(default_factory=list)
    locked: list[int] = field(default_factory=list)
    settled: list[int] = field(default_factory=list)
    voided: list[int] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not (self.created or self.locked or self.settled or self.voided)


class _RoundPayout:
    """The rounds side of the payout runner: the round row is the lock."""

    def __init__(self, round_id: int, final: RoundStatus, payouts: dict[int, int]) -> None:
        self._id, self._final, self._payouts = round_id, final, payouts

    async def lock(self, uow: UnitOfWork) -> bool:
        r = await uow.predictions.get_round(self._id, for_update=True)
        return r is not None and r.status in (RoundStatus.SETTLING, RoundStatus.VOIDING)

    async def record(self, uow: UnitOfWork, items: Sequence[PayoutItem], now: datetime) -> None:
        await uow.predictions.record_round_payouts([(i.item_id, i.amount) for i in items])

    async def close(self, uow: UnitOfWork, now: datetime, paying: bool) -> Round:
        r = await uow.predictions.get_round(self._id, for_update=True)
        assert r is not None
        if not paying:
            return r
        losers = [(b, a) for b, a in self._payouts.items() if a == 0]
        await uow.predictions.record_round_payouts(losers)
        done = replace(r, status=self._final, updated_at=now)
        await uow.predictions.update_round(done)
        return done


def _pooled(r: Round, bets: Sequence[RoundBet]) -> Round:
    """``r`` with ``bets`` added to its pools (what the store's pool update writes)."""
    up = [b.amount for b in bets if b.direction is Direction.UP]
    down = [b.amount for b in bets if b.direction is Direction.DOWN]
    return replace(
        r,
        up_total=r.up_total + sum(up),
        up_count=r.up_count + len(up),
        down_total=r.down_total + sum(down),
        down_count=r.down_count + len(down),
    )


class RoundOps(PredictionsBase):
    _round_bets: GroupCommit[_RoundCommand, RoundBetReceipt]

    def _make_round_group(self) -> None:
        self._round_bets = GroupCommit(
            self._run_round_batch, conflict_key=lambda c: c.user_id, after=self._after_round_batch
        )

    # -- players ---------------------------------------------------------------------------
    async def bet_round(
        self,
        actor: Actor,
        round_id: int,
        direction: str | Direction,
        amount: int,
        *,
        idempotency_key: str | None = None,
    ) -> RoundBetReceipt:
        """Stake ``amount`` on ``up`` or ``down`` in an open round (one bet per user).
        Answered after the commit that holds it (the shared group commit)."""
        if actor.user_id is None:
            raise PermissionDenied("only a user can bet")
        uid = actor.user_id
        d = parse_direction(direction)
        self.policy.check_stake(amount)
        key = check_key(idempotency_key) if idempotency_key is not None else None
        if isinstance(round_id, bool) or not isinstance(round_id, int):
            raise RoundNotFound(f"no round {str(round_id)[:40]!r}")
        transfer = tid("rbet", uid, key or self._d.ids.new_id("r"))
        return await self._round_bets.submit(
            _RoundCommand(uid, round_id, d, amount, transfer, key is not None)
        )

    async def _run_round_batch(
        self, batch: Sequence[_RoundCommand]
    ) -> list[RoundBetReceipt | Exception]:
        """Decide and commit one batch (see the module docstring). The batch locks its rounds
        first, so a second batch holding a replay of one of its keys (another process) reads
        the first one's bet once it committed; a stake the ledger finds already recorded all
        the same makes the batch start over."""
        answers: dict[int, tuple[RoundBet, bool] | WagerkitError] = {}
        final: dict[int, Round] = {}

        async def work(uow: UnitOfWork) -> None:
            answers.clear()
            final.clear()
            now = self._d.clock.now()
            rounds = await uow.predictions.get_rounds(
                sorted({c.round_id for c in batch}), for_update=True
            )
            final.update(rounds)
            keyed = [c.transfer_id for c in batch if c.keyed and c.round_id in rounds]
            prior = await uow.ledger.get_transfers(keyed) if keyed else {}
            mine = await uow.predictions.round_bets_of(
                [(c.round_id, c.user_id) for c in batch if c.round_id in rounds]
            )
            todo: list[int] = []
            for i, c in enumerate(batch):
                r = rounds.get(c.round_id)
                if r is None:
                    answers[i] = RoundNotFound(f"no round {c.round_id}")
                    continue
                existing = mine.get((r.id, c.user_id))
                if (t := prior.get(c.transfer_id)) is not None:  # a replay, or a conflict
                    if (
                        existing is not None
                        and existing.direction is c.direction
                        and t.amount == c.amount
                    ):
                        answers[i] = (existing, True)
                    else:
                        answers[i] = IdempotencyConflict(
                            "this idempotency key was used for another bet"
                        )
                    continue
                if not r.accepting_bets(now):
                    answers[i] = RoundClosed(f"betting on round {r.id} is closed")
                elif existing is not None:
                    answers[i] = AlreadyBet(f"you already bet on round {r.id}")
                else:
                    todo.append(i)
            if not todo:
                return
            wallets = await batch_wallets(
                uow, {i: (batch[i].user_id, rounds[batch[i].round_id].currency) for i in todo}, {}
            )
            results = await uow.ledger.apply(
                [
                    TransferRequest(
                        batch[i].transfer_id,
                        wallets[i],
                        rounds[batch[i].round_id].escrow_account_id,
                        batch[i].amount,
                        ROUND_BET_CODE,
                        reference=f"{round_ref(batch[i].round_id)}:{batch[i].direction.value}",
                        currency=rounds[batch[i].round_id].currency,
                    )
                    for i in todo
                ],
                now,
            )
            if any(r.ok and r.replayed for r in results):
                raise TransientStoreError()  # a stake committed meanwhile: read again
            placed: list[tuple[int, RoundBet]] = []
            for i, res in zip(todo, results, strict=True):
                c = batch[i]
                if not res.ok:
                    assert res.error is not None
                    answers[i] = res.error
                    continue
                placed.append(
                    (
                        i,
                        RoundBet(
                            0,
                            c.round_id,
                            c.user_id,
                            c.direction,
                            c.amount,
                            wallets[i],
                            now,
                            c.transfer_id,
                        ),
                    )
                )
            if not placed:
                return
            try:
                added = await uow.predictions.add_round_bets([b for _, b in placed])
            except AlreadyExists:  # a bet committed meanwhile: decide the batch again
                raise TransientStoreError() from None
            for (i, _), bet in zip(placed, added, strict=True):
                answers[i] = (bet, False)
            for rid, r in rounds.items():  # the pools after this batch (the rounds are locked)
                final[rid] = _pooled(r, [b for b in added if b.round_id == rid])

        await self._d.transaction(work)
        out: list[RoundBetReceipt | Exception] = []
        for i in range(len(batch)):
            a = answers.get(i)
            if a is None:
                out.append(StoreError("the bet was not decided"))
            elif isinstance(a, tuple):
                bet, replayed = a
                out.append(RoundBetReceipt(bet, final[bet.round_id], replayed=replayed))
            else:
                out.append(a)
        return out

    async def _after_round_batch(
        self, batch: Sequence[_RoundCommand], answers: Sequence[RoundBetReceipt | Exception]
    ) -> None:
        """Once the callers have their answers: the wallets and rounds that moved."""
        placed = [a for a in answers if isinstance(a, RoundBetReceipt) and not a.replayed]
        if not placed:
            return
        await self._d.publisher.publish(
            WalletChanged(tuple(sorted({a.bet.user_id for a in placed})))
        )
        rounds = {a.round.id: a.round for a in placed}
        for rid in sorted(rounds):
            r = rounds[rid]
            await self._d.publisher.publish(RoundChanged(r.id, r.symbol, r.status))

    # -- reading ---------------------------------------------------------------------------
    async def get_round(self, round_id: int) -> Round:
        async def work(uow: UnitOfWork) -> Round:
            return await self._round(uow, round_id)

        return await self._d.transaction(work)

    async def list_rounds(
        self, *, symbol: str | None = None, limit: int = 20, before_id: int | None = None
    ) -> list[Round]:
        sym = None if symbol is None else parse_symbol(symbol)
        check_page_limit(limit, most=200)

        async def work(uow: UnitOfWork) -> list[Round]:
            return await uow.predictions.list_rounds(symbol=sym, limit=limit, before_id=before_id)

        return await self._d.transaction(work)

    async def current_rounds(self, symbol: str | None = None) -> list[Round]:
        """The rounds taking bets now (one per configured symbol while the runner runs)."""
        now = self._d.clock.now()
        rounds = await self.list_rounds(symbol=symbol, limit=50)
        return [r for r in rounds if r.accepting_bets(now)]

    async def round_bets(self, actor: Actor, round_id: int) -> list[RoundBet]:
        """A round's bets: staff see all, a player its own."""

        async def work(uow: UnitOfWork) -> list[RoundBet]:
            await self._round(uow, round_id)
            uid = None if actor.is_staff else actor.user_id
            if uid is None and not actor.is_staff:
                return []
            return await uow.predictions.round_bets(round_id, user_id=uid)

        return await self._d.transaction(work)

    # -- staff -----------------------------------------------------------------------------
    async def void_round(self, actor: Actor, round_id: int, reason: str) -> Round:
        """Void an open or locked round: every stake refunded, audited."""
        actor.require_staff()
        why = clean_reason(reason)

        async def work(uow: UnitOfWork) -> Round:
            r = await self._round(uow, round_id, for_update=True)
            if r.status not in (RoundStatus.OPEN, RoundStatus.LOCKED):
                raise RoundClosed(f"round {r.id} is {r.status.value}")
            now = self._d.clock.now()
            new = replace(r, status=RoundStatus.VOIDING, void_reason=why, updated_at=now)
            await uow.predictions.update_round(new)
            await uow.audit.add(self._audit(actor, "round.void", round_ref(r.id), why))
            return new

        await self._d.transaction(work)
        return await self._pay_round(round_id)

    # -- the job runner --------------------------------------------------------------------
    async def run_rounds(self, *, limit: int = 100) -> RoundsReport:
        """Create the current rounds, then move due rounds on (see the module docstring)."""
        report = RoundsReport()
        p = self.policy
        if p.round_symbols:
            report.created = await self._create_current()
        stale_after = timedelta(seconds=self.stale_after_seconds)

        async def claim(uow: UnitOfWork) -> tuple[list[Round], list[int]]:
            now = self._d.clock.now()
            moved, locked = [], []
            for r in await uow.predictions.claim_due_rounds(now, now - stale_after, limit):
                new = await self._advance(uow, r, now)
                if new is not r:
                    await uow.predictions.update_round(new)
                    moved.append(new)
                    if new.status is RoundStatus.LOCKED:
                        locked.append(new.id)
            return moved, locked

        moved, report.locked = await self._d.transaction(claim)
        for r in moved:
            await self._d.publisher.publish(RoundChanged(r.id, r.symbol, r.status))
            if r.status in (RoundStatus.SETTLING, RoundStatus.VOIDING):
                final = await self._pay_round(r.id)
                (report.settled if final.status is RoundStatus.SETTLED else report.voided).append(
                    final.id
                )
        return report

    async def _create_current(self) -> list[int]:
        p = self.policy
        interval = timedelta(seconds=p.round_interval)

        async def work(uow: UnitOfWork) -> list[Round]:
            now = self._d.clock.now()
            start = round_start(now, p.round_interval)
            made = []
            for symbol in p.round_symbols:
                owner = f"round:{symbol}:{int(start.timestamp())}"
                escrow = await system_account(uow, AccountKind.ESCROW, p.currency, owner)
                r = await uow.predictions.add_round(
                    Round(
                        id=0,
                        symbol=symbol,
                        currency=p.currency,
                        starts_at=start,
                        lock_at=start + interval,
                        close_at=start + 2 * interval,
                        bets_close_at=start + interval - p.round_margin,
                        rake_bps=p.round_rake_bps,
                        escrow_account_id=escrow.id,
                        updated_at=now,
                    )
                )
                if r is not None:
                    made.append(r)
            return made

        made = await self._d.transaction(work)
        for r in made:
            await self._d.publisher.publish(RoundChanged(r.id, r.symbol, r.status))
        return [r.id for r in made]

    async def _advance(self, uow: UnitOfWork, r: Round, now: datetime) -> Round:
        """The round's next state at ``now`` (``r`` itself when nothing is decided yet)."""
        buffer = self.policy.buffer
        if r.status.final:
            return r
        if r.status in (RoundStatus.SETTLING, RoundStatus.VOIDING):
            return replace(r, updated_at=now)  # claimed: pay it (resume)
        if r.status is RoundStatus.OPEN:
            first = await uow.prices.first_at_or_after(r.symbol, r.lock_at)
            tick = settle_tick(first, r.lock_at, buffer)
            if tick is None:
                if now <= r.lock_at + buffer:
                    return r
                return replace(
                    r,
                    status=RoundStatus.VOIDING,
                    void_reason="no lock price within the buffer",
                    updated_at=now,
                )
            r = replace(
                r,
                status=RoundStatus.LOCKED,
                lock_price=tick.price,
                lock_tick_at=tick.observed_at,
                updated_at=now,
            )
        if r.close_at > now:
            return r
        first = await uow.prices.first_at_or_after(r.symbol, r.close_at)
        tick = settle_tick(first, r.close_at, buffer)
        if tick is None:
            if now <= r.close_at + buffer:
                return r
            return replace(
                r,
                status=RoundStatus.VOIDING,
                void_reason="no close price within the buffer",
                updated_at=now,
            )
        bets = await uow.predictions.round_bets(r.id)
        winner, s, reason = round_settlement(bets, r.lock_price, tick.price, r.rake_bps)
        return replace(
            r,
            status=RoundStatus.SETTLING if winner is not None else RoundStatus.VOIDING,
            close_price=tick.price,
            close_tick_at=tick.observed_at,
            winner=winner,
            rake=s.rake,
            void_reason=reason,
            updated_at=now,
        )

    async def _pay_round(self, round_id: int) -> Round:
        """Pay a settling round (or refund a voiding one) through the payout runner."""

        async def read(uow: UnitOfWork) -> tuple[Round, list[RoundBet]]:
            r = await self._round(uow, round_id)
            return r, await uow.predictions.round_bets(round_id)

        r, bets = await self._d.transaction(read)
        if r.status.final:
            return r
        voiding = r.status is RoundStatus.VOIDING
        if voiding:
            payouts = {b.id: b.amount for b in bets}
            rake = 0
        else:
            _, s, _ = round_settlement(bets, r.lock_price, r.close_price, r.rake_bps)
            payouts, rake = s.payouts, s.rake
        kind = "rrefund" if voiding else "rpayout"
        items = [
            PayoutItem(b.id, b.wallet_account_id, payouts[b.id], tid(kind, b.id), round_ref(r.id))
            for b in bets
            if payouts[b.id] > 0
        ]
        payout = Payout(
            r.escrow_account_id,
            r.currency,
            ROUND_REFUND_CODE if voiding else ROUND_PAYOUT_CODE,
            items,
            rake=rake,
            rake_id=tid("rrake", r.id),
            rake_reference=round_ref(r.id),
            rake_code=ROUND_RAKE_CODE,
        )
        final_status = RoundStatus.VOIDED if voiding else RoundStatus.SETTLED
        runner = PayoutRunner(self._d, chunk_size=self.chunk_size)
        final, _ = await runner.pay(payout, _RoundPayout(r.id, final_status, payouts))
        users = tuple(sorted({b.user_id for b in bets if payouts[b.id] > 0}))
        if users:
            await self._d.publisher.publish(WalletChanged(users))
        await self._d.publisher.publish(RoundChanged(final.id, final.symbol, final.status))
        return final

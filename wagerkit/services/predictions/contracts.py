"""Predictions: house-banked contracts (fixed odds and multipliers).

**Placement** goes through the area's ``GroupCommit``: a batch reads in ONE read
(``read_placement_batch``) the house's exposure rows of its currency, locked (the total, then
each symbol: a second batch, in this process or another, waits for the commit), its keyed
replays, the latest tick of each symbol (the entry price: ``prices.entry_tick``, else
``price_unavailable``), the wallet and house account ids (missing ones opened in one more
statement), its access-token users (``place_with_token``: admitted here) and ids for its new
contracts. It decides each command against the running exposure (``exposure_limit``), moves
every stake (and fee) wallet → house as one ledger batch, inserts the contracts and adds their
maximum payouts to the exposure; on PostgreSQL those writes go with the COMMIT. The stake's
transfer id is ``predictions:stake:<user>:<key>``, so a replayed key returns the first
contract.

**Settlement** (``settle_due``, the job runner's): one statement claims up to ``chunk_size``
decided contracts (``FOR UPDATE SKIP LOCKED``) with the first tick at or after each expiry;
results are computed in process, the payouts go house → wallet as one ledger batch
(``predictions:payout:<contract>``, so a contract is never paid twice), the contracts are
written set-based and their exposure released, in one transaction per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...domain.errors import (
    ContractStateConflict,
    ExposureLimit,
    IdempotencyConflict,
    InvalidInput,
    PermissionDenied,
    PriceUnavailable,
    StoreError,
    TransientStoreError,
    WagerkitError,
)
from ...domain.identity import Actor
from ...domain.ledger import AccountFlags, AccountKind, LinkedBatch, TransferRequest
from ...domain.notifications import WalletChanged
from ...domain.predictions import (
    FEE_CODE,
    PAYOUT_CODE,
    REFUND_CODE,
    STAKE_CODE,
    Contract,
    ContractKind,
    ContractsResolved,
    ContractStatus,
    Direction,
    commission_of,
    max_payout,
    parse_direction,
)
from ...domain.prices import entry_tick, parse_duration, parse_symbol
from ...domain.refs import check_key, user_ref
from ...domain.text import clean_reason
from ...ports import UnitOfWork
from ..accounts import SYSTEM_OWNER, system_account
from ..base import check_page_limit
from ..groupcommit import GroupCommit
from .common import (
    ContractReceipt,
    ExposureRow,
    PredictionsBase,
    SettleReport,
    contract_ref,
    tid,
)

__all__ = ["ContractOps", "ContractReceipt", "ExposureRow", "SettleReport"]

TOTAL = "*"
USER = AccountKind.USER.value
HOUSE = (AccountKind.HOUSE.value, SYSTEM_OWNER)  # (kind, owner) of the house account


@dataclass(slots=True)
class _Place:
    user_id: int
    symbol: str
    direction: Direction
    stake: int
    duration: int
    leverage: int | None
    stake_tid: str
    fee_tid: str
    keyed: bool
    version: str | None = None  # set: admit the user from its token, read in the batch


def _same(c: _Place, k: Contract) -> bool:
    return (c.symbol, c.direction, c.stake, c.duration, c.leverage) == (
        k.symbol,
        k.direction,
        k.stake,
        k.duration,
        k.leverage,
    )


class ContractOps(PredictionsBase):
    _placements: GroupCommit[_Place, ContractReceipt]

    def _make_group(self) -> None:
        self._placements = GroupCommit(
            self._run_batch, conflict_key=lambda c: c.user_id, after=self._after_batch
        )

    # -- players ---------------------------------------------------------------------------
    async def place(
        self,
        actor: Actor,
        symbol: str,
        direction: str | Direction,
        stake: int,
        *,
        duration: int | str,
        leverage: int | None = None,
        idempotency_key: str | None = None,
    ) -> ContractReceipt:
        """Open a contract (fixed odds, or a multiplier when ``leverage`` is given) at the
        latest fresh tick. Answered after the commit that holds it."""
        if actor.user_id is None:
            raise PermissionDenied("only a user can place a contract")
        return await self._submit(
            actor.user_id, None, symbol, direction, stake, duration, leverage, idempotency_key
        )

    async def place_with_token(
        self,
        token: str,
        symbol: str,
        direction: str | Direction,
        stake: int,
        *,
        duration: int | str,
        leverage: int | None = None,
        idempotency_key: str | None = None,
    ) -> ContractReceipt:
        """``place`` for the bearer of an access token, authenticated inside the placement's
        own batch (the user read fresh by its one read: banned, whitelist, password changed),
        as the events' bets are: the HTTP server's ``POST /predictions``."""
        if self._claims is None or self._admit is None:
            raise PermissionDenied("no token service configured")
        user_id, version = self._claims(token)
        return await self._submit(
            user_id, version, symbol, direction, stake, duration, leverage, idempotency_key
        )

    async def _submit(
        self,
        uid: int,
        version: str | None,
        symbol: str,
        direction: str | Direction,
        stake: int,
        duration: int | str,
        leverage: int | None,
        idempotency_key: str | None,
    ) -> ContractReceipt:
        p = self.policy
        sym = parse_symbol(symbol)
        d = parse_direction(direction)
        p.check_stake(stake)
        seconds = p.check_duration(parse_duration(duration))
        if leverage is not None:
            p.check_leverage(leverage)
        if idempotency_key is not None:
            check_key(idempotency_key)
        key = idempotency_key or self._d.ids.new_id("c")
        return await self._placements.submit(
            _Place(
                uid,
                sym,
                d,
                stake,
                seconds,
                leverage,
                tid("stake", uid, key),
                tid("fee", uid, key),
                idempotency_key is not None,
                version,
            )
        )

    async def _run_batch(self, batch: Sequence[_Place]) -> list[ContractReceipt | Exception]:
        answers: dict[int, ContractReceipt | WagerkitError] = {}
        p = self.policy

        async def work(uow: UnitOfWork) -> None:
            answers.clear()
            now = self._d.clock.now()
            symbols = sorted({c.symbol for c in batch})
            # ONE read: the exposure rows locked, the replays, the latest ticks, the wallet
            # and house account ids, ids for the new contracts
            view = await uow.predictions.read_placement_batch(
                p.currency,
                symbols,
                [c.stake_tid for c in batch if c.keyed],
                [*((USER, user_ref(u)) for u in sorted({c.user_id for c in batch})), HOUSE],
                sorted({c.user_id for c in batch if c.version is not None}),
                now,
                len(batch),
            )
            prior = view.contracts
            todo: list[int] = []
            for i, c in enumerate(batch):
                if c.version is not None:  # authenticate now, from the user read just now
                    assert self._admit is not None
                    try:
                        self._admit(view.users.get(c.user_id), c.version)
                    except WagerkitError as exc:
                        answers[i] = exc
                        continue
                k = prior.get(c.stake_tid)
                if k is None:
                    todo.append(i)
                elif k.user_id == c.user_id and _same(c, k):
                    answers[i] = ContractReceipt(k, replayed=True)
                else:
                    answers[i] = IdempotencyConflict(
                        "this idempotency key was used for another contract"
                    )
            if not todo:
                return
            entries = {s: entry_tick(view.ticks.get(s), now, p.max_age) for s in symbols}
            # a wallet for every command with a price; the missing accounts (a player's first
            # contract, the house's first stake) opened in one statement
            priced = sorted({batch[i].user_id for i in todo if entries[batch[i].symbol]})
            if not priced:
                for i in todo:
                    answers[i] = PriceUnavailable(f"no fresh price for {batch[i].symbol}")
                return
            wallet_of, house_id = await self._accounts(uow, priced, view.accounts)
            exposure = view.exposure
            if len(exposure) != len(symbols) + 1:  # a row is missing: create it, lock all
                exposure = await uow.predictions.lock_exposure(p.currency, symbols)
            planned: list[tuple[int, Contract]] = []
            for i in todo:
                c = batch[i]
                tick = entries[c.symbol]
                if tick is None:
                    answers[i] = PriceUnavailable(f"no fresh price for {c.symbol}")
                    continue
                kind = ContractKind.FIXED if c.leverage is None else ContractKind.MULTIPLIER
                bps = p.payout_bps_for(c.symbol)
                mp = max_payout(kind, c.stake, bps, p.cap)
                if p.exposure_limit_symbol and exposure[c.symbol] + mp > p.exposure_limit_symbol:
                    answers[i] = ExposureLimit(
                        f"the house's exposure on {c.symbol} is at its limit"
                    )
                    continue
                if p.exposure_limit_total and exposure[TOTAL] + mp > p.exposure_limit_total:
                    answers[i] = ExposureLimit("the house's total exposure is at its limit")
                    continue
                exposure[c.symbol] += mp
                exposure[TOTAL] += mp
                fee = commission_of(c.stake, c.leverage, p.commission_bps) if c.leverage else 0
                planned.append(
                    (
                        i,
                        Contract(
                            id=0,
                            user_id=c.user_id,
                            currency=p.currency,
                            symbol=c.symbol,
                            direction=c.direction,
                            kind=kind,
                            stake=c.stake,
                            duration=c.duration,
                            placed_at=now,
                            expires_at=now + timedelta(seconds=c.duration),
                            entry_price=tick.price,
                            entry_at=tick.observed_at,
                            max_payout=mp,
                            stake_transfer_id=c.stake_tid,
                            payout_bps=bps if kind is ContractKind.FIXED else 0,
                            leverage=c.leverage,
                            cap=p.cap if c.leverage else 0,
                            tie_rule=p.tie_rule,
                            commission=fee,
                        ),
                    )
                )
            if not planned:
                return
            wallets = [wallet_of[k.user_id] for _, k in planned]
            requests: list[TransferRequest | LinkedBatch] = []
            for (i, k), w in zip(planned, wallets, strict=True):
                stake = TransferRequest(
                    k.stake_transfer_id,
                    w,
                    house_id,
                    k.stake,
                    STAKE_CODE,
                    reference=f"prediction:{k.symbol}:{k.direction.value}",
                    currency=p.currency,
                )
                if k.commission:
                    fee_req = TransferRequest(
                        batch[i].fee_tid,
                        w,
                        house_id,
                        k.commission,
                        FEE_CODE,
                        currency=p.currency,
                    )
                    requests.append(LinkedBatch([stake, fee_req]))
                else:
                    requests.append(stake)
            results = {r.request_id: r for r in await uow.ledger.apply(requests, now)}
            if any(r.ok and r.replayed for r in results.values()):
                raise TransientStoreError()  # a stake committed meanwhile: read again
            ok: list[tuple[int, Contract]] = []
            for i, k in planned:
                r = results[k.stake_transfer_id]
                if not r.ok:
                    assert r.error is not None
                    answers[i] = r.error
                else:
                    ok.append((i, k))
            if not ok:
                return
            ids = view.contract_ids[: len(ok)] if len(view.contract_ids) >= len(ok) else []
            added = await uow.predictions.add_contracts([k for _, k in ok], ids)
            deltas: dict[str, int] = {}
            for k in added:
                deltas[k.symbol] = deltas.get(k.symbol, 0) + k.max_payout
                deltas[TOTAL] = deltas.get(TOTAL, 0) + k.max_payout
            await uow.predictions.add_exposure(p.currency, deltas)
            for (i, _), k in zip(ok, added, strict=True):
                answers[i] = ContractReceipt(k)

        await self._d.transaction(work)
        return [
            answers.get(i) or StoreError("the contract was not decided") for i in range(len(batch))
        ]

    async def _accounts(
        self, uow: UnitOfWork, users: Sequence[int], known: Mapping[tuple[str, str], int]
    ) -> tuple[dict[int, int], int]:
        """The wallet account id of each user and the house's, from ``known`` (the batch's
        read), opening the missing ones in one ``open_accounts`` statement."""
        specs = [
            *(
                (AccountKind.USER, user_ref(u), AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
                for u in users
            ),
            (AccountKind.HOUSE, SYSTEM_OWNER, AccountFlags.NONE),
        ]
        missing = [spec for spec in specs if (spec[0].value, spec[1]) not in known]
        ids = dict(known)
        if missing:
            opened = await uow.ledger.open_accounts(
                [(kind, owner, self.policy.currency, flags) for kind, owner, flags in missing]
            )
            ids.update(((a.kind.value, a.owner), a.id) for a in opened)
        wallets = {u: ids[(USER, user_ref(u))] for u in users}
        return wallets, ids[HOUSE]

    async def _after_batch(
        self, batch: Sequence[_Place], answers: Sequence[ContractReceipt | Exception]
    ) -> None:
        users = sorted(
            {
                a.contract.user_id
                for a in answers
                if isinstance(a, ContractReceipt) and not a.replayed
            }
        )
        if users:
            await self._d.publisher.publish(WalletChanged(tuple(users)))

    async def close(
        self, actor: Actor, contract_id: int, *, idempotency_key: str | None = None
    ) -> Contract:
        """Close an open multiplier contract early at the latest fresh tick (its owner).
        Closing a contract already closed this way returns it (the close is idempotent)."""
        if idempotency_key is not None:
            check_key(idempotency_key)
        p = self.policy

        async def work(uow: UnitOfWork) -> tuple[Contract, bool]:
            now = self._d.clock.now()
            c = await self._contract(uow, contract_id, for_update=True)
            if c.user_id != actor.user_id:
                raise PermissionDenied("you may close only your own contracts")
            if c.closed_early:
                return c, False
            if c.status is not ContractStatus.OPEN:
                raise ContractStateConflict(f"contract {c.id} is {c.status.value}")
            if c.kind is not ContractKind.MULTIPLIER:
                raise ContractStateConflict("only multiplier contracts close early")
            if now >= c.expires_at:
                raise ContractStateConflict(f"contract {c.id} has expired; it settles at expiry")
            tick = entry_tick(await uow.prices.latest(c.symbol, now), now, p.max_age)
            if tick is None:
                raise PriceUnavailable(f"no fresh price for {c.symbol}")
            status, payout = c.decide(tick.price)
            done = c.resolved(
                status,
                payout,
                now,
                exit_price=tick.price,
                exit_at=tick.observed_at,
                closed_early=True,
            )
            await self._finish(uow, [done], now)
            return done, True

        done, moved = await self._d.transaction(work)
        if moved:
            await self._publish([done])
        return done

    # -- staff -----------------------------------------------------------------------------
    async def void(self, actor: Actor, contract_id: int, reason: str) -> Contract:
        """Void an open contract: stake and commission back, audited."""
        actor.require_staff()
        why = clean_reason(reason)

        async def work(uow: UnitOfWork) -> Contract:
            now = self._d.clock.now()
            c = await self._contract(uow, contract_id, for_update=True)
            if c.status is not ContractStatus.OPEN:
                raise ContractStateConflict(f"contract {c.id} is {c.status.value}")
            done = c.resolved(ContractStatus.VOID, c.stake + c.commission, now, void_reason=why)
            await self._finish(uow, [done], now)
            await uow.audit.add(self._audit(actor, "prediction.void", contract_ref(c.id), why))
            return done

        done = await self._d.transaction(work)
        await self._publish([done])
        return done

    async def exposure(self, actor: Actor) -> list[ExposureRow]:
        """The house's exposure per (currency, symbol) and in total (``"*"``), with limits."""
        actor.require_staff()
        p = self.policy

        async def work(uow: UnitOfWork) -> list[tuple[str, str, int]]:
            return await uow.predictions.exposure()

        rows = await self._d.transaction(work)
        return [
            ExposureRow(
                cur,
                sym,
                amount,
                p.exposure_limit_total if sym == TOTAL else p.exposure_limit_symbol,
            )
            for cur, sym, amount in rows
        ]

    # -- reading ---------------------------------------------------------------------------
    async def get(self, actor: Actor, contract_id: int) -> Contract:
        """One contract: its owner or staff."""

        async def work(uow: UnitOfWork) -> Contract:
            return await self._contract(uow, contract_id)

        c = await self._d.transaction(work)
        if c.user_id != actor.user_id and not actor.is_staff:
            raise PermissionDenied("you may see only your own contracts")
        return c

    async def list_contracts(
        self,
        actor: Actor,
        *,
        user_id: int | None = None,
        status: str | ContractStatus | None = None,
        symbol: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Contract]:
        """A player's contracts, newest first (players: their own; staff: anyone's)."""
        uid = actor.user_id if user_id is None else user_id
        if uid is None:
            actor.require_staff()
        else:
            actor.require_self_or_staff(uid)
        try:
            st = None if status is None else ContractStatus(status)
        except ValueError:
            raise InvalidInput("status must be open, won, lost, push or void") from None
        sym = None if symbol is None else parse_symbol(symbol)
        check_page_limit(limit)

        async def work(uow: UnitOfWork) -> list[Contract]:
            return await uow.predictions.list_contracts(
                user_id=uid, status=st, symbol=sym, limit=limit, before_id=before_id
            )

        return await self._d.transaction(work)

    # -- the job runner --------------------------------------------------------------------
    async def settle_due(self, *, limit: int | None = None) -> SettleReport:
        """Settle (or void, with no tick within the buffer) every contract decided now, in
        chunks of ``chunk_size`` (``limit``): one claim statement, one ledger batch, one
        set-based write per chunk. Several runners share the work (SKIP LOCKED)."""
        report = SettleReport()
        size = limit or self.chunk_size
        while True:
            done = await self._settle_chunk(size)
            if not done:
                return report
            report.chunks += 1
            for c in done:
                if c.status is ContractStatus.VOID:
                    report.voided += 1
                else:
                    report.settled += 1
                report.paid += c.payout or 0
            await self._publish(done)
            if len(done) < size:
                return report

    async def _settle_chunk(self, size: int) -> list[Contract]:
        buffer = self.policy.buffer

        async def work(uow: UnitOfWork) -> list[Contract]:
            now = self._d.clock.now()
            claimed = await uow.predictions.claim_due(now, buffer, size)
            done = []
            for c, tick in claimed:
                if tick is None:
                    done.append(
                        c.resolved(
                            ContractStatus.VOID,
                            c.stake + c.commission,
                            now,
                            void_reason="no price within the buffer after expiry",
                        )
                    )
                else:
                    status, payout = c.decide(tick.price)
                    done.append(
                        c.resolved(
                            status, payout, now, exit_price=tick.price, exit_at=tick.observed_at
                        )
                    )
            if done:
                await self._finish(uow, done, now)
            return done

        return await self._d.transaction(work)

    async def _finish(self, uow: UnitOfWork, done: Sequence[Contract], now: datetime) -> None:
        """Pay the resolved contracts (house → wallet), write them, release exposure."""
        by_currency: dict[str, list[Contract]] = {}
        for c in done:
            by_currency.setdefault(c.currency, []).append(c)
        for currency, items in by_currency.items():
            # exposure rows before accounts, the order placements lock them in (no deadlock)
            deltas: dict[str, int] = {}
            for c in items:
                deltas[c.symbol] = deltas.get(c.symbol, 0) - c.max_payout
                deltas[TOTAL] = deltas.get(TOTAL, 0) - c.max_payout
            await uow.predictions.add_exposure(currency, deltas)
            house = await system_account(uow, AccountKind.HOUSE, currency)
            paying = [c for c in items if c.payout]
            owners = sorted({c.user_id for c in paying})  # one wallet look-up per user
            opened = await uow.ledger.open_accounts(
                [
                    (
                        AccountKind.USER,
                        user_ref(uid),
                        currency,
                        AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                    )
                    for uid in owners
                ]
            )
            by_user = {uid: a.id for uid, a in zip(owners, opened, strict=True)}
            results = await uow.ledger.apply(
                [
                    TransferRequest(
                        tid("refund" if c.status is ContractStatus.VOID else "payout", c.id),
                        house.id,
                        by_user[c.user_id],
                        c.payout or 0,
                        REFUND_CODE if c.status is ContractStatus.VOID else PAYOUT_CODE,
                        reference=contract_ref(c.id),
                        currency=currency,
                    )
                    for c in paying
                ],
                now,
            )
            for r in results:
                if not r.ok:  # the house may go negative: a refusal is a broken invariant
                    raise StoreError(f"prediction payout refused: {r.error}")
        await uow.predictions.resolve(done)

    async def _publish(self, done: Sequence[Contract]) -> None:
        if not done:
            return
        await self._d.publisher.publish(ContractsResolved(tuple((c.user_id, c.id) for c in done)))
        users = tuple(sorted({c.user_id for c in done if c.payout}))
        if users:
            await self._d.publisher.publish(WalletChanged(users))

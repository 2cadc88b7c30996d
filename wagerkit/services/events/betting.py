"""Events: the fast bet path, on the shared group commit (services/groupcommit.py).

``place_bet`` submits the command to the service's ``GroupCommit``: while one batch commits,
new commands queue; the next batch takes them all (at most one per user and event, at most
``max_batch``) into ONE transaction: one statement reads the events (shared lock), the
replays and the prior bets, each command is decided on its own (``domain.events.check_bet``),
every stake goes to the ledger as one batch (wallet → the event's escrow, id
``stake:<user>:<key>`` so a replayed Idempotency-Key returns the first bet), one statement
writes the bets, top-ups and pools, commit. Each caller is answered only after that commit;
then the batch publishes ``WalletChanged`` and ``PoolChanged``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from ...domain.errors import (
    EventNotFound,
    IdempotencyConflict,
    InvalidInput,
    PermissionDenied,
    StoreError,
    TransientStoreError,
    WagerkitError,
)
from ...domain.events import (
    BET_CODE,
    Bet,
    check_bet,
)
from ...domain.identity import Actor, Role
from ...domain.ledger import Transfer, TransferRequest
from ...domain.notifications import PoolChanged, WalletChanged
from ...domain.refs import (
    check_key,
    outcome_ref,
    stake_id,
    stake_prefix,
    user_ref,
)
from ...ports import NewBet, PoolDelta, UnitOfWork
from ..accounts import batch_wallets
from ..groupcommit import GroupCommit
from .common import EventsBase

__all__ = ["BetReceipt", "EventBetting"]


@dataclass(frozen=True, slots=True)
class BetReceipt:
    """The answer to a bet: the user's bet after it, what this placement added, and whether
    it was a replay of an earlier command with the same idempotency key."""

    bet: Bet
    placed: int
    currency: str  # the event's currency (the unit of ``placed`` and the bet's amount)
    replayed: bool = False


@dataclass(slots=True)
class _Command:
    user_id: int
    event_id: int
    outcome_id: int
    amount: int
    transfer_id: str
    keyed: bool
    version: str | None = None  # set: admit the user from its token, read in the batch


def _replay(c: _Command, t: Transfer, existing: Bet | None) -> BetReceipt | WagerkitError:
    """The answer to a keyed command whose stake ``t`` is already recorded: the first
    answer when it is the same bet, a conflict when the key was used for another one."""
    if not (
        t.code == BET_CODE
        and t.amount == c.amount
        and t.reference == outcome_ref(c.event_id, c.outcome_id)
    ):
        return IdempotencyConflict("this idempotency key was used for another bet")
    if existing is None:
        return StoreError("the bet of a recorded stake is missing")
    return BetReceipt(existing, c.amount, t.currency, replayed=True)


class EventBetting(EventsBase):
    _bets: GroupCommit[_Command, BetReceipt]

    @property
    def max_batch(self) -> int:
        """The most bets one group commit decides (512 by default)."""
        return self._bets.max_batch

    @max_batch.setter
    def max_batch(self, value: int) -> None:
        self._bets.max_batch = value

    # -- players: the fast bet path ------------------------------------------------------
    async def place_bet(
        self,
        actor: Actor,
        event_id: int,
        outcome_id: int,
        amount: int,
        *,
        idempotency_key: str | None = None,
    ) -> BetReceipt:
        """Stake ``amount`` on ``outcome_id``. Answered after the commit that holds it;
        replaying ``idempotency_key`` returns the first answer (a 409 for other content)."""
        if actor.user_id is None:
            raise PermissionDenied("only a user can bet")
        return await self._submit(actor, None, event_id, outcome_id, amount, idempotency_key)

    async def place_bet_with_token(
        self,
        token: str,
        event_id: int,
        outcome_id: int,
        amount: int,
        *,
        idempotency_key: str | None = None,
    ) -> BetReceipt:
        """``place_bet`` for the bearer of an access token, authenticated inside the bet's
        own transaction: the token is verified here, and the user is read fresh (banned,
        whitelist, password changed) by the batch that decides the bet, instead of in a
        transaction of its own (the HTTP server's ``POST /bets``)."""
        if self._claims is None or self._admit is None:
            raise PermissionDenied("no token service configured")
        user_id, version = self._claims(token)
        actor = Actor(user_id, Role.PLAYER)  # only its id is used before the batch admits it
        return await self._submit(actor, version, event_id, outcome_id, amount, idempotency_key)

    async def _submit(
        self,
        actor: Actor,
        version: str | None,
        event_id: int,
        outcome_id: int,
        amount: int,
        idempotency_key: str | None,
    ) -> BetReceipt:
        assert actor.user_id is not None
        for v, what in ((event_id, "event_id"), (outcome_id, "outcome_id")):
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidInput(f"{what} must be an integer")
        if idempotency_key is not None:
            check_key(idempotency_key)
        if self._limit is not None:
            await self._limit(actor, "bet")
        uid = actor.user_id
        tid = (
            stake_id(uid, idempotency_key)
            if idempotency_key is not None
            else self._d.ids.new_id(stake_prefix(uid))
        )
        return await self._bets.submit(
            _Command(uid, event_id, outcome_id, amount, tid, idempotency_key is not None, version)
        )

    async def _run_batch(self, batch: Sequence[_Command]) -> list[BetReceipt | Exception]:
        """Decide and commit one batch (see the module docstring). Two processes may decide
        the same keyed command at once; the one that commits second must answer the replay:
        the batch reads replays and bets at one point in time (``read_bet_batch``), a keyed
        command refused because of a bet it saw looks its key up again (a store whose read
        was not one snapshot saw the bet before its stake), and a stake the ledger finds
        already recorded (committed after the read) makes the batch start over."""
        answers: dict[int, BetReceipt | WagerkitError] = {}

        async def work(uow: UnitOfWork) -> None:
            answers.clear()
            now = self._d.clock.now()
            view = await uow.events.read_bet_batch(
                sorted({c.event_id for c in batch}),
                [(c.event_id, c.user_id) for c in batch],
                [c.transfer_id for c in batch if c.keyed],
                [(c.event_id, user_ref(c.user_id)) for c in batch],
                sorted({c.user_id for c in batch if c.version is not None}),
            )
            events, prior, bets, users = view.events, view.transfers, view.bets, view.users
            todo: list[int] = []
            recheck: list[int] = []  # keyed commands refused because of a bet they saw
            for i, c in enumerate(batch):
                if c.version is not None:  # authenticate now, from the user read just now
                    assert self._admit is not None
                    try:
                        self._admit(users.get(c.user_id), c.version)
                    except WagerkitError as exc:
                        answers[i] = exc
                        continue
                t = prior.get(c.transfer_id)
                existing = bets.get((c.event_id, c.user_id))
                if t is not None:  # a replay: the first answer, or a conflict
                    answers[i] = _replay(c, t, existing)
                    continue
                event = events.get(c.event_id)
                try:
                    if event is None:
                        raise EventNotFound(f"no event {c.event_id}")
                    check_bet(event, existing, c.outcome_id, c.amount, now)
                except WagerkitError as exc:
                    answers[i] = exc
                    if c.keyed and existing is not None:
                        recheck.append(i)
                    continue
                todo.append(i)
            if recheck:  # a new statement sees every commit the bets read saw
                again = await uow.ledger.get_transfers([batch[i].transfer_id for i in recheck])
                for i in recheck:
                    c = batch[i]
                    t = again.get(c.transfer_id)
                    if t is not None:
                        answers[i] = _replay(c, t, bets.get((c.event_id, c.user_id)))
            if not todo:
                return
            wallet_ids = await batch_wallets(
                uow,
                {i: (batch[i].user_id, events[batch[i].event_id].currency) for i in todo},
                view.wallets,
            )
            results = await uow.ledger.apply(
                [
                    TransferRequest(
                        batch[i].transfer_id,
                        wallet_ids[i],
                        events[batch[i].event_id].escrow_account_id,
                        batch[i].amount,
                        BET_CODE,
                        reference=outcome_ref(batch[i].event_id, batch[i].outcome_id),
                        currency=events[batch[i].event_id].currency,
                    )
                    for i in todo
                ],
                now,
            )
            if any(r.ok and r.replayed for r in results):
                # a stake committed by another process after this batch read: start over,
                # and the next read sees it as a replay (never charge or pool it twice)
                raise TransientStoreError()
            new: list[tuple[int, NewBet]] = []
            topups: list[tuple[int, Bet]] = []
            deltas: dict[int, list[int]] = {}
            for i, r in zip(todo, results, strict=True):
                c = batch[i]
                if not r.ok:
                    assert r.error is not None
                    answers[i] = r.error
                    continue
                d = deltas.setdefault(c.outcome_id, [0, 0])
                d[0] += c.amount
                existing = bets.get((c.event_id, c.user_id))
                if existing is None:
                    d[1] += 1
                    new.append(
                        (
                            i,
                            NewBet(
                                c.event_id, c.outcome_id, c.user_id, c.amount, wallet_ids[i], now
                            ),
                        )
                    )
                else:
                    topups.append((i, existing))
            added = await uow.events.write_bet_batch(
                [nb for _, nb in new],
                [(b.id, batch[i].amount) for i, b in topups],
                [PoolDelta(o, a, n) for o, (a, n) in sorted(deltas.items())],
                now,
                ids=view.bet_ids,
            )
            for (i, _), bet in zip(new, added, strict=True):
                answers[i] = BetReceipt(bet, batch[i].amount, events[bet.event_id].currency)
            for i, b in topups:
                answers[i] = BetReceipt(
                    dataclasses.replace(
                        b,
                        amount=b.amount + batch[i].amount,
                        placements=b.placements + 1,
                        updated_at=now,
                    ),
                    batch[i].amount,
                    events[b.event_id].currency,
                )

        await self._d.transaction(work)
        return [answers.get(i) or StoreError("the bet was not decided") for i in range(len(batch))]

    async def _after_batch(
        self, batch: Sequence[_Command], answers: Sequence[BetReceipt | Exception]
    ) -> None:
        """Once the callers have their answers: the wallets and pools that moved."""
        placed = [
            c
            for c, a in zip(batch, answers, strict=True)
            if isinstance(a, BetReceipt) and not a.replayed
        ]
        if placed:
            await self._d.publisher.publish(
                WalletChanged(tuple(sorted({c.user_id for c in placed})))
            )
        for eid in sorted({c.event_id for c in placed}):
            await self._d.publisher.publish(PoolChanged(eid))

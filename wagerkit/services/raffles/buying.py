"""Raffles: ticket purchases, on the shared group commit (services/groupcommit.py).

``buy`` submits the purchase to the area's ``GroupCommit`` (conflict key: the raffle and the
user, so a user's per-raffle count is decided against what the batch read). One batch is ONE
transaction: where a raffle has a per-user limit, its buyers are held first
(``lock_buyers``: across processes, one batch per buyer at a time); one read
(``read_purchase_batch``) gives the raffles (``FOR KEY SHARE``: batches of one raffle run in
parallel, a close waits for them), the replayed keys, the limited buyers' counts, the
wallets and the probed numbers; each purchase is decided on its own, all or nothing (chosen
numbers must all be free; random picks take free numbers no earlier purchase of the batch
took); the stakes go to the ledger as one batch (wallet → the raffle's escrow, id
``raffles:buy:<raffle>:<user>:<key>``); the tickets are written with the commit (a unique
(raffle, number) constraint). A number another process sold meanwhile fails the commit and
the whole batch runs again on fresh data: a random pick then takes another free number, so
the buyer never sees the race; a chosen number is then ``ticket_unavailable``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from ...domain.errors import (
    IdempotencyConflict,
    InvalidInput,
    PermissionDenied,
    RaffleNotFound,
    SoldOut,
    StoreError,
    TicketLimitExceeded,
    TicketUnavailable,
    TransientStoreError,
    WagerkitError,
)
from ...domain.identity import Actor
from ...domain.ledger import TransferRequest
from ...domain.notifications import WalletChanged
from ...domain.raffles import TICKET_CODE, Raffle, RaffleSold, RaffleStatus, Ticket
from ...domain.refs import check_key, user_ref
from ...ports import NewTicket, UnitOfWork
from ..accounts import batch_wallets
from ..groupcommit import GroupCommit
from .common import RafflesBase, raffle_ref, raffle_tid

__all__ = ["Purchase", "RaffleBuying"]

_random = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class Purchase:
    """The answer to a purchase: its tickets, what it cost, and whether it replayed an
    earlier purchase with the same idempotency key."""

    raffle_id: int
    user_id: int
    tickets: tuple[Ticket, ...]
    amount: int
    currency: str
    replayed: bool = False

    @property
    def numbers(self) -> list[int]:
        return [t.number for t in self.tickets]


@dataclass(slots=True)
class _Buy:
    user_id: int
    raffle_id: int
    numbers: list[int] | None  # chosen numbers, or None: ``count`` random free ones
    count: int
    purchase: str
    keyed: bool
    version: str | None = None  # set: admit the user from its token, read in the batch


def pick_free(capacity: int, taken: set[int], count: int) -> list[int]:
    """``count`` distinct random numbers of ``0 … capacity−1`` not in ``taken``."""
    free = capacity - len(taken)
    if count > free:
        raise SoldOut(f"only {free} numbers left")
    if free > 4 * count and capacity > 64:  # mostly free: draw and skip the taken ones
        out: set[int] = set()
        while len(out) < count:
            n = _random.randrange(capacity)
            if n not in taken:
                out.add(n)
        return sorted(out)
    pool = [n for n in range(capacity) if n not in taken]
    return sorted(_random.sample(pool, count))


class _Numbers:
    """What a purchase batch knows of each raffle's sold numbers. A raffle less than half
    sold is probed: random candidates are checked with one indexed look-up
    (``taken_among``), so a batch never reads a large raffle's whole listing; a fuller
    raffle's sold numbers are read once. The batch's own picks count as sold. ``prefetch``
    checks every chosen number of the batch and a pool of random candidates in one look-up,
    so a batch of single-ticket purchases costs one query, not one each."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._known: dict[int, set[int]] = {}  # numbers known sold (batch picks included)
        self._clear: dict[int, set[int]] = {}  # numbers seen free by this batch's read
        self._chosen: dict[int, set[int]] = {}  # numbers the batch's buyers chose
        self._all: set[int] = set()  # raffles whose every sold number is known
        self._picked: dict[int, int] = {}  # numbers this batch took, per raffle

    def _full(self, r: Raffle) -> bool:
        return r.sold + self._picked.get(r.id, 0) > r.capacity // 2

    async def _load(self, r: Raffle) -> set[int]:
        known = self._known.setdefault(r.id, set())
        if r.id not in self._all and self._full(r):
            known.update(await self._uow.raffles.sold_numbers(r.id))
            self._all.add(r.id)
        return known

    def seed(
        self,
        r: Raffle,
        chosen: Sequence[int],
        probed: Sequence[int],
        found: set[int],
        sold: list[int] | None,
    ) -> None:
        """What the batch's read found: of the ``probed`` numbers, those ``found`` sold (the
        rest were free), or every ``sold`` number of a raffle more than half sold."""
        known = self._known.setdefault(r.id, set())
        self._chosen[r.id] = set(chosen)
        if sold is not None:
            known.update(sold)
            self._all.add(r.id)
            return
        known.update(found)
        clear = {n for n in probed if 0 <= n < r.capacity} - found
        self._clear.setdefault(r.id, set()).update(clear)

    async def prefill(self, r: Raffle, count: int) -> None:
        """Make sure ``count`` random picks find free numbers without a look-up each: one
        look-up of fresh candidates when the read's probes were too few (a raffle this
        process had not seen yet)."""
        if r.id in self._all or count <= 0:
            return
        known = self._known.setdefault(r.id, set())
        clear = self._clear.setdefault(r.id, set())
        chosen = self._chosen.get(r.id, set())
        need = count - len(clear - known - chosen)
        room = min(r.free, r.capacity - len(known | clear | chosen))
        if need <= 0 or room <= 0:
            return
        candidates = pick_free(r.capacity, known | clear | chosen, min(2 * need + 8, room))
        found = set(await self._uow.raffles.taken_among(r.id, candidates))
        known.update(found)
        clear.update(set(candidates) - found)

    async def taken(self, r: Raffle, wanted: Sequence[int]) -> list[int]:
        known = await self._load(r)
        gone = [n for n in wanted if n in known]
        if r.id not in self._all:
            clear = self._clear.get(r.id, set())
            ask = [n for n in wanted if n not in known and n not in clear]
            found = set(await self._uow.raffles.taken_among(r.id, ask)) if ask else set()
            known.update(found)
            gone += [n for n in ask if n in found]
        return sorted(gone)

    async def pick(self, r: Raffle, count: int) -> list[int]:
        free = r.free - self._picked.get(r.id, 0)
        if count > free:
            raise SoldOut(f"only {free} numbers left")
        known = await self._load(r)
        if r.id in self._all:
            return pick_free(r.capacity, known, count)
        pool = self._clear.get(r.id, set()) - known - self._chosen.get(r.id, set())
        if len(pool) >= count:
            return sorted(_random.sample(sorted(pool), count))
        out: set[int] = set()
        while len(out) < count:  # at least half free: each round keeps most candidates
            need = count - len(out)
            candidates = pick_free(r.capacity, known | out, min(2 * need + 4, free))
            found = set(await self._uow.raffles.taken_among(r.id, candidates))
            known.update(found)
            out.update(n for n in candidates if n not in found)
        return sorted(_random.sample(sorted(out), count))  # more may have come back free

    def take(self, r: Raffle, picked: Sequence[int]) -> None:
        self._known.setdefault(r.id, set()).update(picked)
        self._picked[r.id] = self._picked.get(r.id, 0) + len(picked)


class RaffleBuying(RafflesBase):
    _buys: GroupCommit[_Buy, Purchase]
    # per raffle, as last read: (capacity, has a per-user limit); only a hint for the next
    # batch (random candidates, whether to lock the buyers): the batch checks what it reads
    _shape: dict[int, tuple[int, bool]]

    async def buy(
        self,
        actor: Actor,
        raffle_id: int,
        *,
        numbers: Sequence[int] | None = None,
        count: int | None = None,
        idempotency_key: str | None = None,
    ) -> Purchase:
        """Buy the chosen ``numbers`` or ``count`` random free ones, all or nothing.
        Answered after the commit that holds it; replaying ``idempotency_key`` returns the
        first purchase (a 409 for another one)."""
        if actor.user_id is None:
            raise PermissionDenied("only a user can buy tickets")
        return await self._submit(actor.user_id, None, raffle_id, numbers, count, idempotency_key)

    async def buy_with_token(
        self,
        token: str,
        raffle_id: int,
        *,
        numbers: Sequence[int] | None = None,
        count: int | None = None,
        idempotency_key: str | None = None,
    ) -> Purchase:
        """``buy`` for the bearer of an access token, authenticated inside the purchase's own
        batch (the user read fresh: banned, whitelist, password changed), as the events'
        bets are: the HTTP server's ``POST /raffles/{id}/tickets``."""
        if self._claims is None or self._admit is None:
            raise PermissionDenied("no token service configured")
        user_id, version = self._claims(token)
        return await self._submit(user_id, version, raffle_id, numbers, count, idempotency_key)

    async def _submit(
        self,
        uid: int,
        version: str | None,
        raffle_id: int,
        numbers: Sequence[int] | None,
        count: int | None,
        idempotency_key: str | None,
    ) -> Purchase:
        if isinstance(raffle_id, bool) or not isinstance(raffle_id, int):
            raise InvalidInput("raffle_id must be an integer")
        if (numbers is None) == (count is None):
            raise InvalidInput("give either numbers or a count")
        chosen: list[int] | None = None
        if numbers is not None:
            chosen = list(numbers)
            if not chosen or len(chosen) > self.max_per_purchase:
                raise InvalidInput(f"choose 1-{self.max_per_purchase} numbers")
            for n in chosen:
                if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    raise InvalidInput("ticket numbers are non-negative integers")
            if len(set(chosen)) != len(chosen):
                raise InvalidInput("a number is chosen twice")
            chosen.sort()
            n_tickets = len(chosen)
        else:
            if isinstance(count, bool) or not isinstance(count, int):
                raise InvalidInput("count must be an integer")
            if not 1 <= count <= self.max_per_purchase:
                raise InvalidInput(f"count must be 1-{self.max_per_purchase}")
            n_tickets = count
        if idempotency_key is not None:
            tid = raffle_tid("buy", raffle_id, uid, check_key(idempotency_key))
        else:
            tid = raffle_tid("buy", raffle_id, uid, self._d.ids.new_id("p"))
        return await self._buys.submit(
            _Buy(uid, raffle_id, chosen, n_tickets, tid, idempotency_key is not None, version)
        )

    async def _run_buys(self, batch: Sequence[_Buy]) -> list[Purchase | Exception]:
        answers: dict[int, Purchase | WagerkitError] = {}

        async def work(uow: UnitOfWork) -> None:
            answers.clear()
            now = self._d.clock.now()
            rids = sorted({c.raffle_id for c in batch})
            pairs = sorted({(c.raffle_id, c.user_id) for c in batch})
            # per-user limits: hold the buyers first (raffles known unlimited need not)
            locked = [p for p in pairs if self._shape.get(p[0], (0, True))[1]]
            if locked:
                await uow.raffles.lock_buyers(locked)
            probes: dict[int, list[int]] = {}
            for rid in rids:  # chosen numbers and random candidates: one look-up for all
                cmds = [c for c in batch if c.raffle_id == rid]
                chosen = sorted({n for c in cmds if c.numbers is not None for n in c.numbers})
                count = sum(c.count for c in cmds if c.numbers is None)
                capacity = self._shape.get(rid, (0, True))[0]
                room = capacity - len(chosen)
                extra = (
                    pick_free(capacity, set(chosen), min(2 * count + 8, room))
                    if count and room > 0
                    else []
                )
                probes[rid] = chosen + extra
            keyed = [c.purchase for c in batch if c.keyed]
            pending = sorted({c.user_id for c in batch if c.version is not None})
            view = await uow.raffles.read_purchase_batch(
                rids,
                pairs,
                keyed,
                sorted({(c.raffle_id, user_ref(c.user_id)) for c in batch}),
                probes,
                sum(c.count for c in batch),
                pending,  # access-token buyers, admitted from the same read
            )
            holding = set(locked)
            for rid, got in view.raffles.items():
                limited = got.max_per_user < got.capacity
                self._shape[rid] = (got.capacity, limited)
                if limited and any(p not in holding for p in pairs if p[0] == rid):
                    raise TransientStoreError()  # it has a limit now: again, holding buyers
            raffles: dict[int, Raffle | WagerkitError] = {
                rid: view.raffles.get(rid) or RaffleNotFound(f"no raffle {rid}") for rid in rids
            }
            prior, earlier, counts = view.transfers, view.earlier, view.counts
            users = view.users
            numbers = _Numbers(uow)
            for rid, r in raffles.items():
                if isinstance(r, Raffle) and r.status is RaffleStatus.OPEN:
                    numbers.seed(
                        r,
                        [n for c in batch if c.raffle_id == rid and c.numbers for n in c.numbers],
                        probes[rid],
                        view.taken.get(rid, set()),
                        view.sold.get(rid),
                    )
                    await numbers.prefill(
                        r, sum(c.count for c in batch if c.raffle_id == rid and c.numbers is None)
                    )
            todo: list[tuple[int, Raffle, list[int]]] = []
            for i, c in enumerate(batch):
                if c.version is not None:  # authenticate now, from the user read just now
                    assert self._admit is not None
                    try:
                        self._admit(users.get(c.user_id), c.version)
                    except WagerkitError as exc:
                        answers[i] = exc
                        continue
                r = raffles[c.raffle_id]
                t = prior.get(c.purchase)
                if t is not None:
                    mine = earlier.get(c.purchase, [])
                    same = (
                        isinstance(r, Raffle)
                        and t.reference == raffle_ref(c.raffle_id)
                        and t.amount == r.price * c.count
                        and (c.numbers is None or c.numbers == [x.number for x in mine])
                    )
                    if not same:
                        answers[i] = IdempotencyConflict("this key was used for another purchase")
                    else:
                        answers[i] = Purchase(
                            c.raffle_id, c.user_id, tuple(mine), t.amount, t.currency, True
                        )
                    continue
                try:
                    if not isinstance(r, Raffle):
                        raise r
                    r.check_buy(now)
                    held = counts.get((c.raffle_id, c.user_id), 0)
                    if held + c.count > r.max_per_user:
                        raise TicketLimitExceeded(
                            f"at most {r.max_per_user} tickets per user (you hold {held})"
                        )
                    if c.numbers is not None:
                        r.check_numbers(c.numbers)
                        gone = await numbers.taken(r, c.numbers)
                        if gone:
                            labels = ", ".join(r.label(n) for n in gone[:10])
                            raise TicketUnavailable(f"already sold: {labels}")
                        picked = c.numbers
                    else:
                        picked = await numbers.pick(r, c.count)
                except WagerkitError as exc:
                    answers[i] = exc
                    continue
                numbers.take(r, picked)
                todo.append((i, r, picked))
            if not todo:
                return
            wallet_ids = await batch_wallets(
                uow, {i: (batch[i].user_id, r.currency) for i, r, _ in todo}, view.wallets
            )
            results = await uow.ledger.apply(
                [
                    TransferRequest(
                        batch[i].purchase,
                        wallet_ids[i],
                        r.escrow_account_id,
                        r.price * len(picked),
                        TICKET_CODE,
                        reference=raffle_ref(r.id),
                        currency=r.currency,
                    )
                    for i, r, picked in todo
                ],
                now,
            )
            if any(x.ok and x.replayed for x in results):
                raise TransientStoreError()  # committed by another process meanwhile
            new: list[NewTicket] = []
            bought: list[tuple[int, Raffle, int]] = []
            for (i, r, picked), res in zip(todo, results, strict=True):
                if not res.ok:
                    assert res.error is not None
                    answers[i] = res.error
                    continue
                c = batch[i]
                bought.append((i, r, len(new)))
                new += [
                    NewTicket(r.id, n, c.user_id, r.price, wallet_ids[i], c.purchase, now)
                    for n in picked
                ]
            if not new:
                return
            # with ids the read reserved, the write goes with the commit (PostgreSQL)
            added = await uow.raffles.add_tickets(new, ids=view.ticket_ids or None)
            ends = [start for _, _, start in bought[1:]] + [len(added)]
            for (i, r, start), end in zip(bought, ends, strict=True):
                tickets = tuple(added[start:end])
                answers[i] = Purchase(
                    r.id, batch[i].user_id, tickets, r.price * len(tickets), r.currency
                )

        await self._d.transaction(work)
        return [answers.get(i) or StoreError("not decided") for i in range(len(batch))]

    async def _after_buys(
        self, batch: Sequence[_Buy], answers: Sequence[Purchase | Exception]
    ) -> None:
        done = [a for a in answers if isinstance(a, Purchase) and not a.replayed]
        if not done:
            return
        await self._d.publisher.publish(WalletChanged(tuple(sorted({a.user_id for a in done}))))
        for rid in sorted({a.raffle_id for a in done}):
            await self._d.publisher.publish(RaffleSold(rid))

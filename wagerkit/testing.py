"""Fakes that are real classes: an in-memory store, a clock you set, ids you can predict.

Tests and embedding apps use these the way httpx users use ``MockTransport``: the in-memory
store runs the same ledger rules (``plan_batch``) as the SQL store, serialises transactions like
SQLite does, and rolls back everything a unit of work did unless it was committed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .domain.audit import AuditEntry, AuditRecord
from .domain.chat import ChatMessage, Mute
from .domain.errors import AlreadyExists
from .domain.events import (
    Bet,
    Event,
    EventDraft,
    EventStatus,
    Outcome,
)
from .domain.identity import Role, User, UserStatus
from .domain.ledger import (
    Account,
    AccountFlags,
    AccountKind,
    CurrencyTotals,
    LedgerView,
    LinkedBatch,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferResult,
    plan_batch,
    referenced_accounts,
    referenced_ids,
)
from .domain.payments import Payment
from .ports import BetBatchView, BetResult, NewBet, NewUser, PoolDelta, UnitOfWork

__all__ = [
    "FixedClock",
    "InMemoryStore",
    "RecordingPublisher",
    "SequentialIds",
    "UuidIds",
]


class FixedClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware time")

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self._now += timedelta(seconds=seconds, **kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class SequentialIds:
    """Predictable ids: ``prefix-00000001``, ``prefix-00000002`` …"""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._n):08d}"


class UuidIds:
    """Random ids for production use."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex}"


class RecordingPublisher:
    """Keeps every published event in ``events`` for tests to inspect."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        self.events.append((topic, dict(payload)))


class _State:
    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.accounts: dict[int, Account] = {}
        self.account_index: dict[tuple[str, str, str], int] = {}
        self.transfers: dict[str, Transfer] = {}
        self.journal: list[Transfer] = []
        self.by_account: defaultdict[int, list[Transfer]] = defaultdict(list)
        self.resolved: dict[str, TransferKind] = {}
        self.audit: list[AuditEntry] = []
        # payments (docs/payments.md): by id, plus the unique indexes
        self.payments: dict[str, Payment] = {}
        self.payment_keys: dict[str, str] = {}
        self.payment_refs: dict[tuple[str, str], str] = {}
        # events, bets and chat (docs/events.md); outcomes live inside their Event
        self.events: dict[int, Event] = {}
        self.outcome_ids = itertools.count(1)
        self.bets: dict[int, Bet] = {}
        self.bet_index: dict[tuple[int, int], int] = {}
        self.chat: dict[int, ChatMessage] = {}
        self.mutes: dict[int, Mute] = {}


class InMemoryStore:
    """The whole store in process memory. Call it to get a unit of work."""

    def __init__(self) -> None:
        self.state = _State()
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self)


class InMemoryUnitOfWork:
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._undo: list[Callable[[], object]] = []
        self._committed = False
        s = store.state
        self.users = _Users(s, self._undo)
        self.ledger = _Ledger(s, self._undo)
        self.audit = _Audit(s, self._undo)
        self.payments = _Payments(s, self._undo)
        self.events = _Events(s, self._undo)
        self.chat = _Chat(s, self._undo)

    async def __aenter__(self) -> Self:
        await self._store._lock().acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.rollback()
        finally:
            self._store._lock().release()

    async def commit(self) -> None:
        self._undo.clear()
        self._committed = True

    async def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()


class _Users:
    def __init__(self, s: _State, undo: list[Callable[[], object]]) -> None:
        self._s, self._undo = s, undo

    def _check_unique(self, u: NewUser | User, skip: int | None = None) -> None:
        for other in self._s.users.values():
            if other.id == skip:
                continue
            for attr in ("username", "email", "telegram_id"):
                mine = getattr(u, attr)
                if mine is not None and mine == getattr(other, attr):
                    raise AlreadyExists(f"{attr} is already taken")

    async def add(self, user: NewUser) -> User:
        self._check_unique(user)
        uid = max(self._s.users, default=0) + 1
        created = User(id=uid, **dataclasses.asdict(user))
        self._s.users[uid] = created
        self._undo.append(lambda: self._s.users.pop(uid, None))
        return dataclasses.replace(created)

    async def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        # units of work run one at a time here, so every read is already "for update"
        u = self._s.users.get(user_id)
        return dataclasses.replace(u) if u else None

    async def get_many(self, user_ids: Sequence[int]) -> dict[int, User]:
        users = self._s.users
        return {i: dataclasses.replace(users[i]) for i in set(user_ids) if i in users}

    async def get_by_username(self, username: str) -> User | None:
        for u in self._s.users.values():
            if u.username == username:
                return dataclasses.replace(u)
        return None

    async def get_by_email(self, email: str) -> User | None:
        return self._find(lambda u: u.email == email)

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        return self._find(lambda u: u.telegram_id == telegram_id)

    def _find(self, match: Callable[[User], bool]) -> User | None:
        found = next((u for u in self._s.users.values() if match(u)), None)
        return dataclasses.replace(found) if found else None

    async def count_active_admins(self) -> int:
        return sum(
            1
            for u in self._s.users.values()
            if u.role is Role.ADMIN and u.status is UserStatus.ACTIVE
        )

    async def list(self, *, limit: int = 100, offset: int = 0) -> list[User]:
        ordered = sorted(self._s.users.values(), key=lambda u: u.id)
        return [dataclasses.replace(u) for u in ordered[offset : offset + limit]]

    async def update(self, user: User) -> None:
        self._check_unique(user, skip=user.id)
        old = self._s.users[user.id]
        self._s.users[user.id] = dataclasses.replace(user)
        self._undo.append(lambda: self._s.users.__setitem__(user.id, old))


class _Ledger:
    def __init__(self, s: _State, undo: list[Callable[[], object]]) -> None:
        self._s, self._undo = s, undo

    async def open_account(
        self, kind: AccountKind, owner: str, currency: str, flags: AccountFlags
    ) -> Account:
        key = (kind.value, owner, currency)
        aid = self._s.account_index.get(key)
        if aid is None:
            aid = max(self._s.accounts, default=0) + 1
            self._s.accounts[aid] = Account(aid, currency, kind, owner, flags)
            self._s.account_index[key] = aid

            def undo(aid: int = aid) -> None:
                self._s.accounts.pop(aid, None)
                self._s.account_index.pop(key, None)

            self._undo.append(undo)
        return self._s.accounts[aid].copy()

    async def find_account(self, kind: AccountKind, owner: str, currency: str) -> Account | None:
        aid = self._s.account_index.get((kind.value, owner, currency))
        return self._s.accounts[aid].copy() if aid is not None else None

    async def get_account(self, account_id: int) -> Account | None:
        a = self._s.accounts.get(account_id)
        return a.copy() if a else None

    async def accounts_of(self, owner: str) -> list[Account]:
        return [
            a.copy()
            for a in sorted(self._s.accounts.values(), key=lambda a: a.id)
            if a.owner == owner
        ]

    async def accounts_of_many(self, owners: Sequence[str]) -> dict[str, list[Account]]:
        out: dict[str, list[Account]] = {}
        for owner in set(owners):
            found = await self.accounts_of(owner)
            if found:
                out[owner] = found
        return out

    async def set_flags(self, account_id: int, flags: AccountFlags) -> None:
        acc = self._s.accounts[account_id]
        old = acc.flags
        acc.flags = flags
        self._undo.append(lambda: setattr(acc, "flags", old))

    async def apply(
        self, items: Sequence[TransferRequest | LinkedBatch], now: datetime
    ) -> list[TransferResult]:
        s = self._s
        ids, pending_ids = referenced_ids(items)
        existing = {i: s.transfers[i] for i in ids | pending_ids if i in s.transfers}
        resolved = {p: s.resolved[p] for p in pending_ids if p in s.resolved}
        needed = referenced_accounts(items, existing)
        accounts = {k: s.accounts[k].copy() for k in needed if k in s.accounts}
        view = LedgerView(accounts=accounts, existing=existing, resolved=resolved)
        plan = plan_batch(items, view, now)
        for aid, acc in plan.accounts.items():
            old = s.accounts[aid]
            s.accounts[aid] = acc.copy()
            self._undo.append(partial(s.accounts.__setitem__, aid, old))
        for t in plan.transfers:  # fresh objects no one else has seen yet
            object.__setattr__(t, "seq", len(s.journal) + 1)
            s.transfers[t.id] = t
            s.journal.append(t)
            s.by_account[t.debit_account_id].append(t)
            s.by_account[t.credit_account_id].append(t)

            def undo(t: Transfer = t) -> None:
                del s.transfers[t.id]
                s.journal.pop()
                s.by_account[t.debit_account_id].pop()
                s.by_account[t.credit_account_id].pop()

            self._undo.append(undo)
        for pid, kind in plan.resolved.items():
            s.resolved[pid] = kind
            self._undo.append(partial(s.resolved.pop, pid, None))
        return plan.results

    async def get_transfer(self, transfer_id: str) -> Transfer | None:
        return self._s.transfers.get(transfer_id)

    async def statement(
        self, account_id: int, *, limit: int, before_seq: int | None = None
    ) -> list[Transfer]:
        rows = self._s.by_account.get(account_id, [])
        out = [t for t in reversed(rows) if before_seq is None or t.seq < before_seq]
        return out[:limit]

    async def expired_pending(self, now: datetime, limit: int) -> list[Transfer]:
        out = [
            t
            for t in self._s.journal
            if t.kind is TransferKind.PENDING
            and t.expires_at is not None
            and t.expires_at <= now
            and t.id not in self._s.resolved
        ]
        return out[:limit]

    async def totals(self) -> list[CurrencyTotals]:
        sums: dict[str, list[int]] = {}
        for a in self._s.accounts.values():
            t = sums.setdefault(a.currency, [0, 0, 0, 0])
            t[0] += a.debits_posted
            t[1] += a.credits_posted
            t[2] += a.debits_pending
            t[3] += a.credits_pending
        return [CurrencyTotals(c, *v) for c, v in sorted(sums.items())]

    async def journal(self, *, after_seq: int = 0, limit: int = 1000) -> list[Transfer]:
        return self._s.journal[after_seq : after_seq + limit]

    async def get_transfers(self, transfer_ids: Sequence[str]) -> dict[str, Transfer]:
        t = self._s.transfers
        return {i: t[i] for i in transfer_ids if i in t}

    async def open_accounts(
        self, specs: Sequence[tuple[AccountKind, str, str, AccountFlags]]
    ) -> list[Account]:
        return [await self.open_account(*spec) for spec in specs]


class _Audit:
    def __init__(self, s: _State, undo: list[Callable[[], object]]) -> None:
        self._s, self._undo = s, undo

    async def add(self, record: AuditRecord) -> AuditEntry:
        entry = AuditEntry(id=len(self._s.audit) + 1, **dataclasses.asdict(record))
        self._s.audit.append(entry)
        self._undo.append(self._s.audit.pop)
        return entry

    async def list(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        action: str | None = None,
        target: str | None = None,
    ) -> list[AuditEntry]:
        out = [
            e
            for e in reversed(self._s.audit)
            if (before_id is None or e.id < before_id)
            and (action is None or e.action == action)
            and (target is None or e.target == target)
        ]
        return out[:limit]


class _Payments:
    """Payments with the SQL table's unique constraints: id, idempotency key and
    (provider, provider_reference). A clash is a bug here (transactions are serialised)."""

    def __init__(self, s: _State, undo: list[Callable[[], object]]) -> None:
        self._s, self._undo = s, undo

    def _index(self, p: Payment) -> None:
        s = self._s
        if p.provider_reference is not None:
            ref = (p.provider, p.provider_reference)
            if s.payment_refs.setdefault(ref, p.id) != p.id:
                raise AlreadyExists(f"provider reference {p.provider_reference!r} is taken")
            self._undo.append(partial(s.payment_refs.pop, ref, None))

    async def add(self, payment: Payment) -> Payment:
        s = self._s
        if payment.id in s.payments or payment.idempotency_key in s.payment_keys:
            raise AlreadyExists(f"payment {payment.id} or its idempotency key exists")
        stored = dataclasses.replace(payment, seq=len(s.payments) + 1)
        s.payments[stored.id] = stored
        s.payment_keys[stored.idempotency_key] = stored.id
        self._undo.append(partial(s.payments.pop, stored.id, None))
        self._undo.append(partial(s.payment_keys.pop, stored.idempotency_key, None))
        self._index(stored)
        return stored

    async def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        return self._s.payments.get(payment_id)  # immutable; the store lock serialises

    async def get_by_key(self, idempotency_key: str) -> Payment | None:
        pid = self._s.payment_keys.get(idempotency_key)
        return self._s.payments[pid] if pid is not None else None

    async def get_by_reference(self, provider: str, reference: str) -> Payment | None:
        pid = self._s.payment_refs.get((provider, reference))
        return self._s.payments[pid] if pid is not None else None

    async def update(self, payment: Payment) -> None:
        s = self._s
        old = s.payments[payment.id]
        new = dataclasses.replace(payment, seq=old.seq, idempotency_key=old.idempotency_key)
        if old.provider_reference is None:
            self._index(new)
        s.payments[new.id] = new
        self._undo.append(partial(s.payments.__setitem__, new.id, old))

    async def list(
        self, *, user_id: int | None = None, limit: int = 50, before_seq: int | None = None
    ) -> list[Payment]:
        out = [
            p
            for p in sorted(self._s.payments.values(), key=lambda p: -p.seq)
            if (user_id is None or p.user_id == user_id)
            and (before_seq is None or p.seq < before_seq)
        ]
        return out[:limit]


def _set(d: dict[Any, Any], undo: list[Callable[[], object]], key: Any, value: Any) -> None:
    """``d[key] = value``, undone on rollback."""
    if key in d:
        undo.append(partial(d.__setitem__, key, d[key]))
    else:
        undo.append(partial(d.pop, key, None))
    d[key] = value


class _Events:
    """Events (outcomes and pool totals inside them) and bets, with the SQL table's unique
    (event, user) bet constraint. Locks are no-ops: the store lock serialises transactions."""

    def __init__(self, s: _State, undo: list[Callable[[], object]]) -> None:
        self._s, self._undo = s, undo

    def _outcomes(self, names: Sequence[str]) -> tuple[Outcome, ...]:
        return tuple(Outcome(next(self._s.outcome_ids), n, i) for i, n in enumerate(names))

    async def add(
        self, draft: EventDraft, *, escrow_account_id: int, created_by: int | None, now: datetime
    ) -> Event:
        assert draft.betting_locked_at is not None
        assert draft.settle_deadline is not None
        eid = max(self._s.events, default=0) + 1
        event = Event(
            id=eid,
            title=draft.title,
            description=draft.description,
            stream_type=draft.stream_type,
            stream_url=draft.stream_url,
            currency=draft.currency,
            outcomes=self._outcomes(draft.outcomes),
            min_stake=draft.min_stake,
            max_stake=draft.max_stake,
            rake_bps=draft.rake_bps,
            start_time=draft.start_time,
            betting_locked_at=draft.betting_locked_at,
            settle_deadline=draft.settle_deadline,
            allow_topup=draft.allow_topup,
            status=draft.status,
            escrow_account_id=escrow_account_id,
            created_at=now,
            updated_at=now,
            created_by=created_by,
        )
        _set(self._s.events, self._undo, eid, event)
        return event

    async def get(self, event_id: int, *, lock: str = "none") -> Event | None:
        return self._s.events.get(event_id)

    async def get_many(self, event_ids: Sequence[int], *, lock: str = "none") -> dict[int, Event]:
        ev = self._s.events
        return {i: ev[i] for i in sorted(set(event_ids)) if i in ev}

    async def update(self, event: Event) -> None:
        old = self._s.events[event.id]
        kept = dataclasses.replace(event, outcomes=old.outcomes, bet_count=old.bet_count)
        _set(self._s.events, self._undo, event.id, kept)

    async def replace_outcomes(self, event_id: int, names: Sequence[str]) -> tuple[Outcome, ...]:
        old = self._s.events[event_id]
        outcomes = self._outcomes(names)
        _set(self._s.events, self._undo, event_id, dataclasses.replace(old, outcomes=outcomes))
        return outcomes

    async def list_events(
        self,
        *,
        statuses: Sequence[EventStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Event]:
        out = [
            e
            for e in sorted(self._s.events.values(), key=lambda e: -e.id)
            if (statuses is None or e.status in statuses)
            and (before_id is None or e.id < before_id)
        ]
        return out[:limit]

    async def claim_due(self, now: datetime, stale_before: datetime, limit: int) -> list[Event]:
        out = [
            e
            for e in sorted(self._s.events.values(), key=lambda e: e.id)
            if e.due_for_lock(now)
            or e.due_for_void(now)
            or (e.status.resolving and e.updated_at < stale_before)
        ]
        return out[:limit]

    async def bets_for(self, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Bet]:
        idx, bets = self._s.bet_index, self._s.bets
        return {p: bets[idx[p]] for p in pairs if p in idx}

    async def add_bets(self, bets: Sequence[NewBet]) -> list[Bet]:
        s = self._s
        out = []
        for nb in bets:
            key = (nb.event_id, nb.user_id)
            if key in s.bet_index:
                raise AlreadyExists(f"user {nb.user_id} already bet on event {nb.event_id}")
            if not any(o.id == nb.outcome_id for o in s.events[nb.event_id].outcomes):
                raise AlreadyExists("outcome of another event")  # a foreign-key violation
            bid = max(s.bets, default=0) + 1
            bet = Bet(
                bid,
                nb.event_id,
                nb.outcome_id,
                nb.user_id,
                nb.amount,
                nb.wallet_account_id,
                nb.placed_at,
                nb.placed_at,
            )
            _set(s.bets, self._undo, bid, bet)
            _set(s.bet_index, self._undo, key, bid)
            ev = s.events[nb.event_id]
            _set(s.events, self._undo, ev.id, dataclasses.replace(ev, bet_count=ev.bet_count + 1))
            out.append(bet)
        return out

    async def top_up(self, bets: Sequence[tuple[int, int]], now: datetime) -> None:
        for bid, amount in bets:
            b = self._s.bets[bid]
            new = dataclasses.replace(
                b, amount=b.amount + amount, placements=b.placements + 1, updated_at=now
            )
            _set(self._s.bets, self._undo, bid, new)

    async def add_to_pool(self, deltas: Sequence[PoolDelta]) -> None:
        by_outcome: dict[int, PoolDelta] = {}
        for d in deltas:  # several deltas of one outcome add up (as in SQL)
            p = by_outcome.get(d.outcome_id)
            by_outcome[d.outcome_id] = (
                d
                if p is None
                else PoolDelta(d.outcome_id, p.amount + d.amount, p.bettors + d.bettors)
            )
        for ev in list(self._s.events.values()):
            if not any(o.id in by_outcome for o in ev.outcomes):
                continue
            outcomes = []
            for o in ev.outcomes:
                add = by_outcome.get(o.id)
                if add is not None:
                    o = dataclasses.replace(
                        o, total=o.total + add.amount, bettors=o.bettors + add.bettors
                    )
                    if o.total < 0 or o.bettors < 0:
                        raise ValueError("a pool total may not go negative")
                outcomes.append(o)
            _set(
                self._s.events, self._undo, ev.id, dataclasses.replace(ev, outcomes=tuple(outcomes))
            )

    async def read_bet_batch(
        self,
        event_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        transfer_ids: Sequence[str],
        wallets: Sequence[tuple[int, str]] = (),
    ) -> BetBatchView:
        t, index, evs = self._s.transfers, self._s.account_index, self._s.events
        found = {}
        for event_id, owner in wallets:
            if event_id in evs:
                key = (owner, evs[event_id].currency)
                aid = index.get((AccountKind.USER.value, *key))
                if aid is not None:
                    found[key] = aid
        return BetBatchView(
            await self.get_many(event_ids, lock="share"),
            await self.bets_for(pairs),
            {i: t[i] for i in transfer_ids if i in t},
            found,
        )

    async def write_bet_batch(
        self,
        new: Sequence[NewBet],
        topups: Sequence[tuple[int, int]],
        deltas: Sequence[PoolDelta],
        now: datetime,
    ) -> list[Bet]:
        added = await self.add_bets(new)
        await self.top_up(topups, now)
        await self.add_to_pool(deltas)
        return added

    async def bets_of_event(self, event_id: int) -> list[Bet]:
        return sorted(
            (b for b in self._s.bets.values() if b.event_id == event_id), key=lambda b: b.id
        )

    async def record_results(self, results: Sequence[BetResult], now: datetime) -> None:
        for r in results:
            b = self._s.bets[r.bet_id]
            new = dataclasses.replace(b, status=r.status, payout=r.payout, updated_at=now)
            _set(self._s.bets, self._undo, r.bet_id, new)

    async def list_bets(
        self,
        *,
        event_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Bet]:
        out = [
            b
            for b in sorted(self._s.bets.values(), key=lambda b: -b.id)
            if (event_id is None or b.event_id == event_id)
            and (user_id is None or b.user_id == user_id)
            and (before_id is None or b.id < before_id)
        ]
        return out[:limit]


class _Chat:
    def __init__(self, s: _State, undo: list[Callable[[], object]]) -> None:
        self._s, self._undo = s, undo

    async def add(
        self, event_id: int, user_id: int, author: str, text: str, now: datetime
    ) -> ChatMessage:
        mid = max(self._s.chat, default=0) + 1
        msg = ChatMessage(mid, event_id, user_id, author, text, now)
        _set(self._s.chat, self._undo, mid, msg)
        return msg

    async def get(self, message_id: int) -> ChatMessage | None:
        return self._s.chat.get(message_id)

    async def delete(self, message_id: int) -> None:
        m = self._s.chat[message_id]
        _set(self._s.chat, self._undo, message_id, dataclasses.replace(m, deleted=True))

    async def recent(
        self, event_id: int, *, limit: int = 50, before_id: int | None = None
    ) -> list[ChatMessage]:
        out = [
            m
            for m in sorted(self._s.chat.values(), key=lambda m: -m.id)
            if m.event_id == event_id and not m.deleted and (before_id is None or m.id < before_id)
        ]
        return out[:limit]

    async def get_mute(self, user_id: int) -> Mute | None:
        return self._s.mutes.get(user_id)

    async def set_mute(self, mute: Mute) -> None:
        _set(self._s.mutes, self._undo, mute.user_id, mute)

    async def remove_mute(self, user_id: int) -> None:
        if user_id in self._s.mutes:
            self._undo.append(partial(self._s.mutes.__setitem__, user_id, self._s.mutes[user_id]))
            del self._s.mutes[user_id]


if TYPE_CHECKING:  # the in-memory store satisfies the port (checked by mypy)
    _check: type[UnitOfWork] = InMemoryUnitOfWork

"""Events, their outcomes and bets in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from ...domain.errors import AlreadyExists
from ...domain.events import Bet, Event, EventDraft, EventStatus, Outcome
from ...domain.ledger import AccountKind
from ...ports import BetBatchView, BetResult, NewBet, PoolDelta
from .state import State, Undo, set_undoable

__all__ = ["MemoryEvents"]


class MemoryEvents:
    """Events (outcomes and pool totals inside them) and bets, with the SQL table's unique
    (event, user) bet constraint. Locks are no-ops: the store lock serialises transactions."""

    def __init__(self, s: State, undo: Undo) -> None:
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
        set_undoable(self._s.events, self._undo, eid, event)
        return event

    async def get(self, event_id: int, *, lock: str = "none") -> Event | None:
        return self._s.events.get(event_id)

    async def get_many(self, event_ids: Sequence[int], *, lock: str = "none") -> dict[int, Event]:
        ev = self._s.events
        return {i: ev[i] for i in sorted(set(event_ids)) if i in ev}

    async def update(self, event: Event) -> None:
        old = self._s.events[event.id]
        kept = dataclasses.replace(event, outcomes=old.outcomes, bet_count=old.bet_count)
        set_undoable(self._s.events, self._undo, event.id, kept)

    async def replace_outcomes(self, event_id: int, names: Sequence[str]) -> tuple[Outcome, ...]:
        old = self._s.events[event_id]
        outcomes = self._outcomes(names)
        set_undoable(
            self._s.events, self._undo, event_id, dataclasses.replace(old, outcomes=outcomes)
        )
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
            set_undoable(s.bets, self._undo, bid, bet)
            set_undoable(s.bet_index, self._undo, key, bid)
            ev = s.events[nb.event_id]
            set_undoable(
                s.events, self._undo, ev.id, dataclasses.replace(ev, bet_count=ev.bet_count + 1)
            )
            out.append(bet)
        return out

    async def top_up(self, bets: Sequence[tuple[int, int]], now: datetime) -> None:
        for bid, amount in bets:
            b = self._s.bets[bid]
            new = dataclasses.replace(
                b, amount=b.amount + amount, placements=b.placements + 1, updated_at=now
            )
            set_undoable(self._s.bets, self._undo, bid, new)

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
            set_undoable(
                self._s.events, self._undo, ev.id, dataclasses.replace(ev, outcomes=tuple(outcomes))
            )

    async def read_bet_batch(
        self,
        event_ids: Sequence[int],
        pairs: Sequence[tuple[int, int]],
        transfer_ids: Sequence[str],
        wallets: Sequence[tuple[int, str]] = (),
        users: Sequence[int] = (),
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
            {i: dataclasses.replace(u) for i in users if (u := self._s.users.get(i)) is not None},
        )

    async def write_bet_batch(
        self,
        new: Sequence[NewBet],
        topups: Sequence[tuple[int, int]],
        deltas: Sequence[PoolDelta],
        now: datetime,
        *,
        ids: Sequence[int] = (),
    ) -> list[Bet]:
        added = await self.add_bets(new)  # ids: PostgreSQL's reserved ones, not used here
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
            set_undoable(self._s.bets, self._undo, r.bet_id, new)

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

"""Pari-mutuel events, their outcomes and bets (``uow.events``) on the SQL unit of work's
connection (event chat is ``chat.py``).

Locks (PostgreSQL; SQLite runs one writer at a time with ``BEGIN IMMEDIATE`` and ignores them):

* ``lock="share"`` (bet batches) takes ``FOR KEY SHARE`` on the event rows, in id order. Not
  ``FOR SHARE``: a bet batch also increments ``events.bet_count``, and two batches holding
  ``FOR SHARE`` on one row would deadlock on that UPDATE. ``FOR KEY SHARE`` lets bet batches
  run together (their row updates queue one behind the other) and conflicts with
  ``FOR UPDATE``, so a status change waits for the batches in flight and new ones wait for it.
  It is one statement: the outcomes come along as JSON, read from the statement's snapshot, so
  their pool totals may miss batches that committed while this one waited for the lock (the
  totals are only ever incremented in SQL, never written back from these values), and an edit
  that replaced them meanwhile shows as a bet on a deleted outcome: ``add_bets`` reports the
  foreign-key failure as ``TransientStoreError``, and the retry reads the new outcomes.
* ``lock="update"`` (status changes) takes ``FOR UPDATE`` in id order, then reads the events and
  their outcomes with a fresh snapshot: every bet committed before the lock is counted.
* ``claim_due`` takes ``FOR UPDATE SKIP LOCKED``: rows another runner (or a bet batch) holds
  are skipped, and picked up by a later pass.

The bets (their batches' reads and writes, results, listings) are ``bets.py``'s ``SqlBets``,
the base class; the row conversions both use are ``events_rows.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row

from ...domain.events import Event, EventDraft, EventStatus, Outcome
from .bets import SqlBets
from .events_rows import _LOCKS, _chunks, _event, _outcome
from .session import int_array
from .session import utc as _utc
from .tables import event_outcomes, events

__all__ = ["SqlEvents"]

# -- PostgreSQL statements ---------------------------------------------------------------------

_ids_param = cast(bindparam("ids", type_=String), postgresql.ARRAY(BigInteger))


def _pg_read(lock: str) -> Any:
    """Events by id with their outcomes as one JSON array each, in ONE statement; with
    ``lock="share"`` the event rows are locked ``FOR KEY SHARE`` in id order on the way."""
    inner = select(events).where(events.c.id == any_(_ids_param)).order_by(events.c.id)
    if lock == "share":
        inner = inner.with_for_update(read=True, key_share=True)
    e = inner.subquery("e")
    o = event_outcomes
    outcomes = (
        select(
            func.json_agg(
                postgresql.aggregate_order_by(
                    func.json_build_array(o.c.id, o.c.name, o.c.position, o.c.total, o.c.bettors),
                    o.c.position,
                )
            )
        )
        .where(o.c.event_id == e.c.id)
        .scalar_subquery()
    )
    return select(e, outcomes.label("outcomes")).order_by(e.c.id)


_PG_READ = {lock: _pg_read(lock) for lock in ("none", "share")}
_PG_LOCK_FOR_UPDATE = (
    select(events.c.id).where(events.c.id == any_(_ids_param)).order_by(events.c.id)
).with_for_update()

# the partial index ix_events_unresolved has exactly this predicate: literal, so that the
# planner can match it whatever the parameters
_UNRESOLVED = text("events.status IN ('scheduled', 'open', 'locked', 'settling', 'voiding')")


class SqlEvents(SqlBets):
    """Events and their outcomes (``uow.events``), with the bets of ``SqlBets``."""

    async def add(
        self, draft: EventDraft, *, escrow_account_id: int, created_by: int | None, now: datetime
    ) -> Event:
        if draft.betting_locked_at is None or draft.settle_deadline is None:
            raise ValueError("the store takes validated drafts (validate_draft)")
        values = {
            "title": draft.title,
            "description": draft.description,
            "stream_type": draft.stream_type.value,
            "stream_url": draft.stream_url,
            "currency": draft.currency,
            "min_stake": draft.min_stake,
            "max_stake": draft.max_stake,
            "rake_bps": draft.rake_bps,
            "start_time": _utc(draft.start_time),
            "betting_locked_at": _utc(draft.betting_locked_at),
            "settle_deadline": _utc(draft.settle_deadline),
            "allow_topup": draft.allow_topup,
            "status": draft.status.value,
            "escrow_account_id": escrow_account_id,
            "created_by": created_by,
            "winning_outcome_id": None,
            "locked_at": None,
            "resolved_at": None,
            "created_at": _utc(now),
            "updated_at": _utc(now),
            "bet_count": 0,
        }
        event_id = (
            await self._c.execute(insert(events).values(values).returning(events.c.id))
        ).scalar_one()
        outcomes = await self._insert_outcomes(event_id, draft.outcomes)
        return _event({"id": event_id, **values}, outcomes)

    async def _insert_outcomes(self, event_id: int, names: Sequence[str]) -> tuple[Outcome, ...]:
        rows = await self._c.execute(
            insert(event_outcomes).returning(event_outcomes.c.id, event_outcomes.c.position),
            [
                {"event_id": event_id, "name": n, "position": i, "total": 0, "bettors": 0}
                for i, n in enumerate(names)
            ],
        )
        ids = {r.position: r.id for r in rows}
        return tuple(Outcome(ids[i], n, i) for i, n in enumerate(names))

    async def get(self, event_id: int, *, lock: str = "none") -> Event | None:
        return (await self.get_many([event_id], lock=lock)).get(event_id)

    async def get_many(self, event_ids: Sequence[int], *, lock: str = "none") -> dict[int, Event]:
        if lock not in _LOCKS:
            raise ValueError(f"lock must be one of {_LOCKS}")
        ids = sorted(set(event_ids))
        if not ids:
            return {}
        if self._pg and lock == "update":  # lock first, then read with a fresh snapshot
            await self._c.execute(_PG_LOCK_FOR_UPDATE, {"ids": int_array(ids)})
            lock = "none"
        return await self._read(ids, lock)

    async def _read(self, ids: Sequence[int], lock: str = "none") -> dict[int, Event]:
        """Events (in id order) with their outcomes."""
        if self._pg:
            rows = await self._c.execute(_PG_READ[lock], {"ids": int_array(ids)})
            return {
                r.id: _event(r._mapping, tuple(_outcome(o) for o in r.outcomes or ())) for r in rows
            }
        found: list[Row[Any]] = []
        for part in _chunks(ids):
            found += await self._c.execute(
                select(events).where(events.c.id.in_(part)).order_by(events.c.id)
            )
        return await self._with_outcomes(found)

    async def _with_outcomes(self, rows: Sequence[Row[Any]]) -> dict[int, Event]:
        """SQLite: the outcomes of these event rows, in a second statement."""
        by_event: dict[int, list[Outcome]] = {r.id: [] for r in rows}
        o = event_outcomes
        for part in _chunks(list(by_event)):
            q = (
                select(o.c.event_id, o.c.id, o.c.name, o.c.position, o.c.total, o.c.bettors)
                .where(o.c.event_id.in_(part))
                .order_by(o.c.event_id, o.c.position)
            )
            for r in await self._c.execute(q):
                by_event[r[0]].append(_outcome(r[1:]))
        return {r.id: _event(r._mapping, tuple(by_event[r.id])) for r in rows}

    async def update(self, event: Event) -> None:
        await self._c.execute(
            update(events)
            .where(events.c.id == event.id)
            .values(
                title=event.title,
                description=event.description,
                stream_type=event.stream_type.value,
                stream_url=event.stream_url,
                currency=event.currency,
                min_stake=event.min_stake,
                max_stake=event.max_stake,
                rake_bps=event.rake_bps,
                start_time=event.start_time,
                betting_locked_at=event.betting_locked_at,
                settle_deadline=event.settle_deadline,
                allow_topup=event.allow_topup,
                status=event.status.value,
                escrow_account_id=event.escrow_account_id,
                created_by=event.created_by,
                winning_outcome_id=event.winning_outcome_id,
                locked_at=event.locked_at,
                resolved_at=event.resolved_at,
                created_at=event.created_at,
                updated_at=event.updated_at,
            )
        )

    async def replace_outcomes(self, event_id: int, names: Sequence[str]) -> tuple[Outcome, ...]:
        await self._c.execute(delete(event_outcomes).where(event_outcomes.c.event_id == event_id))
        return await self._insert_outcomes(event_id, names)

    async def list_events(
        self,
        *,
        statuses: Sequence[EventStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Event]:
        q = select(events.c.id).order_by(events.c.id.desc()).limit(limit)
        if statuses is not None:
            q = q.where(events.c.status.in_([s.value for s in statuses]))
        if before_id is not None:
            q = q.where(events.c.id < before_id)
        ids = [r.id for r in await self._c.execute(q)]
        found = await self._read(ids) if ids else {}
        return [found[i] for i in ids if i in found]

    async def claim_due(self, now: datetime, stale_before: datetime, limit: int) -> list[Event]:
        s = events.c
        q = (
            select(s.id)
            .where(
                _UNRESOLVED,
                or_(
                    and_(
                        s.status.in_(("scheduled", "open")),
                        or_(s.betting_locked_at <= now, s.start_time <= now),
                    ),
                    and_(s.status.in_(("scheduled", "open", "locked")), s.settle_deadline <= now),
                    and_(s.status.in_(("settling", "voiding")), s.updated_at < stale_before),
                ),
            )
            .order_by(s.id)
            .limit(limit)
        )
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        ids = [r.id for r in await self._c.execute(q)]
        if not ids:
            return []
        found = await self._read(ids)  # a fresh snapshot: the rows as locked
        return [found[i] for i in ids if i in found]

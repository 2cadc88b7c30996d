"""Pari-mutuel events: operators create, open, lock, settle and void; players bet (docs/events.md).

Money: each event has its own ``escrow`` account (no negative balance allowed); stakes go
wallet → escrow, payouts and refunds escrow → bettor, the rake escrow → house, all with ids
from ``domain/refs.py``. The service is one class in three parts: ``operations`` (reading and
the operator's steps before the result), ``settlement`` (settle and void on the shared payout
runner) and ``betting`` (the bet path on the shared group commit); ``live`` registers what the
area sends to Socket.IO rooms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ...domain.identity import Actor, User
from ..base import Deps
from ..groupcommit import GroupCommit
from ..payouts import Progress
from .betting import BetReceipt, EventBetting
from .operations import EventChanges, EventOperations
from .settlement import EventSettlement, SettlementReport

__all__ = ["BetReceipt", "EventChanges", "EventService", "Progress", "SettlementReport"]


class EventService(EventOperations, EventSettlement, EventBetting):
    """The events area's use cases (see the package docstring and docs/events.md)."""

    def __init__(
        self,
        deps: Deps,
        *,
        limit: Callable[[Actor, str], Awaitable[None]] | None = None,
        claims: Callable[[str], tuple[int, str]] | None = None,
        admit: Callable[[User | None, str], Actor] | None = None,
    ) -> None:
        self._d = deps
        self._limit = limit
        self._claims = claims
        self._admit = admit
        self._bets = GroupCommit(
            self._run_batch,
            max_batch=512,
            conflict_key=lambda c: (c.event_id, c.user_id),  # one bet per user and event
            after=self._after_batch,
        )
        self.chunk_size = 5000
        self.stale_after_seconds = 60

"""Raffles: categories, ticket sales, close, verifiable draws and prizes (docs/raffles.md).

Money: each raffle has its own ``escrow`` account (never negative); ticket purchases go
wallet → escrow, prizes escrow → winners, the rake escrow → house (refunds escrow → buyer),
all with ids ``raffles:<kind>:…`` (``domain/refs.py``). The service is one class in three
parts: ``operations`` (categories, create, update, reading), ``buying`` (purchases on the
shared group commit) and ``drawing`` (close, void, draw, correct, pay on the shared payout
runner, the public record and verify); ``due`` is its job-runner source and ``live`` what it
sends to Socket.IO rooms.
"""

from __future__ import annotations

from collections.abc import Callable

from ...domain.identity import Actor, User
from ...ports import RandomnessBeacon
from ..base import Deps
from ..groupcommit import GroupCommit
from .buying import Purchase, RaffleBuying
from .drawing import RaffleDrawing
from .due import RafflesDue, RafflesDueWork
from .operations import RaffleChanges, RaffleOperations

__all__ = ["Purchase", "RaffleChanges", "RaffleService", "RafflesDue", "RafflesDueWork"]


class RaffleService(RaffleOperations, RaffleBuying, RaffleDrawing):
    """The raffles area's use cases (see the package docstring and docs/raffles.md).

    ``beacon`` (a ``RandomnessBeacon``, e.g. the drand adapter) fetches and verifies drand
    rounds; without it a beacon draw takes its public value as text."""

    def __init__(
        self,
        deps: Deps,
        *,
        beacon: RandomnessBeacon | None = None,
        claims: Callable[[str], tuple[int, str]] | None = None,
        admit: Callable[[User | None, str], Actor] | None = None,
    ) -> None:
        self._d = deps
        self._beacon = beacon
        self._claims = claims
        self._admit = admit
        self._shape = {}
        self._buys = GroupCommit(
            self._run_buys,
            max_batch=512,
            conflict_key=lambda c: (c.raffle_id, c.user_id),  # the per-user limit
            after=self._after_buys,
        )
        self.chunk_size = 5000
        self.stale_after_seconds = 60
        self.correction_seconds = 3600
        self.max_per_purchase = 1000

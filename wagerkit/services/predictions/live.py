"""What the predictions area sends live (docs/predictions.md, docs/realtime.md).

``register_prediction_updates(live, service)`` is the area's one registration on
``LiveUpdates``:

- ``RoundChanged`` → ``round_update`` (the round's view: pool, lock and close prices) to the
  round's room ``round:<id>`` and to ``rounds:<symbol>`` (where clients learn of new rounds);
  pool changes of an open round are coalesced, status changes (locked, settled, voided) go
  at once;
- ``ContractsResolved`` → ``contract_result`` (the contract's view, seed 004's ``status``,
  ``result``, ``profit`` included) to each owner's ``user:<id>`` room.

``balance_update`` follows every wallet change through the shared ``WalletChanged`` handling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...domain.predictions import ContractsResolved, RoundChanged, RoundStatus
from ..realtime import user_room
from .common import contract_view, round_view

if TYPE_CHECKING:
    from ..realtime import LiveUpdates
    from . import PredictionService

__all__ = [
    "CONTRACT_RESULT",
    "ROUND_UPDATE",
    "register_prediction_updates",
    "round_room",
    "symbol_rounds_room",
]

ROUND_UPDATE = "round_update"
CONTRACT_RESULT = "contract_result"
_MAX_RESULTS = 2000  # per notification: a huge settlement pass pushes no flood


def round_room(round_id: int | str) -> str:
    """The room of one round's watchers."""
    return f"round:{round_id}"


def symbol_rounds_room(symbol: str) -> str:
    """The room of a symbol's rounds (every round's updates, new rounds included)."""
    return f"rounds:{symbol}"


class _PredictionUpdates:
    def __init__(self, live: LiveUpdates, service: PredictionService) -> None:
        self.live = live
        self.service = service

    async def round_changed(self, note: RoundChanged) -> None:
        rid = note.round_id

        async def read() -> tuple[str, dict[str, Any]] | None:
            r = await self.service.get_round(rid)
            if r.status is not RoundStatus.OPEN:
                return None  # a later status change went (or goes) out at once
            return ROUND_UPDATE, round_view(r)

        if note.status is RoundStatus.OPEN:
            await self.live.coalesced(round_room(rid), read)
            await self.live.coalesced(symbol_rounds_room(note.symbol), read)
            return
        view = round_view(await self.service.get_round(rid))
        await self.live.send(ROUND_UPDATE, view, round_room(rid))
        await self.live.send(ROUND_UPDATE, view, symbol_rounds_room(note.symbol))

    async def contracts_resolved(self, note: ContractsResolved) -> None:
        from ...domain.identity import Actor

        staff = Actor.system("live")
        for user_id, contract_id in note.contracts[:_MAX_RESULTS]:
            c = await self.service.get(staff, contract_id)
            await self.live.send(CONTRACT_RESULT, contract_view(c), user_room(user_id))


def register_prediction_updates(live: LiveUpdates, service: PredictionService) -> None:
    """The predictions area's live updates (rounds, contract results), registered on
    ``live``."""
    updates = _PredictionUpdates(live, service)
    live.on(RoundChanged, updates.round_changed)
    live.on(ContractsResolved, updates.contracts_resolved)

"""What the raffles area sends live (docs/realtime.md): the ``raffle:<id>`` room's messages.

``register_raffle_updates(live, raffles)`` is the area's one registration on ``LiveUpdates``:

- ``RaffleSold`` → ``raffle_update`` (status and sold count), coalesced per raffle room
  (``LiveUpdates.coalesced``), read when it is sent;
- ``RaffleClosed`` → a last ``raffle_update`` and ``raffle_closed`` with the commitment
  (or the void);
- ``RaffleDrawn`` → ``raffle_drawn`` with the winners and their prizes (``paid``: the prizes
  are in the winners' wallets; the ``WalletChanged`` of the payout sends their
  ``balance_update``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...domain.raffles import Raffle, RaffleClosed, RaffleDrawn, RaffleSold

if TYPE_CHECKING:
    from ..realtime import LiveUpdates
    from . import RaffleService

__all__ = [
    "RAFFLE_CLOSED",
    "RAFFLE_DRAWN",
    "RAFFLE_UPDATE",
    "raffle_payload",
    "raffle_room",
    "register_raffle_updates",
]

RAFFLE_UPDATE = "raffle_update"
RAFFLE_CLOSED = "raffle_closed"
RAFFLE_DRAWN = "raffle_drawn"


def raffle_room(raffle_id: int | str) -> str:
    """The room of one raffle's watchers."""
    return f"raffle:{raffle_id}"


def raffle_payload(r: Raffle) -> dict[str, Any]:
    """The live view of a raffle (``raffle_update`` and the ``join_raffle`` answer)."""
    return {
        "raffle_id": r.id,
        "name": r.name,
        "status": r.status.value,
        "sold": r.sold,
        "capacity": r.capacity,
        "free": r.free,
        "currency": r.currency,
        "ticket_price": r.price,
        "end": r.end.isoformat(),
        "commitment": r.commitment,
    }


def _winners(r: Raffle) -> list[dict[str, Any]]:
    return [
        {"place": i, "number": n, "label": r.label(n), "user_id": u, "prize": p}
        for i, (n, u, p) in enumerate(r.winners, start=1)
    ]


class _RaffleUpdates:
    def __init__(self, live: LiveUpdates, raffles: RaffleService) -> None:
        self.live = live
        self.raffles = raffles

    async def sold(self, note: RaffleSold) -> None:
        raffle_id = note.raffle_id

        async def read() -> tuple[str, dict[str, Any]] | None:
            r = await self.raffles.get(raffle_id)
            return RAFFLE_UPDATE, raffle_payload(r)

        await self.live.coalesced(raffle_room(raffle_id), read)

    async def closed(self, note: RaffleClosed) -> None:
        r = await self.raffles.get(note.raffle_id)
        room = raffle_room(r.id)
        await self.live.send(RAFFLE_UPDATE, raffle_payload(r), room)
        data = {
            "raffle_id": r.id,
            "status": note.status.value,
            "commitment": note.commitment,
            "sold": r.sold,
            "void_reason": r.void_reason,
        }
        await self.live.send(RAFFLE_CLOSED, data, room)

    async def drawn(self, note: RaffleDrawn) -> None:
        r = await self.raffles.get(note.raffle_id)
        data = {
            "raffle_id": r.id,
            "status": r.status.value,
            "commitment": r.commitment,
            "public_value": r.public_value,
            "drawn_numbers": list(r.drawn_numbers),
            "winners": _winners(r),
            "paid": note.paid,
        }
        await self.live.send(RAFFLE_DRAWN, data, raffle_room(r.id))


def register_raffle_updates(live: LiveUpdates, raffles: RaffleService) -> None:
    """The raffles area's live updates (sold counts, close, draw), registered on ``live``."""
    updates = _RaffleUpdates(live, raffles)
    live.on(RaffleSold, updates.sold)
    live.on(RaffleClosed, updates.closed)
    live.on(RaffleDrawn, updates.drawn)

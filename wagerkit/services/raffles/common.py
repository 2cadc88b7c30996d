"""What the raffles area's use cases share: the ports, settings, look-ups and ids."""

from __future__ import annotations

from collections.abc import Callable

from ...domain.audit import AuditRecord
from ...domain.errors import RaffleNotFound
from ...domain.identity import Actor, User
from ...domain.raffles import Raffle, RaffleCategory
from ...domain.refs import Area, transfer_id
from ...ports import RandomnessBeacon, UnitOfWork
from ..base import Deps

__all__ = ["RafflesBase", "get_raffle", "raffle_ref", "raffle_tid"]


def raffle_ref(raffle_id: int) -> str:
    """A raffle as a ledger reference and an audit target."""
    return f"raffle:{raffle_id}"


def raffle_tid(kind: str, *parts: int | str) -> str:
    """A raffles transfer id: ``raffles:<kind>:<parts>`` (``domain/refs.py``)."""
    return transfer_id(Area.RAFFLES, kind, *parts)


def _check_id(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RaffleNotFound(f"no {what} {str(value)[:40]!r}")
    return value


async def get_raffle(uow: UnitOfWork, raffle_id: int, lock: str = "none") -> Raffle:
    raffle = await uow.raffles.get(_check_id(raffle_id, "raffle"), lock=lock)
    if raffle is None:
        raise RaffleNotFound(f"no raffle {raffle_id}")
    return raffle


async def get_category(uow: UnitOfWork, category_id: int) -> RaffleCategory:
    category = await uow.raffles.get_category(_check_id(category_id, "category"))
    if category is None:
        raise RaffleNotFound(f"no raffle category {category_id}")
    return category


class RafflesBase:
    """The state every part of ``RaffleService`` reads (set by its constructor)."""

    _d: Deps
    _beacon: RandomnessBeacon | None
    _claims: Callable[[str], tuple[int, str]] | None
    _admit: Callable[[User | None, str], Actor] | None
    chunk_size: int
    stale_after_seconds: int
    correction_seconds: int
    max_per_purchase: int

    def _audit(
        self, actor: Actor, action: str, raffle_id: int, reason: str, **details: str
    ) -> AuditRecord:
        return AuditRecord(
            self._d.clock.now(),
            actor.user_id,
            actor.name,
            action,
            raffle_ref(raffle_id),
            reason[:500],
            dict(details),
        )

"""Raffles: categories (staff CRUD), raffle create / update / list / show, tickets lists."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ...domain.errors import InvalidInput, RaffleStateConflict
from ...domain.identity import Actor
from ...domain.ledger import AccountFlags, AccountKind
from ...domain.raffles import (
    DrawMode,
    Raffle,
    RaffleCategory,
    RaffleCategoryDraft,
    RaffleDraft,
    RaffleStatus,
    Ticket,
    check_category,
    check_raffle,
)
from ...ports import UnitOfWork
from ..base import check_page_limit
from .common import RafflesBase, get_category, get_raffle

__all__ = ["RaffleChanges", "RaffleOperations"]


@dataclass(frozen=True, slots=True)
class RaffleChanges:
    """An edit before the first sale: the fields given (not None) change."""

    name: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    min_tickets: int | None = None
    max_per_user: int | None = None
    draw_mode: DrawMode | None = None
    lottery_name: str | None = None
    lottery_schedule: str | None = None
    lottery_url: str | None = None


class RaffleOperations(RafflesBase):
    # -- categories (staff) ---------------------------------------------------------------
    async def create_category(self, actor: Actor, draft: RaffleCategoryDraft) -> RaffleCategory:
        actor.require_staff()
        draft = dataclasses.replace(draft, currency=self._d.currencies[draft.currency].code)
        draft = check_category(draft)

        async def work(uow: UnitOfWork) -> RaffleCategory:
            c = await uow.raffles.add_category(draft, self._d.clock.now())
            await uow.audit.add(
                self._audit(actor, "raffle.category_create", 0, "", category=str(c.id))
            )
            return c

        return await self._d.transaction(work)

    async def update_category(
        self, actor: Actor, category_id: int, draft: RaffleCategoryDraft
    ) -> RaffleCategory:
        """Replace a category's terms (raffles made from it keep their own copy)."""
        actor.require_staff()
        draft = dataclasses.replace(draft, currency=self._d.currencies[draft.currency].code)
        draft = check_category(draft)

        async def work(uow: UnitOfWork) -> RaffleCategory:
            old = await get_category(uow, category_id)
            new = RaffleCategory(
                old.id, draft.name, draft.ticket_price, draft.capacity, draft.winners,
                draft.rake_bps, draft.split, draft.prize_mode, draft.colour, draft.currency,
                old.created_at,
            )  # fmt: skip
            await uow.raffles.update_category(new)
            await uow.audit.add(
                self._audit(actor, "raffle.category_update", 0, "", category=str(old.id))
            )
            return new

        return await self._d.transaction(work)

    async def delete_category(self, actor: Actor, category_id: int) -> RaffleCategory:
        """Delete a category (staff, audited); returns it as it was."""
        actor.require_staff()

        async def work(uow: UnitOfWork) -> RaffleCategory:
            category = await get_category(uow, category_id)
            await uow.raffles.delete_category(category_id)
            await uow.audit.add(
                self._audit(actor, "raffle.category_delete", 0, "", category=str(category_id))
            )
            return category

        return await self._d.transaction(work)

    async def get_category(self, category_id: int) -> RaffleCategory:
        async def work(uow: UnitOfWork) -> RaffleCategory:
            return await get_category(uow, category_id)

        return await self._d.transaction(work)

    async def list_categories(self) -> list[RaffleCategory]:
        async def work(uow: UnitOfWork) -> list[RaffleCategory]:
            return await uow.raffles.list_categories()

        return await self._d.transaction(work)

    # -- raffles (staff) ------------------------------------------------------------------
    async def create(self, actor: Actor, draft: RaffleDraft) -> Raffle:
        """A raffle from a category (its terms copied in), open for sales in its window."""
        actor.require_staff()
        owner = f"raffle:{self._d.ids.new_id('escrow')}"  # a fresh escrow per raffle

        async def work(uow: UnitOfWork) -> Raffle:
            category = await get_category(uow, draft.category_id)
            d = check_raffle(draft, category)
            if d.end <= self._d.clock.now():
                raise InvalidInput("end must be in the future")
            escrow = await uow.ledger.open_account(
                AccountKind.ESCROW,
                owner,
                category.currency,
                AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
            )
            raffle = await uow.raffles.add(
                d, category, escrow_account_id=escrow.id, now=self._d.clock.now()
            )
            await uow.audit.add(
                self._audit(actor, "raffle.create", raffle.id, "", name=raffle.name[:100])
            )
            return raffle

        return await self._d.transaction(work)

    async def update(self, actor: Actor, raffle_id: int, changes: RaffleChanges) -> Raffle:
        """Change a raffle's fields while it is open and nothing is sold."""
        actor.require_staff()

        async def work(uow: UnitOfWork) -> Raffle:
            r = await get_raffle(uow, raffle_id, "update")
            if r.status is not RaffleStatus.OPEN or r.sold:
                raise RaffleStateConflict(f"raffle {r.id} can be edited only before sales")
            given = {k: v for k, v in dataclasses.asdict(changes).items() if v is not None}
            d = RaffleDraft(
                name=given.get("name", r.name),
                category_id=r.category.id,
                start=given.get("start", r.start),
                end=given.get("end", r.end),
                min_tickets=given.get("min_tickets", r.min_tickets),
                max_per_user=given.get("max_per_user", r.max_per_user),
                draw_mode=given.get("draw_mode", r.draw_mode),
                lottery_name=given.get("lottery_name", r.lottery_name),
                lottery_schedule=given.get("lottery_schedule", r.lottery_schedule),
                lottery_url=given.get("lottery_url", r.lottery_url),
            )
            d = check_raffle(d, r.category)
            now = self._d.clock.now()
            if d.end <= now:
                raise InvalidInput("end must be in the future")
            assert d.min_tickets is not None
            assert d.max_per_user is not None
            new = dataclasses.replace(
                r,
                name=d.name,
                start=d.start,
                end=d.end,
                min_tickets=d.min_tickets,
                max_per_user=d.max_per_user,
                draw_mode=d.draw_mode,
                lottery_name=d.lottery_name,
                lottery_schedule=d.lottery_schedule,
                lottery_url=d.lottery_url,
                updated_at=now,
            )
            await uow.raffles.update(new)
            await uow.audit.add(
                self._audit(actor, "raffle.update", r.id, "", fields=",".join(sorted(given)))
            )
            return new

        return await self._d.transaction(work)

    # -- reading (public) -----------------------------------------------------------------
    async def get(self, raffle_id: int) -> Raffle:
        async def work(uow: UnitOfWork) -> Raffle:
            return await get_raffle(uow, raffle_id)

        return await self._d.transaction(work)

    async def sold_numbers(self, raffle_id: int) -> list[int]:
        async def work(uow: UnitOfWork) -> list[int]:
            await get_raffle(uow, raffle_id)
            return await uow.raffles.sold_numbers(raffle_id)

        return await self._d.transaction(work)

    async def list_raffles(
        self,
        *,
        statuses: Sequence[RaffleStatus] | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Raffle]:
        check_page_limit(limit)

        async def work(uow: UnitOfWork) -> list[Raffle]:
            return await uow.raffles.list_raffles(
                statuses=statuses, limit=limit, before_id=before_id
            )

        return await self._d.transaction(work)

    async def tickets(
        self,
        actor: Actor,
        *,
        raffle_id: int | None = None,
        user_id: int | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Ticket]:
        """A player sees its own tickets; staff see anyone's (``user_id=None``: all)."""
        user_id = actor.visible_user(user_id)
        check_page_limit(limit)

        async def work(uow: UnitOfWork) -> list[Ticket]:
            return await uow.raffles.list_tickets(
                raffle_id=raffle_id, user_id=user_id, limit=limit, before_id=before_id
            )

        return await self._d.transaction(work)

"""Users: create (with the welcome grant), look up, list. Identity proper (Telegram, passwords,
sessions) builds on this."""

from __future__ import annotations

from ..domain.audit import AuditRecord
from ..domain.errors import InvalidInput, UserNotFound
from ..domain.identity import Actor, Role, User, validate_display_name
from ..domain.ledger import AccountKind, TransferRequest
from ..domain.notifications import WalletChanged
from ..domain.refs import welcome_id
from ..ports import NewUser, UnitOfWork
from .accounts import system_account, user_wallet
from .base import Deps

__all__ = ["UserService"]


class UserService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def add(
        self,
        actor: Actor,
        display_name: str,
        *,
        role: Role = Role.PLAYER,
        username: str | None = None,
        email: str | None = None,
        telegram_id: int | None = None,
        whitelisted: bool = False,
        welcome_grant: bool = True,
    ) -> User:
        """Create a user (staff only), open its default wallet and pay the welcome grant once."""
        actor.require_staff()
        if role is not Role.PLAYER:
            actor.require_admin()
        name = validate_display_name(display_name)
        if username is not None and not (1 <= len(username) <= 64 and username.isprintable()):
            raise InvalidInput("username must be 1-64 printable characters")

        async def work(uow: UnitOfWork) -> User:
            return await self.create_in(
                uow,
                NewUser(
                    display_name=name,
                    role=role,
                    created_at=self._d.clock.now(),
                    username=username,
                    email=email,
                    telegram_id=telegram_id,
                    whitelisted=whitelisted,
                ),
                actor,
                grant=welcome_grant,
            )

        user = await self._d.transaction(work)
        await self._d.publisher.publish(WalletChanged((user.id,)))
        return user

    async def create_in(
        self,
        uow: UnitOfWork,
        new: NewUser,
        actor: Actor,
        *,
        grant: bool = True,
        details: dict[str, str] | None = None,
    ) -> User:
        """Inside ``uow``: insert the user, open its wallets, pay the welcome grant (once: the
        grant's transfer id is derived from the user id) and audit the creation. The one way
        every service creates users; authorisation is the caller's job."""
        user = await uow.users.add(new)
        await self._open_wallets(uow, user, grant=grant)
        await uow.audit.add(
            AuditRecord(
                new.created_at,
                actor.user_id,
                actor.name,
                "user.create",
                user.owner_ref,
                "",
                {"role": new.role.value, **(details or {})},
            )
        )
        return user

    async def _open_wallets(self, uow: UnitOfWork, user: User, *, grant: bool) -> None:
        grants = (
            {self._d.currencies[c].code: a for c, a in self._d.welcome_grant.items()}
            if grant
            else {}
        )
        for code in sorted({self._d.currencies.default.code, *grants}):
            wallet = await user_wallet(uow, user.id, code)
            amount = grants.get(code, 0)
            if amount > 0:
                treasury = await system_account(uow, AccountKind.TREASURY, code)
                results = await uow.ledger.apply(
                    [
                        TransferRequest(
                            id=welcome_id(user.id, code),
                            debit_account_id=treasury.id,
                            credit_account_id=wallet.id,
                            amount=amount,
                            code="grant",
                            reference=user.owner_ref,
                            memo="welcome grant",
                        )
                    ],
                    self._d.clock.now(),
                )
                results[0].unwrap()

    async def get(self, actor: Actor, user_id: int) -> User:
        actor.require_self_or_staff(user_id)
        async with self._d.uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise UserNotFound(f"no user {user_id}")
        return user

    async def list(self, actor: Actor, *, limit: int = 100, offset: int = 0) -> list[User]:
        actor.require_staff()
        if not 1 <= limit <= 1000 or offset < 0:
            raise InvalidInput("limit must be 1-1000 and offset not negative")
        async with self._d.uow() as uow:
            return await uow.users.list(limit=limit, offset=offset)

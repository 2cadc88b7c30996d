"""Accounts, sessions, roles and rate limits (SPEC section 2).

* **Password accounts**: ``register`` and ``login`` with a username or an e-mail address. Hashes
  come from the ``PasswordHasher`` port (argon2id in ``wagerkit.adapters.passwords``); hashing
  runs in a worker thread so the event loop keeps serving. An unknown login and a wrong password
  get the same ``InvalidCredentials`` after the same amount of hashing work.
* **Telegram**: ``sign_in_telegram`` takes an identity already verified by
  ``wagerkit.domain.telegram`` and creates the user on its first sign-in (welcome grant once).
* **Sessions**: ``Session.access_token`` comes from the ``TokenService`` port (a JWT in
  ``wagerkit.adapters.tokens``). ``authenticate`` verifies it and then reads the user fresh
  from the store every time, so a ban, a demotion or a whitelist change takes effect at once.
* **Policy**: ``IdentityPolicy`` says which Telegram ids are bootstrap admins, whether whitelist
  mode is on, and the per-action rate limits. It, the name and password rules and the
  in-process rate limiter live in ``identity_rules.py`` (re-exported here).
* **Admin use cases** (``set_role``, ``ban``, ``unban``, ``set_whitelisted``, ``create_admin``)
  check authorisation here, whichever adapter calls, and write an audit entry each.

The rules chosen where the SPEC is silent are written down in docs/auth.md ("Accounts, sessions
and roles").
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from ..domain.audit import AuditRecord
from ..domain.errors import (
    AccountBanned,
    AlreadyExists,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    NotWhitelisted,
    PermissionDenied,
    TokenInvalid,
    TransientStoreError,
    UserNotFound,
)
from ..domain.identity import Actor, Role, User, UserStatus, validate_display_name
from ..domain.notifications import UserChanged, WalletChanged
from ..domain.text import clean_reason
from ..ports import NewUser, PasswordHasher, TokenService, UnitOfWork
from .base import Coalescer, Deps
from .identity_rules import (
    DEFAULT_LIMITS,
    PASSWORD_MAX,
    IdentityPolicy,
    LocalRateLimiter,
    Session,
    normalize_email,
    normalize_username,
    password_version,
    validate_password,
)
from .users import UserService

if TYPE_CHECKING:
    from ..domain.telegram import TelegramIdentity

__all__ = [
    "DEFAULT_LIMITS",
    "HASHING_SLOTS",
    "IdentityPolicy",
    "IdentityService",
    "LocalRateLimiter",
    "Session",
    "normalize_email",
    "normalize_username",
    "password_version",
    "validate_password",
]

T = TypeVar("T")

_GENERIC_DUPLICATE = "an account with this username or e-mail address already exists"
HASHING_SLOTS = 4
"""At most this many password hashes/verifications run at once per service (argon2id takes
64 MiB each): a flood queues instead of exhausting memory."""


def _reason(reason: str) -> str:
    return clean_reason(reason)


class IdentityService:
    def __init__(
        self, deps: Deps, users: UserService, policy: IdentityPolicy | None = None
    ) -> None:
        self._d = deps
        self._users = users
        self.policy = policy or IdentityPolicy()
        self._local_limiter = LocalRateLimiter()
        self._dummy_hash: str | None = None
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        # concurrent ``authenticate`` calls read their users in one query (one in flight)
        self._user_reads: Coalescer[int, User] = Coalescer(self._fetch_users)

    async def _fetch_users(self, user_ids: Sequence[int]) -> dict[int, User]:
        return await self._read(lambda uow: uow.users.get_many(user_ids))

    # -- ports --------------------------------------------------------------------------
    @property
    def _hasher(self) -> PasswordHasher:
        if self._d.passwords is None:
            raise RuntimeError(
                "no password hasher configured: pass passwords="
                "wagerkit.adapters.passwords.Argon2PasswordHasher() to WagerKit"
            )
        return self._d.passwords

    @property
    def _tokens(self) -> TokenService:
        if self._d.tokens is None:
            raise RuntimeError(
                "no token service configured: pass tokens="
                "wagerkit.adapters.tokens.JwtTokenService(secret) to WagerKit"
            )
        return self._d.tokens

    def _hashing_slots(self) -> asyncio.Semaphore:
        """The semaphore bounding concurrent hashing, one per event loop (a semaphore must
        not be shared between loops)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(HASHING_SLOTS))
        return self._slots[1]

    async def _hash(self, password: str) -> str:
        hasher = self._hasher
        async with self._hashing_slots():
            return await asyncio.to_thread(hasher.hash, password)

    async def _verify(self, stored: str, password: str) -> bool:
        hasher = self._hasher
        async with self._hashing_slots():
            return await asyncio.to_thread(hasher.verify, stored, password)

    async def _read(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async with self._d.uow() as uow:
            return await work(uow)

    # -- look-ups ----------------------------------------------------------------------
    # -- policy ------------------------------------------------------------------------
    def _admit(self, user: User) -> Actor:
        """Banned users are refused everywhere; in whitelist mode only whitelisted users and
        staff get in."""
        if user.status is UserStatus.BANNED:
            raise AccountBanned()
        if self.policy.whitelist_mode and not user.whitelisted and user.role is Role.PLAYER:
            raise NotWhitelisted()
        return Actor.of(user)

    def _session(self, user: User) -> Session:
        now = self._d.clock.now()
        tokens = self._tokens
        token = tokens.issue(user.id, now=now, version=password_version(user))
        return Session(token, now + tokens.lifetime, user)

    # -- password accounts -------------------------------------------------------------
    async def register(
        self,
        *,
        password: str,
        display_name: str,
        username: str | None = None,
        email: str | None = None,
    ) -> User:
        """Create a player with a password (a username, an e-mail address or both) and pay the
        welcome grant. Whitelist mode does not stop registering, only signing in."""
        name = validate_display_name(display_name)
        uname = normalize_username(username) if username is not None else None
        mail = normalize_email(email) if email is not None else None
        if uname is None and mail is None:
            raise InvalidInput("a username or an e-mail address is required")
        validate_password(password)
        password_hash = await self._hash(password)
        return await self._create(
            Actor(None, Role.PLAYER, "register"),
            name,
            Role.PLAYER,
            username=uname,
            email=mail,
            password_hash=password_hash,
            whitelisted=False,
        )

    async def _create(
        self,
        actor: Actor,
        name: str,
        role: Role,
        *,
        username: str | None = None,
        email: str | None = None,
        password_hash: str | None = None,
        telegram_id: int | None = None,
        whitelisted: bool,
        details: dict[str, str] | None = None,
    ) -> User:
        async def work(uow: UnitOfWork) -> User:
            new = NewUser(
                display_name=name,
                role=role,
                created_at=self._d.clock.now(),
                username=username,
                email=email,
                password_hash=password_hash,
                telegram_id=telegram_id,
                whitelisted=whitelisted,
            )
            return await self._users.create_in(uow, new, actor, details=details)

        try:
            user = await self._d.transaction(work)
        except AlreadyExists:
            raise AlreadyExists(_GENERIC_DUPLICATE) from None
        await self._d.publisher.publish(WalletChanged((user.id,)))
        return user

    async def login(self, login: str, password: str) -> Session:
        """Sign in with a username or an e-mail address (anything with an ``@``) and a
        password. Unknown login, an account without a password and a wrong password all raise
        the same ``InvalidCredentials`` after the same hashing work."""
        hasher = self._hasher
        self._tokens  # noqa: B018 - fail before any work when tokens are not configured
        if not isinstance(login, str) or not isinstance(password, str):
            raise InvalidCredentials()
        key = login.strip().lower()
        user: User | None = None
        if 0 < len(key) <= 254 and len(password) <= PASSWORD_MAX:
            if "@" in key:
                user = await self._read(lambda uow: uow.users.get_by_email(key))
            else:
                user = await self._read(lambda uow: uow.users.get_by_username(key))
        if user is None or user.password_hash is None:
            await self._verify(await self._dummy(), password[:PASSWORD_MAX])
            raise InvalidCredentials()
        if not await self._verify(user.password_hash, password):
            raise InvalidCredentials()
        self._admit(user)
        if hasher.needs_rehash(user.password_hash):
            user = await self._rehash(user.id, password)
        return self._session(user)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def _rehash(self, user_id: int, password: str) -> User:
        new_hash = await self._hash(password)

        async def work(uow: UnitOfWork) -> User:
            user = await uow.users.get(user_id, for_update=True)
            if user is None:
                raise InvalidCredentials()
            user = replace(user, password_hash=new_hash)
            await uow.users.update(user)
            return user

        return await self._d.transaction(work)

    async def change_password(self, actor: Actor, current: str, new: str) -> None:
        """A signed-in user replaces its password (the current one is required). Every access
        token issued before stops working (sign in again with the new password)."""
        if actor.user_id is None:
            raise PermissionDenied("only a user has a password")
        validate_password(new)
        user = await self._read(lambda uow: uow.users.get(actor.user_id or 0))
        if user is None or user.password_hash is None:
            raise InvalidCredentials()
        if not await self._verify(user.password_hash, current):
            raise InvalidCredentials()
        await self._rehash(user.id, new)

    # -- Telegram ----------------------------------------------------------------------
    async def sign_in_telegram(self, identity: TelegramIdentity) -> Session:
        """Sign in with verified Telegram data. The first sign-in creates the user (display
        name from Telegram, the Telegram username when it is a valid, free username, the
        welcome grant once). A Telegram id listed in ``policy.telegram_admin_ids`` is made
        admin and whitelisted at every sign-in where it is not (audited), unless banned."""
        self._tokens  # noqa: B018 - fail before any work when tokens are not configured
        tg_id = identity.id
        bootstrap = tg_id in self.policy.telegram_admin_ids
        created: list[int] = []

        async def work(uow: UnitOfWork) -> User:
            created.clear()
            user = await uow.users.get_by_telegram_id(tg_id)
            if user is not None:  # lock before a possible promotion rewrites the row
                user = await uow.users.get(user.id, for_update=True)
            now = self._d.clock.now()
            system = Actor.system("telegram")
            if user is None:
                uname = self._free_username(identity.username)
                if uname is not None and await uow.users.get_by_username(uname) is not None:
                    uname = None
                name = validate_display_name(identity.display_name or f"tg{tg_id}")
                try:
                    user = await self._users.create_in(
                        uow,
                        NewUser(
                            display_name=name,
                            role=Role.ADMIN if bootstrap else Role.PLAYER,
                            created_at=now,
                            username=uname,
                            telegram_id=tg_id,
                            whitelisted=bootstrap,
                        ),
                        system,
                        details={"source": f"telegram:{identity.source}"},
                    )
                except AlreadyExists as exc:
                    # a concurrent first sign-in of this Telegram user (or one taking this
                    # username) committed after our read: run again, and find it
                    raise TransientStoreError() from exc
                created.append(user.id)
            elif (
                bootstrap
                and user.status is UserStatus.ACTIVE
                and (user.role is not Role.ADMIN or not user.whitelisted)
            ):
                old = user.role
                user = replace(user, role=Role.ADMIN, whitelisted=True)
                await uow.users.update(user)
                await uow.audit.add(
                    AuditRecord(
                        now,
                        None,
                        "telegram-admin-ids",
                        "user.role",
                        user.owner_ref,
                        "listed in TELEGRAM_ADMIN_IDS",
                        {"from": old.value, "to": Role.ADMIN.value, "whitelisted": "true"},
                    )
                )
            return user

        user = await self._d.transaction(work)
        if created:
            await self._d.publisher.publish(WalletChanged(tuple(created)))
        self._admit(user)
        return self._session(user)

    @staticmethod
    def _free_username(username: str | None) -> str | None:
        if username is None:
            return None
        try:
            return normalize_username(username)
        except InvalidInput:
            return None

    # -- sessions ----------------------------------------------------------------------
    async def authenticate(self, token: str) -> Actor:
        """The actor behind an access token, with role and status read fresh from the store:
        ``TokenInvalid``/``TokenExpired`` for a bad token (or a user that no longer exists),
        ``AccountBanned`` for a banned user, ``NotWhitelisted`` in whitelist mode. A token
        issued before the user's password changed is ``TokenInvalid``."""
        user_id, version = self.claims(token)
        return self.admit(await self._user_reads.get(user_id), version)

    def claims(self, token: str) -> tuple[int, str]:
        """``(user id, password version)`` of a token whose signature and times verify; the
        user is not read (``admit`` does that part). For use cases that read the user in
        their own transaction (the bet batch)."""
        return self._tokens.verify(token, now=self._d.clock.now())

    def admit(self, user: User | None, version: str) -> Actor:
        """The actor of a token's user read fresh: ``TokenInvalid`` if the user is gone or
        changed its password since, ``AccountBanned``, ``NotWhitelisted``."""
        if user is None:
            raise TokenInvalid()
        if not hmac.compare_digest(version.encode(), password_version(user).encode()):
            raise TokenInvalid("the password changed since this token was issued")
        return self._admit(user)

    async def actor_for(self, user_id: int) -> Actor:
        """The actor for a known user id (the CLI's ``--as``): read fresh, banned refused. The
        use case it then calls checks the role."""
        user = await self._read(lambda uow: uow.users.get(user_id))
        if user is None:
            raise UserNotFound(f"no user {user_id}")
        return self._admit(user)

    async def me(self, actor: Actor) -> User:
        if actor.user_id is None:
            raise PermissionDenied("the system actor is not a user")
        user = await self._read(lambda uow: uow.users.get(actor.user_id or 0))
        if user is None:
            raise UserNotFound(f"no user {actor.user_id}")
        return user

    def session_for(self, user: User) -> Session:
        """A new access token for ``user`` (e.g. after registering)."""
        self._admit(user)
        return self._session(user)

    # -- admin use cases ---------------------------------------------------------------
    async def create_admin(
        self,
        actor: Actor | None = None,
        *,
        display_name: str,
        password: str,
        username: str | None = None,
        email: str | None = None,
    ) -> User:
        """Create an admin with a password (the CLI's ``users create-admin``; the first admin
        is created by the system actor). Admins only; the new admin is whitelisted."""
        actor = actor or Actor.system()
        actor.require_admin()
        name = validate_display_name(display_name)
        uname = normalize_username(username) if username is not None else None
        mail = normalize_email(email) if email is not None else None
        if uname is None and mail is None:
            raise InvalidInput("a username or an e-mail address is required")
        validate_password(password)
        password_hash = await self._hash(password)
        return await self._create(
            actor,
            name,
            Role.ADMIN,
            username=uname,
            email=mail,
            password_hash=password_hash,
            whitelisted=True,
        )

    async def _change(
        self,
        actor: Actor,
        user_id: int,
        action: str,
        reason: str,
        change: Callable[[UnitOfWork, User], Awaitable[tuple[User, dict[str, str]] | None]],
    ) -> User:
        """Read the target, let ``change`` decide (None: nothing to do), write and audit."""

        async def work(uow: UnitOfWork) -> User:
            # lock the active admins first (id order), then the target: role and ban changes
            # queue behind each other instead of deadlocking, and the last-admin count holds
            await uow.users.count_active_admins()
            # locked: a concurrent ban must not be overwritten by this write of the whole row
            user = await uow.users.get(user_id, for_update=True)
            if user is None:
                raise UserNotFound(f"no user {user_id}")
            decided = await change(uow, user)
            if decided is None:
                return user
            new, details = decided
            await uow.users.update(new)
            await uow.audit.add(
                AuditRecord(
                    self._d.clock.now(),
                    actor.user_id,
                    actor.name,
                    action,
                    new.owner_ref,
                    reason,
                    details,
                )
            )
            return new

        user = await self._d.transaction(work)
        await self._d.publisher.publish(UserChanged((user.id,), user.status is UserStatus.BANNED))
        return user

    async def set_role(self, actor: Actor, user_id: int, role: Role, reason: str) -> User:
        """Admins only. The last active admin cannot be demoted (``Conflict``)."""
        actor.require_admin()
        reason = _reason(reason)
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput("role must be player, operator or admin") from None

        async def change(uow: UnitOfWork, user: User) -> tuple[User, dict[str, str]] | None:
            if user.role is role:
                return None
            if (
                user.role is Role.ADMIN
                and user.status is UserStatus.ACTIVE
                and await uow.users.count_active_admins() <= 1
            ):
                raise Conflict("the last admin cannot be demoted; make another admin first")
            return replace(user, role=role), {"from": user.role.value, "to": role.value}

        return await self._change(actor, user_id, "user.role", reason, change)

    def _may_moderate(self, actor: Actor, user: User) -> None:
        if user.role is not Role.PLAYER and actor.role is not Role.ADMIN:
            raise PermissionDenied("only admins may ban or unban operators and admins")

    async def ban(self, actor: Actor, user_id: int, reason: str) -> User:
        """Staff. Operators may ban players only; nobody bans themselves or the last admin."""
        actor.require_staff()
        reason = _reason(reason)

        async def change(uow: UnitOfWork, user: User) -> tuple[User, dict[str, str]] | None:
            self._may_moderate(actor, user)
            if user.id == actor.user_id:
                raise Conflict("you cannot ban yourself")
            if user.status is UserStatus.BANNED:
                return None
            if user.role is Role.ADMIN and await uow.users.count_active_admins() <= 1:
                raise Conflict("the last admin cannot be banned")
            return replace(user, status=UserStatus.BANNED), {"status": "banned"}

        return await self._change(actor, user_id, "user.ban", reason, change)

    async def unban(self, actor: Actor, user_id: int, reason: str) -> User:
        """Staff. Operators may unban players only."""
        actor.require_staff()
        reason = _reason(reason)

        async def change(uow: UnitOfWork, user: User) -> tuple[User, dict[str, str]] | None:
            self._may_moderate(actor, user)
            if user.status is UserStatus.ACTIVE:
                return None
            return replace(user, status=UserStatus.ACTIVE), {"status": "active"}

        return await self._change(actor, user_id, "user.unban", reason, change)

    async def set_whitelisted(
        self, actor: Actor, user_id: int, whitelisted: bool, reason: str
    ) -> User:
        """Staff: add a user to the whitelist or remove it."""
        actor.require_staff()
        reason = _reason(reason)
        flag = bool(whitelisted)

        async def change(uow: UnitOfWork, user: User) -> tuple[User, dict[str, str]] | None:
            if user.whitelisted is flag:
                return None
            return replace(user, whitelisted=flag), {"whitelisted": str(flag).lower()}

        return await self._change(actor, user_id, "user.whitelist", reason, change)

    # -- rate limits -------------------------------------------------------------------
    async def limit(self, actor_or_key: Actor | str, action: str) -> None:
        """Count one ``action`` and raise ``RateLimited`` (with ``retry_after`` seconds) when
        over ``policy.limits[action]``. Pass the actor (counted per user; the system actor is
        never limited) or a key the caller built (e.g. ``f"{login}|{client_ip}"``). An action
        missing from ``policy.limits`` uses its ``DEFAULT_LIMITS`` entry."""
        limit = self.policy.limits.get(action) or DEFAULT_LIMITS.get(action)
        if limit is None:
            raise ValueError(f"no rate limit configured for action {action!r}")
        amount, per_seconds = limit
        if isinstance(actor_or_key, Actor):
            if actor_or_key.user_id is None:
                return
            key = f"{action}:user:{actor_or_key.user_id}"
        else:
            key = f"{action}:key:{actor_or_key}"
        limiter = self._d.rate_limiter or self._local_limiter
        await limiter.hit(key, amount, per_seconds)

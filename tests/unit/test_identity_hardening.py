"""Review fixes: a password change retires the tokens issued before it, password hashing is
bounded in concurrency, and the per-address limits exist by default."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time

import jwt
import pytest
from test_identity_service import SECRET, make_kit, tg_identity

from wagerkit import Actor, InvalidCredentials, TokenInvalid, WagerKit
from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.adapters.tokens import JwtTokenService
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.services.identity import DEFAULT_LIMITS, HASHING_SLOTS, password_version
from wagerkit.testing import FixedClock, InMemoryStore, SequentialIds


@pytest.fixture
def ikit(store: UnitOfWorkFactory, clock: FixedClock) -> WagerKit:
    return make_kit(store, clock)


async def test_password_change_retires_existing_tokens(ikit: WagerKit) -> None:
    user = await ikit.identity.register(password="pass word 1", display_name="A", username="ann")
    stolen = (await ikit.identity.login("ann", "pass word 1")).access_token
    other_device = (await ikit.identity.login("ann", "pass word 1")).access_token
    actor = await ikit.identity.authenticate(stolen)
    assert actor.user_id == user.id
    await ikit.identity.change_password(actor, "pass word 1", "pass word 2")
    for token in (stolen, other_device):
        with pytest.raises(TokenInvalid):
            await ikit.identity.authenticate(token)
    with pytest.raises(InvalidCredentials):
        await ikit.identity.login("ann", "pass word 1")
    fresh = (await ikit.identity.login("ann", "pass word 2")).access_token
    assert (await ikit.identity.authenticate(fresh)).user_id == user.id


async def test_token_carries_the_password_version(ikit: WagerKit, clock: FixedClock) -> None:
    user = await ikit.identity.register(password="pass word 1", display_name="A", username="ann")
    token = (await ikit.identity.login("ann", "pass word 1")).access_token
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert user.password_hash
    expected = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    assert claims["pwv"] == expected == password_version(user)
    # a validly signed token for this user without the version, or with another one, is refused
    for over in ({"pwv": ""}, {"pwv": "0" * 16}, {"pwv": 7}):
        forged = jwt.encode({**claims, **over}, SECRET, algorithm="HS256")
        with pytest.raises(TokenInvalid):
            await ikit.identity.authenticate(forged)
    missing = jwt.encode({k: v for k, v in claims.items() if k != "pwv"}, SECRET)
    with pytest.raises(TokenInvalid):
        await ikit.identity.authenticate(missing)


async def test_telegram_only_user_has_an_empty_version(ikit: WagerKit, clock: FixedClock) -> None:
    session = await ikit.identity.sign_in_telegram(tg_identity(clock, 4242))
    assert (
        jwt.decode(
            session.access_token, SECRET, algorithms=["HS256"], options={"verify_exp": False}
        )["pwv"]
        == ""
    )
    assert (await ikit.identity.authenticate(session.access_token)).user_id == session.user.id
    assert password_version(session.user) == ""


def test_token_service_round_trips_the_version(clock: FixedClock) -> None:
    tokens = JwtTokenService(SECRET)
    assert tokens.verify(tokens.issue(7, now=clock.now(), version="abc"), now=clock.now()) == (
        7,
        "abc",
    )
    assert tokens.verify(tokens.issue(7, now=clock.now()), now=clock.now()) == (7, "")


class _CountingHasher:
    """A slow hasher that records how many calls run at the same time."""

    def __init__(self) -> None:
        self._inner = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0

    def _enter(self) -> None:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)

    def _leave(self) -> None:
        with self._lock:
            self.running -= 1

    def hash(self, password: str) -> str:
        self._enter()
        try:
            time.sleep(0.05)
            return self._inner.hash(password)
        finally:
            self._leave()

    def verify(self, hash: str, password: str) -> bool:
        self._enter()
        try:
            time.sleep(0.05)
            return self._inner.verify(hash, password)
        finally:
            self._leave()

    def needs_rehash(self, hash: str) -> bool:
        return False


async def test_concurrent_hashing_is_bounded(clock: FixedClock) -> None:
    hasher = _CountingHasher()
    kit = WagerKit(
        InMemoryStore(),
        clock=clock,
        ids=SequentialIds(),
        passwords=hasher,
        tokens=JwtTokenService(SECRET),
    )
    await kit.identity.register(password="pass word 1", display_name="A", username="ann")

    async def attempt(i: int) -> None:
        with pytest.raises(InvalidCredentials):
            await kit.identity.login(f"name{i}" if i % 2 else "ann", "wrong pass")

    await asyncio.gather(*(attempt(i) for i in range(24)))
    assert 1 <= hasher.most <= HASHING_SLOTS == 4


async def test_per_address_limits_exist_by_default() -> None:
    assert DEFAULT_LIMITS["login_ip"] == (30, 60)
    assert DEFAULT_LIMITS["register"] == (10, 60)
    assert DEFAULT_LIMITS["telegram"] == (30, 60)
    kit = WagerKit(InMemoryStore())
    for action, amount in [("register", 10), ("telegram", 30), ("login_ip", 30)]:
        for _ in range(amount):
            await kit.identity.limit("10.0.0.9", action)
        with pytest.raises(Exception, match="too many") as info:
            await kit.identity.limit("10.0.0.9", action)
        assert getattr(info.value, "retry_after", 0) >= 1
        await kit.identity.limit("10.0.0.8", action)  # another address is counted apart
    await kit.identity.limit(Actor.system(), "register")  # the system actor is never limited


async def test_a_partial_policy_keeps_the_default_limits() -> None:
    from wagerkit import IdentityPolicy

    kit = WagerKit(InMemoryStore(), identity_policy=IdentityPolicy(limits={"bet": (1, 60)}))
    for _ in range(10):
        await kit.identity.limit("10.0.0.9", "register")
    with pytest.raises(Exception, match="too many"):
        await kit.identity.limit("10.0.0.9", "register")

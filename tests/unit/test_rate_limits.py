"""Rate limiting: the in-process limiters and the Redis-backed one against a real redis-server
(started by the fixture on a free port; the test fails, never skips, when it is missing)."""

from __future__ import annotations

import asyncio

import pytest
from redisserver import free_port

from wagerkit import DEFAULT_LIMITS, Actor, IdentityPolicy, RateLimited, Role, StoreError, WagerKit
from wagerkit.adapters.ratelimit import LimitsRateLimiter, rate_limiter_from_url
from wagerkit.services import LocalRateLimiter
from wagerkit.testing import InMemoryStore


async def _exhaust(limiter: object, key: str, limit: int, per: int) -> RateLimited:
    for _ in range(limit):
        await limiter.hit(key, limit, per)  # type: ignore[attr-defined]
    with pytest.raises(RateLimited) as info:
        await limiter.hit(key, limit, per)  # type: ignore[attr-defined]
    return info.value


@pytest.mark.parametrize("make", [LimitsRateLimiter, LocalRateLimiter], ids=["limits", "local"])
async def test_in_process_limit(make: type) -> None:
    limiter = make()
    err = await _exhaust(limiter, "bet:user:1", 5, 60)
    assert err.code == "rate_limited"
    assert 0 < err.retry_after <= 60
    await limiter.hit("bet:user:2", 5, 60)  # other keys are counted apart


async def test_local_limiter_window_slides() -> None:
    now = [1000.0]
    limiter = LocalRateLimiter(clock=lambda: now[0])
    err = await _exhaust(limiter, "k", 2, 10)
    assert err.retry_after == 10
    now[0] += 4
    with pytest.raises(RateLimited) as info:
        await limiter.hit("k", 2, 10)
    assert info.value.retry_after == 6
    now[0] += 6
    await limiter.hit("k", 2, 10)


async def test_kit_limit_uses_policy_per_user_and_key() -> None:
    assert DEFAULT_LIMITS == {
        "login": (10, 60),
        "login_ip": (30, 60),
        "register": (10, 60),
        "telegram": (30, 60),
        "bet": (5, 60),
        "chat": (20, 60),
        "order": (10, 3600),
        "take": (60, 60),
    }
    kit = WagerKit(InMemoryStore(), rate_limiter=LimitsRateLimiter("memory://"))
    alice, bob = Actor(1, Role.PLAYER, "a"), Actor(2, Role.PLAYER, "b")
    for _ in range(5):
        await kit.identity.limit(alice, "bet")
    with pytest.raises(RateLimited) as info:
        await kit.identity.limit(alice, "bet")
    assert info.value.retry_after > 0
    await kit.identity.limit(bob, "bet")
    for _ in range(20):
        await kit.identity.limit(alice, "chat")
    with pytest.raises(RateLimited):
        await kit.identity.limit(alice, "chat")
    for _ in range(10):
        await kit.identity.limit("alice|10.0.0.1", "login")
    with pytest.raises(RateLimited):
        await kit.identity.limit("alice|10.0.0.1", "login")
    await kit.identity.limit("alice|10.0.0.2", "login")
    for _ in range(50):  # the operator console is never limited
        await kit.identity.limit(Actor.system(), "bet")
    with pytest.raises(ValueError, match="no rate limit"):
        await kit.identity.limit(alice, "dance")
    strict = WagerKit(InMemoryStore(), identity_policy=IdentityPolicy(limits={"bet": (1, 60)}))
    await strict.identity.limit(alice, "bet")  # default limiter: in process, stdlib
    with pytest.raises(RateLimited):
        await strict.identity.limit(alice, "bet")


async def test_redis_limit_is_shared_between_limiters(redis_url: str) -> None:
    one, two = LimitsRateLimiter(redis_url), rate_limiter_from_url(redis_url)
    assert one.shared
    assert await one.check()
    for i in range(4):
        await (one if i % 2 else two).hit("chat:user:9", 4, 30)
    with pytest.raises(RateLimited) as info:
        await one.hit("chat:user:9", 4, 30)
    assert 0 < info.value.retry_after <= 30
    with pytest.raises(RateLimited):
        await two.hit("chat:user:9", 4, 30)
    await two.hit("chat:user:10", 4, 30)
    await one.reset()
    await one.hit("chat:user:9", 4, 30)


async def test_redis_window_expires(redis_url: str) -> None:
    limiter = LimitsRateLimiter(redis_url, key_prefix="expiry")
    await _exhaust(limiter, "bet:user:1", 2, 1)
    await asyncio.sleep(1.1)
    await limiter.hit("bet:user:1", 2, 1)


async def test_unreachable_redis_is_a_store_error() -> None:
    limiter = LimitsRateLimiter(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreError):
        await limiter.hit("k", 1, 60)
    assert not await limiter.check()


def test_bad_storage_url() -> None:
    for url in ("memcached://x", "nonsense"):
        with pytest.raises(ValueError, match="rate limit storage"):
            LimitsRateLimiter(url)

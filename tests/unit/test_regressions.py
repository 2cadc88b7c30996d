"""Regression tests for bugs found while writing the ledger-core tests (each failed before
its fix)."""

from __future__ import annotations

import pytest
from builders import assert_conserved

from wagerkit import Actor, WagerKit
from wagerkit.domain.errors import (
    InvalidAmount,
    PendingAlreadyPosted,
    UnknownCurrency,
)
from wagerkit.domain.ledger import AccountFlags, AccountKind, TransferRequest
from wagerkit.domain.money import Currency, CurrencyRegistry
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, InMemoryStore

# -- wagerkit/domain/ledger.py:323 (+ testing.py:280, adapters/sql/store.py:356) -------------


async def test_replay_within_a_batch_returns_the_first_result(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """SPEC §0: 'Replaying the same command with the same key returns the first result'.
    A replay inside the same batch returns the planner's in-batch copy, whose ``seq`` was
    never assigned (0), so the replay differs from the first result."""
    uow = store()
    async with uow:
        t = await uow.ledger.open_account(AccountKind.TREASURY, "system", "COIN", AccountFlags.NONE)
        a = await uow.ledger.open_account(AccountKind.USER, "user:1", "COIN", AccountFlags.NONE)
        req = TransferRequest("x", t.id, a.id, 5)
        first, again = await uow.ledger.apply([req, req], clock.now())
        await uow.commit()
    assert again.replayed
    assert first.transfer is not None
    assert first.transfer.seq > 0
    assert again.transfer == first.transfer  # fails: again.transfer.seq == 0


# -- wagerkit/services/users.py:72-78 --------------------------------------------------------


async def test_welcome_grant_with_lowercase_code(
    store: UnitOfWorkFactory, clock: FixedClock
) -> None:
    """Currency codes are case-insensitive everywhere (CurrencyRegistry), but a welcome grant
    configured as ``{"coin": 100}`` makes every ``users.add`` fail with CurrencyMismatch: the
    wallet is opened with the canonical code (``COIN``) and the treasury with the raw key
    (``coin``)."""
    kit = WagerKit(store, clock=clock, welcome_grant={"coin": 100})
    user = await kit.users.add(Actor.system(), "Alice")  # raises CurrencyMismatch
    assert (await kit.wallets.balance(Actor.system(), user.id)).balance == 100
    await assert_conserved(kit)


# -- wagerkit/domain/money.py:112-118 --------------------------------------------------------


def test_registry_get_follows_the_mapping_contract() -> None:
    """CurrencyRegistry is a ``Mapping``; ``Mapping.get`` relies on ``__getitem__`` raising
    ``KeyError``. UnknownCurrency is not a KeyError, so ``registry.get("EUR")`` raises instead
    of returning None (and ``"EUR" in dict(registry)``-style helpers break similarly)."""
    reg = CurrencyRegistry()
    assert reg.get("EUR") is None
    assert reg.get("EUR", "fallback") == "fallback"
    with pytest.raises(UnknownCurrency):
        reg["EUR"]


# -- wagerkit/domain/money.py:19 / :32 --------------------------------------------------------


def test_currency_code_with_trailing_newline_refused() -> None:
    """``_CODE`` ends in ``$``, which also matches before a trailing newline, so
    ``Currency("COIN\\n", 0)`` is accepted (use ``\\Z`` or ``fullmatch``)."""
    with pytest.raises(UnknownCurrency):
        Currency("COIN\n", 0)


# -- wagerkit/domain/money.py:20 (questionable) ------------------------------------------------


@pytest.mark.parametrize("text", ["١٢.٥", "１２.５", "12.５"])
def test_parse_refuses_non_ascii_digits(text: str) -> None:
    """``\\d`` matches any Unicode decimal digit and ``int()`` accepts them, so Arabic-Indic or
    full-width digits are silently read as amounts ("١٢.٥" RUB -> 1250). Human input should be
    ASCII digits only (``[0-9]`` or ``re.ASCII``)."""
    with pytest.raises(InvalidAmount):
        Currency("RUB", 2).parse(text)


# -- wagerkit/domain/ledger.py:216 (questionable) ----------------------------------------------


async def test_post_everything_is_not_a_replay_of_a_partial_post() -> None:
    """A post request with amount 0 means 'the whole pending amount'. After a partial post
    (30 of 100) with id K, a request K with amount 0 asks for something else (100), but
    ``_matches`` accepts ``r.amount in (0, t.amount)`` and returns the 30-unit transfer as a
    replay. Through the service (no key -> id ``post:<pending>``) ``post(pid)`` after
    ``post(pid, 30)`` silently returns the partial post."""
    kit = WagerKit(InMemoryStore(), clock=FixedClock())
    s = Actor.system()
    u = await kit.users.add(s, "A")
    h = await kit.wallets.hold(s, u.id, 100)
    await kit.wallets.post(s, h.id, 30)
    with pytest.raises(PendingAlreadyPosted):  # not a replay: the hold is already resolved
        await kit.wallets.post(s, h.id)
    with pytest.raises(PendingAlreadyPosted):
        await kit.wallets.post(s, h.id, 50)
    assert (await kit.wallets.post(s, h.id, 30)).amount == 30  # a true replay
    h2 = await kit.wallets.hold(s, u.id, 100)
    await kit.wallets.post(s, h2.id, 30, idempotency_key="k")
    with pytest.raises(PendingAlreadyPosted):
        await kit.wallets.post(s, h2.id, idempotency_key="k")


def test_telegram_values_with_line_breaks_are_refused() -> None:
    """Review finding: a value with a raw newline lets a holder of signed data fold one field
    into another (``query_id="Q\\nstart_param=x"`` without ``start_param`` hashes the same)."""
    import hashlib
    import hmac
    import time
    from datetime import UTC, datetime
    from urllib.parse import urlencode

    from wagerkit.domain.errors import TelegramMalformed
    from wagerkit.domain.telegram import verify_init_data

    token = "123456:TEST-token"
    fields = {
        "auth_date": str(int(time.time())),
        "query_id": "Q1",
        "start_param": "ref_bob",
        "user": '{"id": 42, "first_name": "A"}',
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items())).encode()
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check, hashlib.sha256).hexdigest()
    now = datetime.now(UTC)
    assert (
        verify_init_data(urlencode({**fields, "hash": digest}), now=now, bot_token=token).id == 42
    )
    folded = {k: v for k, v in fields.items() if k != "start_param"}
    folded["query_id"] = "Q1\nstart_param=ref_bob"  # the same data-check string
    with pytest.raises(TelegramMalformed):
        verify_init_data(urlencode({**folded, "hash": digest}), now=now, bot_token=token)


def test_webhook_size_is_checked_before_the_hmac() -> None:
    from wagerkit.domain.errors import WebhookMalformed
    from wagerkit.domain.payments import MAX_WEBHOOK_BYTES, sign_webhook, verify_webhook_signature

    body = b"x" * (MAX_WEBHOOK_BYTES + 1)
    with pytest.raises(WebhookMalformed):
        verify_webhook_signature(b"s" * 16, body, sign_webhook(b"s" * 16, body))


async def test_wallet_post_and_void_refuse_holds_owned_by_payments() -> None:
    """Review finding: ``wallets.void`` could release a withdrawal's hold behind the payment's
    back, leaving the payment pending forever and the ledger out of step with the provider."""
    from wagerkit.adapters.payments import payment_providers
    from wagerkit.domain.errors import Conflict

    providers = payment_providers(webhook_secrets={"acme": "a-webhook-secret-123"})
    kit = WagerKit(InMemoryStore(), clock=FixedClock(), payment_providers=providers)
    s = Actor.system()
    u = await kit.users.add(s, "A")
    payment = await kit.payments.withdraw(s, u.id, 600, "COIN", "acme", idempotency_key="w1")
    assert payment.status.value == "pending"  # waits for the provider's webhook
    assert payment.hold_transfer_id is not None
    with pytest.raises(Conflict):
        await kit.wallets.void(s, payment.hold_transfer_id)
    with pytest.raises(Conflict):
        await kit.wallets.post(s, payment.hold_transfer_id, 100)
    assert (await kit.wallets.balance(s, u.id)).held == 600  # still held for the payment
    own = await kit.wallets.hold(s, u.id, 100)
    assert (await kit.wallets.void(s, own.id)).amount == 100  # the wallet's own holds still work
    await assert_conserved(kit)


async def test_local_rate_limiter_sweeps_rarely_and_forgets_old_keys() -> None:
    """Review finding: past 100,000 keys every hit scanned the whole table. Now a sweep runs
    only when the table has doubled since the last one (amortised O(1) per hit)."""
    from wagerkit.domain.errors import RateLimited
    from wagerkit.services.identity import LocalRateLimiter

    now = [0.0]
    limiter = LocalRateLimiter(clock=lambda: now[0])
    sweeps = 0
    for i in range(150_000):
        before = limiter._sweep_at
        await limiter.hit(f"login|{i}", 3, 60)
        sweeps += limiter._sweep_at != before
    assert sweeps <= 8  # log2(150_000 / 1024) + 1, not one per hit
    assert limiter._sweep_at > len(limiter._hits)  # the next hit does not scan
    now[0] = 120.0  # every window is over: the next sweep forgets all of them
    n = 0
    while next(iter(limiter._hits)).startswith("login|"):  # the oldest key is still there
        n += 1
        await limiter.hit(f"new|{n}", 3, 60)
    assert all(not k.startswith("login|") for k in limiter._hits)
    for _ in range(3):
        await limiter.hit("k", 3, 60)
    with pytest.raises(RateLimited):
        await limiter.hit("k", 3, 60)

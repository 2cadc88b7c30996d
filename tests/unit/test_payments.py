"""Deposits and withdrawals through payment providers, on memory, SQLite and PostgreSQL.

Signatures are computed here independently (``hmac`` + ``hashlib``), never with the code under
test; every scenario ends with the conservation check."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest
from builders import assert_conserved

from wagerkit import Actor, Role, WagerKit
from wagerkit.adapters.payments import SignedWebhookProvider, payment_providers
from wagerkit.adapters.sql import SqlStore
from wagerkit.config import Settings
from wagerkit.domain.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidInput,
    PaymentAlreadyFinal,
    PaymentMismatch,
    PaymentNotFound,
    PaymentProviderUnavailable,
    PermissionDenied,
    WebhookMalformed,
    WebhookSignatureInvalid,
)
from wagerkit.domain.ledger import AccountKind
from wagerkit.domain.notifications import PaymentChanged, WalletChanged
from wagerkit.domain.payments import Payment, PaymentKind, PaymentStatus
from wagerkit.ports import UnitOfWorkFactory
from wagerkit.testing import FixedClock, RecordingPublisher, SequentialIds

SECRET = "acme-webhook-secret-0123456789"
SYSTEM = Actor.system("test")
OPERATOR = Actor(None, Role.OPERATOR, "op")


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook(
    payment: Payment, reference: str, status: str = "succeeded", **over: Any
) -> bytes:  # a provider's body: its own spacing and key order, as sent on the wire
    doc = {
        "status": status,
        "payment_id": payment.id,
        "reference": reference,
        "amount": payment.amount,
        "currency": payment.currency,
        **over,
    }
    return json.dumps(doc, indent=1).encode()


def make_kit(store: UnitOfWorkFactory, *, dev: bool = True) -> tuple[WagerKit, RecordingPublisher]:
    pub = RecordingPublisher()
    kit = WagerKit(
        store,
        clock=FixedClock(),
        ids=SequentialIds(),
        publisher=pub,
        welcome_grant={},
        payment_providers=payment_providers(dev_payments=dev, webhook_secrets={"acme": SECRET}),
    )
    return kit, pub


@pytest.fixture
def pkit(store: UnitOfWorkFactory) -> tuple[WagerKit, RecordingPublisher]:
    return make_kit(store)


async def _user(kit: WagerKit, name: str, grant: int = 0) -> Actor:
    u = await kit.users.add(SYSTEM, name)
    if grant:
        await kit.wallets.grant(SYSTEM, u.id, grant)
    return Actor.of(u)


async def _balance(kit: WagerKit, actor: Actor) -> tuple[int, int, int]:
    assert actor.user_id is not None
    b = await kit.wallets.balance(SYSTEM, actor.user_id)
    return b.balance, b.available, b.held


async def _external(kit: WagerKit, provider: str) -> int:
    async with kit.deps.uow() as uow:
        acc = await uow.ledger.find_account(AccountKind.EXTERNAL, f"provider:{provider}", "COIN")
    return acc.balance if acc else 0


async def _payment_transfers(kit: WagerKit, payment_id: str) -> list[str]:
    async with kit.deps.uow() as uow:
        journal = await uow.ledger.journal(limit=10_000)
    return [t.id for t in journal if t.id.startswith(f"payment:{payment_id}:")]


# -- the dev provider ------------------------------------------------------------------------


async def test_dev_provider_is_refused_unless_enabled(
    store: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAGERKIT_DEV_PAYMENTS", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.dev_payments is False
    kit, _ = make_kit(store, dev=settings.dev_payments)
    alice = await _user(kit, "alice")
    assert alice.user_id is not None
    with pytest.raises(PaymentProviderUnavailable, match="WAGERKIT_DEV_PAYMENTS"):
        await kit.payments.deposit(alice, alice.user_id, 100, None, "dev")
    with pytest.raises(PaymentProviderUnavailable):
        await kit.payments.withdraw(alice, alice.user_id, 100, None, "dev")
    assert await _balance(kit, alice) == (0, 0, 0)
    assert (await kit.payments.list(SYSTEM)).payments == []

    monkeypatch.setenv("WAGERKIT_DEV_PAYMENTS", "true")
    enabled = Settings(_env_file=None)  # type: ignore[call-arg]
    assert enabled.dev_payments is True
    kit2 = WagerKit(store, payment_providers=payment_providers(dev_payments=enabled.dev_payments))
    p = await kit2.payments.deposit(alice, alice.user_id, 100, None, "dev")
    assert p.status is PaymentStatus.SUCCEEDED
    assert await _balance(kit, alice) == (100, 100, 0)
    await assert_conserved(kit)


async def test_dev_deposit_credits_once_even_when_replayed(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, pub = pkit
    alice = await _user(kit, "alice")
    assert alice.user_id is not None
    pub.notes.clear()
    p1 = await kit.payments.deposit(alice, alice.user_id, 500, "COIN", "dev", idempotency_key="d1")
    assert (p1.status, p1.kind, p1.amount) == (PaymentStatus.SUCCEEDED, PaymentKind.DEPOSIT, 500)
    assert p1.settle_transfer_id == f"payment:{p1.id}:credit"
    assert p1.provider_reference == f"dev:{p1.id}"
    p2 = await kit.payments.deposit(alice, alice.user_id, 500, "COIN", "dev", idempotency_key="d1")
    assert p2 == p1
    assert await _balance(kit, alice) == (500, 500, 0)
    assert await _external(kit, "dev") == -500
    assert await _payment_transfers(kit, p1.id) == [f"payment:{p1.id}:credit"]
    assert pub.of(WalletChanged) == [WalletChanged((alice.user_id,))]
    with pytest.raises(IdempotencyConflict):
        await kit.payments.deposit(alice, alice.user_id, 501, "COIN", "dev", idempotency_key="d1")
    # a key is scoped by operation and user: the same key for a withdrawal is a new command
    w = await kit.payments.withdraw(alice, alice.user_id, 200, None, "dev", idempotency_key="d1")
    assert w.status is PaymentStatus.SUCCEEDED
    assert await _balance(kit, alice) == (300, 300, 0)
    await assert_conserved(kit)


async def test_bad_commands_are_refused_without_a_trace(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice", 100)
    assert alice.user_id is not None
    for amount in (0, -5, 10**19, True):
        with pytest.raises(InvalidInput):
            await kit.payments.deposit(alice, alice.user_id, amount, None, "dev")
    with pytest.raises(InvalidInput):
        await kit.payments.deposit(alice, alice.user_id, 5, None, "dev", idempotency_key="a b")
    with pytest.raises(PaymentProviderUnavailable):
        await kit.payments.deposit(alice, alice.user_id, 5, None, "nope")
    with pytest.raises(PaymentNotFound):
        await kit.payments.get(SYSTEM, "pay-missing")
    with pytest.raises(PaymentNotFound):
        await kit.payments.confirm(SYSTEM, "pay-missing")
    assert (await kit.payments.list(SYSTEM)).payments == []
    await assert_conserved(kit)


# -- withdrawals -----------------------------------------------------------------------------


async def test_withdrawal_holds_then_confirm_posts(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, pub = pkit
    alice = await _user(kit, "alice", 1000)
    assert alice.user_id is not None
    p = await kit.payments.withdraw(alice, alice.user_id, 300, None, "acme", idempotency_key="w1")
    assert p.status is PaymentStatus.PENDING
    assert p.hold_transfer_id == f"payment:{p.id}:hold"
    assert await _balance(kit, alice) == (1000, 700, 300)
    again = await kit.payments.withdraw(
        alice, alice.user_id, 300, None, "acme", idempotency_key="w1"
    )
    assert again == p
    assert await _balance(kit, alice) == (1000, 700, 300)  # held once

    with pytest.raises(PermissionDenied):
        await kit.payments.confirm(alice, p.id)
    done = await kit.payments.confirm(OPERATOR, p.id, reason="paid by bank")
    assert done.status is PaymentStatus.SUCCEEDED
    assert done.settle_transfer_id == f"payment:{p.id}:post"
    assert await _balance(kit, alice) == (700, 700, 0)
    assert await _external(kit, "acme") == 300
    assert await kit.payments.confirm(OPERATOR, p.id) == done  # idempotent, moves nothing
    with pytest.raises(PaymentAlreadyFinal):
        await kit.payments.fail(OPERATOR, p.id, "too late")
    assert await _balance(kit, alice) == (700, 700, 0)
    audits = await kit.audit.list(SYSTEM, target=f"payment:{p.id}")
    assert [a.action for a in audits] == ["payment.confirm"]
    assert audits[0].reason == "paid by bank"
    assert PaymentChanged(p.id, alice.user_id, PaymentKind.WITHDRAWAL,
                          PaymentStatus.SUCCEEDED) in pub.notes  # fmt: skip
    await assert_conserved(kit)


async def test_withdrawal_fail_voids_and_releases(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice", 1000)
    assert alice.user_id is not None
    p = await kit.payments.withdraw(alice, alice.user_id, 400, None, "acme")
    assert await _balance(kit, alice) == (1000, 600, 400)
    with pytest.raises(InvalidInput):
        await kit.payments.fail(OPERATOR, p.id, "  ")
    with pytest.raises(PermissionDenied):
        await kit.payments.fail(alice, p.id, "I changed my mind")
    failed = await kit.payments.fail(OPERATOR, p.id, "bank account closed")
    assert (failed.status, failed.failure_reason) == (PaymentStatus.FAILED, "bank account closed")
    assert failed.settle_transfer_id == f"payment:{p.id}:void"
    assert await _balance(kit, alice) == (1000, 1000, 0)
    assert await _external(kit, "acme") == 0
    assert await kit.payments.fail(OPERATOR, p.id, "again") == failed
    with pytest.raises(PaymentAlreadyFinal):
        await kit.payments.confirm(OPERATOR, p.id)
    assert await _balance(kit, alice) == (1000, 1000, 0)
    assert sorted(await _payment_transfers(kit, p.id)) == [
        f"payment:{p.id}:hold",
        f"payment:{p.id}:void",
    ]
    await assert_conserved(kit)


async def test_withdrawal_over_balance_is_refused(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice", 100)
    assert alice.user_id is not None
    with pytest.raises(InsufficientFunds):
        await kit.payments.withdraw(alice, alice.user_id, 101, None, "acme", idempotency_key="k")
    assert (await kit.payments.list(alice, alice.user_id)).payments == []
    assert await _balance(kit, alice) == (100, 100, 0)
    # holds count: two withdrawals of 60 do not both fit in 100
    await kit.payments.withdraw(alice, alice.user_id, 60, None, "acme")
    with pytest.raises(InsufficientFunds):
        await kit.payments.withdraw(alice, alice.user_id, 60, None, "acme")
    # a refused request leaves no trace, so its key may be used once funds arrive
    await kit.payments.deposit(alice, alice.user_id, 100, None, "dev")
    p = await kit.payments.withdraw(alice, alice.user_id, 101, None, "acme", idempotency_key="k")
    assert p.status is PaymentStatus.PENDING
    assert await _balance(kit, alice) == (200, 39, 161)
    await assert_conserved(kit)


# -- webhooks --------------------------------------------------------------------------------


async def test_webhook_with_a_valid_signature_credits_the_deposit(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, pub = pkit
    alice = await _user(kit, "alice")
    assert alice.user_id is not None
    p = await kit.payments.deposit(alice, alice.user_id, 250, None, "acme")
    assert p.status is PaymentStatus.PENDING
    assert await _balance(kit, alice) == (0, 0, 0)
    body = webhook(p, "acme-ref-1")
    done = await kit.payments.handle_webhook("acme", body, sign(body))
    assert (done.status, done.provider_reference) == (PaymentStatus.SUCCEEDED, "acme-ref-1")
    assert await _balance(kit, alice) == (250, 250, 0)
    assert WalletChanged((alice.user_id,)) in pub.notes
    # "sha256=" prefixed and upper-case hex signatures are the same signature
    again = await kit.payments.handle_webhook("acme", body, "sha256=" + sign(body).upper())
    assert again == done
    assert await _balance(kit, alice) == (250, 250, 0)
    await assert_conserved(kit)


async def test_webhook_signature_refusals_move_nothing(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice")
    assert alice.user_id is not None
    p = await kit.payments.deposit(alice, alice.user_id, 250, None, "acme")
    body = webhook(p, "ref-1")
    good = sign(body)
    tampered = body.replace(b"250", b"2500")
    assert tampered != body
    reserialised = json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True).encode()
    assert reserialised != body
    assert json.loads(reserialised) == json.loads(body)
    refusals = [
        (tampered, good),  # tampered body
        (body, sign(body, "another-secret-0123456789")),  # wrong secret
        (body, sign(reserialised)),  # signed over re-serialised JSON, not the raw bytes
        (body, ""),
        (body, good[:-1]),
        (body, "é" * 64),
        (body + b" ", good),
    ]
    for raw, sig in refusals:
        with pytest.raises(WebhookSignatureInvalid):
            await kit.payments.handle_webhook("acme", raw, sig)
    with pytest.raises(PaymentProviderUnavailable):  # dev sends no webhooks
        await kit.payments.handle_webhook("dev", body, good)
    with pytest.raises(PaymentProviderUnavailable):
        await kit.payments.handle_webhook("other", body, good)
    assert (await kit.payments.get(SYSTEM, p.id)).status is PaymentStatus.PENDING
    assert await _balance(kit, alice) == (0, 0, 0)
    # the genuine webhook still works afterwards
    assert (await kit.payments.handle_webhook("acme", body, good)).status is PaymentStatus.SUCCEEDED
    assert await _balance(kit, alice) == (250, 250, 0)
    await assert_conserved(kit)


async def test_webhook_replay_moves_nothing_and_conflicting_reuse_is_refused(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice", 1000)
    assert alice.user_id is not None
    w = await kit.payments.withdraw(alice, alice.user_id, 300, None, "acme")
    body = webhook(w, "wd-1")
    first = await kit.payments.handle_webhook("acme", body, sign(body))
    assert first.status is PaymentStatus.SUCCEEDED
    journal = await _payment_transfers(kit, w.id)
    for _ in range(3):
        assert await kit.payments.handle_webhook("acme", body, sign(body)) == first
    assert await _payment_transfers(kit, w.id) == journal
    assert await _balance(kit, alice) == (700, 700, 0)
    # same reference, other content
    for other in (webhook(w, "wd-1", "failed"), webhook(w, "wd-1", amount=299)):
        with pytest.raises(IdempotencyConflict):
            await kit.payments.handle_webhook("acme", other, sign(other))
    # the same reference for another payment
    d = await kit.payments.deposit(alice, alice.user_id, 50, None, "acme")
    stolen = webhook(d, "wd-1")
    with pytest.raises(IdempotencyConflict):
        await kit.payments.handle_webhook("acme", stolen, sign(stolen))
    # another reference for the payment that already succeeded
    second = webhook(w, "wd-2", "failed")
    with pytest.raises(PaymentAlreadyFinal):
        await kit.payments.handle_webhook("acme", second, sign(second))
    # ... and another reference agreeing with it is still not the webhook that bound it
    third = webhook(w, "wd-3")
    with pytest.raises(IdempotencyConflict):
        await kit.payments.handle_webhook("acme", third, sign(third))
    assert await _balance(kit, alice) == (700, 700, 0)
    assert (await kit.payments.get(SYSTEM, d.id)).status is PaymentStatus.PENDING
    await assert_conserved(kit)


async def test_webhook_amount_or_currency_mismatch_is_refused_and_audited(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice")
    assert alice.user_id is not None
    p = await kit.payments.deposit(alice, alice.user_id, 250, None, "acme")
    for body in (webhook(p, "r1", amount=2500), webhook(p, "r1", currency="RUB")):
        with pytest.raises(PaymentMismatch):
            await kit.payments.handle_webhook("acme", body, sign(body))
    audits = await kit.audit.list(SYSTEM, action="payment.webhook_refused")
    assert len(audits) == 2
    assert audits[-1].details["webhook_amount"] == "2500"
    assert audits[-1].target == f"payment:{p.id}"
    current = await kit.payments.get(SYSTEM, p.id)
    assert (current.status, current.provider_reference) == (PaymentStatus.PENDING, None)
    assert await _balance(kit, alice) == (0, 0, 0)
    # the reference was not consumed: the correct webhook with it still applies
    body = webhook(p, "r1")
    assert (await kit.payments.handle_webhook("acme", body, sign(body))).status is (
        PaymentStatus.SUCCEEDED
    )
    assert await _balance(kit, alice) == (250, 250, 0)
    await assert_conserved(kit)


async def test_webhook_for_an_unknown_payment_or_malformed_body(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice")
    assert alice.user_id is not None
    body = json.dumps(
        {
            "reference": "x",
            "payment_id": "pay-nope",
            "status": "succeeded",
            "amount": 5,
            "currency": "COIN",
        }
    ).encode()
    with pytest.raises(PaymentNotFound):
        await kit.payments.handle_webhook("acme", body, sign(body))
    # a payment of another provider is unknown to this one
    d = await kit.payments.deposit(alice, alice.user_id, 5, None, "dev")
    other = webhook(d, "y")
    with pytest.raises(PaymentNotFound):
        await kit.payments.handle_webhook("acme", other, sign(other))
    p = await kit.payments.deposit(alice, alice.user_id, 5, None, "acme")
    bad_bodies = [
        b"not json",
        b"[1, 2]",
        b"\xff\xfe",
        json.dumps({"reference": "r", "payment_id": p.id}).encode(),
        webhook(p, "r", status="pending"),
        webhook(p, "r", amount="5"),
        webhook(p, "r", amount=-5),
        webhook(p, "", ),
    ]  # fmt: skip
    for bad in bad_bodies:
        with pytest.raises(WebhookMalformed):
            await kit.payments.handle_webhook("acme", bad, sign(bad))
    assert (await kit.payments.get(SYSTEM, p.id)).status is PaymentStatus.PENDING
    assert await _balance(kit, alice) == (5, 5, 0)
    await assert_conserved(kit)


async def test_webhook_failure_of_a_withdrawal_releases_and_late_agreement_is_a_no_op(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice", 500)
    assert alice.user_id is not None
    w = await kit.payments.withdraw(alice, alice.user_id, 500, None, "acme")
    body = webhook(w, "f-1", "failed")
    failed = await kit.payments.handle_webhook("acme", body, sign(body))
    assert failed.status is PaymentStatus.FAILED
    assert await _balance(kit, alice) == (500, 500, 0)
    # an operator confirmed first; the provider's later, agreeing webhook changes nothing
    d = await kit.payments.deposit(alice, alice.user_id, 70, None, "acme")
    await kit.payments.confirm(OPERATOR, d.id)
    late = webhook(d, "late-1")
    result = await kit.payments.handle_webhook("acme", late, sign(late))
    assert (result.status, result.provider_reference) == (PaymentStatus.SUCCEEDED, "late-1")
    assert await kit.payments.handle_webhook("acme", late, sign(late)) == result
    assert await _balance(kit, alice) == (570, 570, 0)
    # ... while a contradicting one is refused and audited
    d2 = await kit.payments.deposit(alice, alice.user_id, 30, None, "acme")
    await kit.payments.fail(OPERATOR, d2.id, "never arrived")
    contra = webhook(d2, "late-2")
    with pytest.raises(PaymentAlreadyFinal):
        await kit.payments.handle_webhook("acme", contra, sign(contra))
    assert await kit.audit.list(SYSTEM, action="payment.webhook_refused", target=f"payment:{d2.id}")
    assert await _balance(kit, alice) == (570, 570, 0)
    await assert_conserved(kit)


# -- authorisation and reading ---------------------------------------------------------------


async def test_players_act_only_for_themselves(
    pkit: tuple[WagerKit, RecordingPublisher],
) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice", 100)
    bob = await _user(kit, "bob", 100)
    assert alice.user_id is not None
    assert bob.user_id is not None
    with pytest.raises(PermissionDenied):
        await kit.payments.deposit(alice, bob.user_id, 10, None, "dev")
    with pytest.raises(PermissionDenied):
        await kit.payments.withdraw(alice, bob.user_id, 10, None, "acme")
    mine = await kit.payments.withdraw(bob, bob.user_id, 10, None, "acme")
    for call in (
        kit.payments.confirm(alice, mine.id),
        kit.payments.fail(alice, mine.id, "no"),
        kit.payments.get(alice, mine.id),
        kit.payments.list(alice, bob.user_id),
        kit.payments.list(alice),
    ):
        with pytest.raises(PermissionDenied):
            await call
    assert (await kit.payments.get(bob, mine.id)) == mine
    # staff act for anyone
    staff = await kit.payments.deposit(OPERATOR, alice.user_id, 10, None, "dev")
    assert staff.status is PaymentStatus.SUCCEEDED
    assert await _balance(kit, alice) == (110, 110, 0)
    assert await _balance(kit, bob) == (100, 90, 10)
    await assert_conserved(kit)


async def test_list_pages_newest_first(pkit: tuple[WagerKit, RecordingPublisher]) -> None:
    kit, _ = pkit
    alice = await _user(kit, "alice")
    bob = await _user(kit, "bob")
    assert alice.user_id is not None
    assert bob.user_id is not None
    made = [await kit.payments.deposit(alice, alice.user_id, i + 1, None, "dev") for i in range(5)]
    await kit.payments.deposit(bob, bob.user_id, 9, None, "dev")
    page1 = await kit.payments.list(alice, alice.user_id, limit=3)
    assert [p.id for p in page1.payments] == [p.id for p in reversed(made)][:3]
    assert page1.next_before is not None
    page2 = await kit.payments.list(alice, alice.user_id, limit=3, before=page1.next_before)
    assert [p.id for p in page2.payments] == [made[1].id, made[0].id]
    assert page2.next_before is None
    assert len((await kit.payments.list(SYSTEM, limit=100)).payments) == 6
    with pytest.raises(InvalidInput):
        await kit.payments.list(SYSTEM, limit=0)
    await assert_conserved(kit)


def test_provider_repr_and_settings_hide_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAGERKIT_WEBHOOK_SECRETS", json.dumps({"acme": SECRET}))
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.webhook_secrets["acme"].get_secret_value() == SECRET
    assert SECRET not in repr(s)
    assert SECRET not in str(s.model_dump())
    providers = payment_providers(webhook_secrets=s.webhook_secrets)
    assert set(providers) == {"acme"}
    assert SECRET not in repr(providers["acme"])
    assert isinstance(providers["acme"], SignedWebhookProvider)
    for bad in ({"Bad Name": SECRET}, {"dev": SECRET}, {"acme": "short"}):
        monkeypatch.setenv("WAGERKIT_WEBHOOK_SECRETS", json.dumps(bad))
        with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
            Settings(_env_file=None)  # type: ignore[call-arg]


# -- PostgreSQL: concurrent webhooks ---------------------------------------------------------


@pytest.mark.postgres
async def test_concurrent_webhooks_move_money_exactly_once(pg_url: str) -> None:
    stores = [SqlStore.from_url(pg_url, pool_size=4) for _ in range(2)]
    await stores[0].create_all()
    try:
        kits = [make_kit(s)[0] for s in stores]
        alice = await _user(kits[0], "alice", 1000)
        assert alice.user_id is not None
        deposits = [
            await kits[0].payments.deposit(alice, alice.user_id, 100 + i, None, "acme")
            for i in range(4)
        ]
        withdrawals = [
            await kits[0].payments.withdraw(alice, alice.user_id, 50 + i, None, "acme")
            for i in range(4)
        ]
        # the same webhook delivered twice at once, to two processes (two pools)
        for p in deposits + withdrawals:
            body = webhook(p, f"ref-{p.id}")
            a, b = await asyncio.gather(
                kits[0].payments.handle_webhook("acme", body, sign(body)),
                kits[1].payments.handle_webhook("acme", body, sign(body)),
            )
            assert a == b
            assert a.status is PaymentStatus.SUCCEEDED
        # two different, contradicting webhooks at once: exactly one wins
        w = await kits[0].payments.withdraw(alice, alice.user_id, 70, None, "acme")
        ok_body, fail_body = webhook(w, "race-ok"), webhook(w, "race-fail", "failed")
        results = await asyncio.gather(
            kits[0].payments.handle_webhook("acme", ok_body, sign(ok_body)),
            kits[1].payments.handle_webhook("acme", fail_body, sign(fail_body)),
            return_exceptions=True,
        )
        wins = [r for r in results if isinstance(r, Payment)]
        assert len(wins) == 1, results
        assert all(isinstance(r, PaymentAlreadyFinal) for r in results if r not in wins)
        final = await kits[0].payments.get(SYSTEM, w.id)
        moved = 70 if final.status is PaymentStatus.SUCCEEDED else 0

        credited = sum(p.amount for p in deposits)
        paid = sum(p.amount for p in withdrawals) + moved
        assert await _balance(kits[0], alice) == (1000 + credited - paid,) * 2 + (0,)
        for p in deposits:
            assert await _payment_transfers(kits[0], p.id) == [f"payment:{p.id}:credit"]
        for p in withdrawals:
            assert sorted(await _payment_transfers(kits[0], p.id)) == [
                f"payment:{p.id}:hold",
                f"payment:{p.id}:post",
            ]
        await assert_conserved(kits[0])
    finally:
        for s in stores:
            await s.dispose()

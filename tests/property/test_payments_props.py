"""Random sequences of deposits, withdrawals, operator confirms and fails, webhooks (some
contradicting, some with wrong amounts) and replays of all of them: the books balance after
every step, no wallet goes below zero, each payment's money moves at most once, and the
wallets hold exactly what a simple model of the payments says."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from property_stores import StoreMaker, memory_store, sqlite_store

from wagerkit import Actor, Role, WagerKit
from wagerkit.adapters.payments import payment_providers
from wagerkit.domain.errors import WagerkitError
from wagerkit.domain.payments import Payment, PaymentKind, PaymentStatus
from wagerkit.testing import FixedClock, SequentialIds

SECRET = "property-secret-0123456789"
OPERATOR = Actor(None, Role.OPERATOR, "op")
SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]
USERS = 3

users = st.integers(0, USERS - 1)
amounts = st.integers(1, 300)
keys = st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"]))
providers = st.sampled_from(["dev", "acme", "acme"])
targets = st.integers(0, 30)  # index into the payments made so far (modulo)

ops = st.one_of(
    st.tuples(st.just("deposit"), users, amounts, providers, keys),
    st.tuples(st.just("withdraw"), users, amounts, providers, keys),
    st.tuples(st.just("confirm"), targets),
    st.tuples(st.just("fail"), targets),
    st.tuples(
        st.just("webhook"),
        targets,
        st.sampled_from(["succeeded", "failed"]),
        st.sampled_from(["r1", "r2", "r3", "unique"]),
        st.booleans(),  # the right amount?
    ),
    st.tuples(st.just("replay"), targets),
)


def _sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


async def _run(make: StoreMaker, steps: list[tuple[Any, ...]]) -> None:
    store, cleanup = await make()
    try:
        kit = WagerKit(
            store,
            clock=FixedClock(),
            ids=SequentialIds(),
            welcome_grant={"COIN": 500},
            payment_providers=payment_providers(
                dev_payments=True, webhook_secrets={"acme": SECRET}
            ),
        )
        actors = [Actor.of(await kit.users.add(Actor.system(), f"u{i}")) for i in range(USERS)]
        made: list[str] = []  # payment ids in creation order
        sent: list[bytes] = []  # webhook bodies sent so far
        for n, step in enumerate(steps):
            with contextlib.suppress(WagerkitError):  # refusals are fine: the state counts
                await _apply(kit, actors, made, sent, n, step)
            await _check(kit, actors, made)
    finally:
        await cleanup()


async def _apply(
    kit: WagerKit,
    actors: list[Actor],
    made: list[str],
    sent: list[bytes],
    n: int,
    step: tuple[Any, ...],
) -> None:
    op = step[0]
    if op in ("deposit", "withdraw"):
        _, u, amount, provider, key = step
        actor = actors[u]
        assert actor.user_id is not None
        start = kit.payments.deposit if op == "deposit" else kit.payments.withdraw
        p = await start(actor, actor.user_id, amount, None, provider, idempotency_key=key)
        if p.id not in made:
            made.append(p.id)
        return
    if not made:
        return
    pid = made[step[1] % len(made)]
    if op == "confirm":
        await kit.payments.confirm(OPERATOR, pid)
    elif op == "fail":
        await kit.payments.fail(OPERATOR, pid, "property test")
    elif op == "webhook":
        _, _, status, ref, right_amount = step
        p = await kit.payments.get(OPERATOR, pid)
        body = json.dumps(
            {
                "reference": f"{ref}-{n}" if ref == "unique" else ref,
                "payment_id": p.id,
                "status": status,
                "amount": p.amount if right_amount else p.amount + 1,
                "currency": p.currency,
            }
        ).encode()
        sent.append(body)
        await kit.payments.handle_webhook("acme", body, _sign(body))
    elif op == "replay" and sent:
        body = sent[step[1] % len(sent)]
        await kit.payments.handle_webhook("acme", body, _sign(body))


async def _check(kit: WagerKit, actors: list[Actor], made: list[str]) -> None:
    for t in await kit.wallets.totals(OPERATOR):
        assert t.conserved, t
    async with kit.deps.uow() as uow:
        journal = await uow.ledger.journal(limit=100_000)
        payments: list[Payment] = [p for pid in made if (p := await uow.payments.get(pid))]
    by_payment: dict[str, list[str]] = {}
    for t in journal:
        if t.id.startswith("payment:"):
            by_payment.setdefault(t.id.split(":")[1], []).append(t.id.rsplit(":", 1)[1])
    expected = dict.fromkeys(range(len(actors)), 500)
    held = dict.fromkeys(range(len(actors)), 0)
    for p in payments:
        moves = sorted(by_payment.get(p.id, []))
        u = p.user_id - 1
        if p.kind is PaymentKind.DEPOSIT:
            assert moves == (["credit"] if p.status is PaymentStatus.SUCCEEDED else []), p
            expected[u] += p.amount if p.status is PaymentStatus.SUCCEEDED else 0
        else:
            want = {
                PaymentStatus.PENDING: ["hold"],
                PaymentStatus.SUCCEEDED: ["hold", "post"],
                PaymentStatus.FAILED: ["hold", "void"],
            }[p.status]
            assert moves == want, p
            expected[u] -= p.amount if p.status is PaymentStatus.SUCCEEDED else 0
            held[u] += p.amount if p.status is PaymentStatus.PENDING else 0
    assert set(by_payment) <= {p.id for p in payments}  # no money for unknown payments
    for i, actor in enumerate(actors):
        assert actor.user_id is not None
        b = await kit.wallets.balance(OPERATOR, actor.user_id)
        assert b.balance >= 0
        assert b.available >= 0
        assert (b.balance, b.held) == (expected[i], held[i])


@settings(max_examples=120, deadline=None, suppress_health_check=SLOW)
@given(steps=st.lists(ops, min_size=1, max_size=25))
def test_payments_keep_the_books_memory(steps: list[tuple[Any, ...]]) -> None:
    asyncio.run(_run(memory_store, steps))


@settings(max_examples=15, deadline=None, suppress_health_check=SLOW)
@given(steps=st.lists(ops, min_size=1, max_size=20))
def test_payments_keep_the_books_sqlite(steps: list[tuple[Any, ...]]) -> None:
    asyncio.run(_run(sqlite_store, steps))

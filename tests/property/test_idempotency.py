"""Applying a batch twice: what was accepted the first time is replayed, nothing moves twice.

Note on the exact property. A *refused* request leaves no trace (ledger docstring), so when
the same batch is submitted again its refused requests are decided afresh and may now be
accepted: e.g. ``[send 100 from Alice (refused: insufficient funds), grant 100 to Alice]``
accepts the send on the second application. So the tests check:

* batches whose requests were all accepted: the second application is all replays, returns
  the same transfers, and leaves balances and the journal exactly as they were;
* any batch: every accepted request is replayed with the same transfer; every refused one is
  refused again or newly accepted, and the journal grows by exactly the newly accepted ones,
  the balances by exactly their effect; refusals that do not depend on the state (invalid
  amount, same account, currency mismatch, unknown account) are refused again the same way.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from property_stores import StoreMaker, memory_store, postgres_store, sqlite_store

from wagerkit.domain.errors import (
    AccountNotFound,
    CurrencyMismatch,
    InvalidAmount,
    SameAccount,
)
from wagerkit.domain.ledger import (
    AccountFlags,
    AccountKind,
    LinkedBatch,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferResult,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)
SINGLE, PENDING, POST, VOID = (
    TransferKind.SINGLE,
    TransferKind.PENDING,
    TransferKind.POST,
    TransferKind.VOID,
)

# account ids as a fresh store numbers them, in this order
TREASURY, ESCROW, U1, U2, U3, RUB_USER, RUB_TREASURY = 1, 2, 3, 4, 5, 6, 7
ACCOUNTS = [
    (AccountKind.TREASURY, "system", "COIN", AccountFlags.NONE),
    (AccountKind.ESCROW, "holds", "COIN", AccountFlags.NONE),
    (AccountKind.USER, "user:1", "COIN", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
    (AccountKind.USER, "user:2", "COIN", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
    (AccountKind.USER, "user:3", "COIN", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
    (AccountKind.USER, "user:1", "RUB", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS),
    (AccountKind.TREASURY, "system", "RUB", AccountFlags.NONE),
]
# holds that exist before the batch: (id, debit, credit, amount, timeout)
SETUP_HOLDS = [
    ("h-a", U1, ESCROW, 100, 0),
    ("h-b", U2, ESCROW, 50, 10),  # expired by the time the batch runs
    ("h-c", TREASURY, U3, 70, 0),
]
STATIC_REFUSALS = (InvalidAmount, SameAccount, CurrencyMismatch, AccountNotFound)

COIN_IDS = [TREASURY, ESCROW, U1, U2, U3]
ALL_IDS = [*COIN_IDS, RUB_USER, RUB_TREASURY]

# -- strategies ------------------------------------------------------------------------------

amounts = st.sampled_from(["ok"] * 8 + ["zero", "huge"]).flatmap(
    lambda k: st.integers(1, 400) if k == "ok" else st.just(0 if k == "zero" else 10**8)
)
debits = st.sampled_from([TREASURY, TREASURY, TREASURY, U1, U1, U2, U3, ESCROW, RUB_USER, 99])
credits = st.sampled_from([ESCROW, U1, U2, U3, U3, TREASURY, RUB_TREASURY, 99])


@st.composite
def any_request(draw: st.DrawFn) -> TransferRequest:
    """A request with a placeholder id; ``pending_id`` names a setup hold, ``#n`` the n-th
    request of the batch, or nothing that exists."""
    kind = draw(st.sampled_from([SINGLE, SINGLE, PENDING, POST, VOID]))
    memo = draw(st.sampled_from(["", "memo"]))
    if kind in (SINGLE, PENDING):
        timeout = draw(st.sampled_from([0, 0, 5])) if kind is PENDING else 0
        return TransferRequest(
            "?", draw(debits), draw(credits), draw(amounts), "x", kind, None, timeout, "", memo
        )
    target = draw(
        st.one_of(
            st.sampled_from([h[0] for h in SETUP_HOLDS] + ["nope", "funding-1"]),
            st.integers(0, 5).map(lambda n: f"#{n}"),
        )
    )
    amount = draw(st.sampled_from([0, 0, 10, 60, 1000])) if kind is POST else 0
    return TransferRequest("?", amount=amount, code="", kind=kind, pending_id=target, memo=memo)


@st.composite
def valid_request(draw: st.DrawFn) -> TransferRequest:
    """A request that is accepted whatever happened before: from a treasury, or resolving a
    hold created earlier in the same batch (see ``valid_batches``)."""
    kind = draw(st.sampled_from([SINGLE, SINGLE, PENDING, POST, VOID]))
    if kind in (POST, VOID):
        return TransferRequest("?", amount=draw(st.integers(0, 5)), code="", kind=kind)
    cr = draw(st.sampled_from([ESCROW, U1, U2, U3]))
    timeout = draw(st.sampled_from([0, 60])) if kind is PENDING else 0
    return TransferRequest(
        "?", TREASURY, cr, draw(st.integers(1, 10**6)), "x", kind, timeout_seconds=timeout
    )


def number(reqs: list[TransferRequest], prefix: str) -> list[TransferRequest]:
    """Give each request a unique id and resolve ``#n`` references."""
    ids = [f"{prefix}{i}" for i in range(len(reqs))]
    out = []
    for i, r in enumerate(reqs):
        pid = r.pending_id
        if pid and pid.startswith("#"):
            pid = ids[int(pid[1:]) % len(ids)]
        out.append(replace(r, id=ids[i], pending_id=pid))
    return out


@st.composite
def any_batches(draw: st.DrawFn) -> list[TransferRequest | LinkedBatch]:
    reqs = number(draw(st.lists(any_request(), min_size=1, max_size=8)), "r")
    items: list[TransferRequest | LinkedBatch] = []
    i = 0
    while i < len(reqs):
        shape = draw(st.sampled_from(["single", "single", "linked", "again"]))
        if shape == "linked" and i + 1 < len(reqs):
            n = draw(st.integers(2, 3))
            items.append(LinkedBatch(reqs[i : i + n]))
            i += n
            continue
        items.append(reqs[i])
        if shape == "again":  # the same request twice in one batch
            items.append(reqs[i])
        i += 1
    return items


@st.composite
def valid_batches(draw: st.DrawFn) -> list[TransferRequest | LinkedBatch]:
    raw = draw(st.lists(valid_request(), min_size=1, max_size=8))
    reqs: list[TransferRequest] = []
    open_holds: list[tuple[str, int]] = []
    for i, r in enumerate(raw):
        rid = f"v{i}"
        if r.kind in (POST, VOID):
            if not open_holds:
                r = TransferRequest(rid, TREASURY, U1, 1 + r.amount, "x")
            else:
                pid, amount = open_holds.pop(draw(st.integers(0, len(open_holds) - 1)))
                post_amount = min(r.amount, amount) if r.kind is POST else 0
                r = replace(r, id=rid, pending_id=pid, amount=post_amount)
        else:
            r = replace(r, id=rid)
            if r.kind is PENDING:
                open_holds.append((rid, r.amount))
        reqs.append(r)
    items: list[TransferRequest | LinkedBatch] = []
    i = 0
    while i < len(reqs):
        n = draw(st.integers(1, 3))
        chunk = reqs[i : i + n]
        items.append(LinkedBatch(chunk) if len(chunk) > 1 else chunk[0])
        i += n
    return items


# -- running ---------------------------------------------------------------------------------

Totals = dict[int, tuple[int, int, int, int]]


async def _prepare(store: Any) -> None:
    uow = store()
    async with uow:
        for n, (kind, owner, currency, flags) in enumerate(ACCOUNTS, start=1):
            acc = await uow.ledger.open_account(kind, owner, currency, flags)
            assert acc.id == n
        funding = [
            TransferRequest("funding-1", TREASURY, U1, 500, "grant"),
            TransferRequest("funding-2", TREASURY, U2, 300, "grant"),
            TransferRequest("funding-3", RUB_TREASURY, RUB_USER, 900, "grant"),
        ]
        holds = [
            TransferRequest(h, dr, cr, amount, "hold", PENDING, timeout_seconds=t)
            for h, dr, cr, amount, t in SETUP_HOLDS
        ]
        results = await uow.ledger.apply(funding + holds, NOW - timedelta(seconds=60))
        assert all(r.ok for r in results)
        await uow.commit()


async def _apply(
    store: Any, items: list[TransferRequest | LinkedBatch], now: datetime
) -> tuple[list[TransferResult], Totals, list[Transfer]]:
    uow = store()
    async with uow:
        results = await uow.ledger.apply(items, now)
        await uow.commit()
    uow = store()
    async with uow:
        totals: Totals = {}
        for n in range(1, len(ACCOUNTS) + 1):
            a = await uow.ledger.get_account(n)
            assert a is not None
            totals[n] = (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending)
        for t in await uow.ledger.totals():
            assert t.conserved, t
        journal = await uow.ledger.journal(limit=10_000)
    return results, totals, journal


def _same_transfer(a: Transfer, b: Transfer) -> None:
    # seq is not compared: a replay inside the first batch does not carry it (reported bug)
    assert replace(a, seq=0) == replace(b, seq=0)


def _effect(journal: list[Transfer], pending_amounts: dict[str, int]) -> Totals:
    """The change of every account's totals caused by ``journal``."""
    d: dict[int, list[int]] = {n: [0, 0, 0, 0] for n in range(1, len(ACCOUNTS) + 1)}
    for t in journal:
        dr, cr = d[t.debit_account_id], d[t.credit_account_id]
        if t.kind is SINGLE:
            dr[0] += t.amount
            cr[1] += t.amount
        elif t.kind is PENDING:
            dr[2] += t.amount
            cr[3] += t.amount
        else:
            assert t.pending_id is not None
            held = pending_amounts[t.pending_id]
            dr[2] -= held
            cr[3] -= held
            if t.kind is POST:
                dr[0] += t.amount
                cr[1] += t.amount
    return {n: (v[0], v[1], v[2], v[3]) for n, v in d.items()}


async def _twice(maker: StoreMaker, items: list[TransferRequest | LinkedBatch]) -> tuple[int, int]:
    store, cleanup = await maker()
    try:
        await _prepare(store)
        first, totals1, journal1 = await _apply(store, items, NOW)
        second, totals2, journal2 = await _apply(store, items, LATER)
    finally:
        await cleanup()
    assert len(first) == len(second)
    newly: list[str] = []
    for a, b in zip(first, second, strict=True):
        assert a.request_id == b.request_id
        if a.ok:
            assert b.ok, (a, b)
            assert b.replayed, (a, b)
            assert a.transfer is not None
            assert b.transfer is not None
            _same_transfer(a.transfer, b.transfer)
            if not a.replayed:
                assert b.transfer.seq == a.transfer.seq
        elif b.ok:
            assert not isinstance(a.error, STATIC_REFUSALS), (a, b)
            if not b.replayed:
                newly.append(b.request_id)
        else:
            assert b.transfer is None
            if isinstance(a.error, STATIC_REFUSALS):
                assert type(b.error) is type(a.error), (a, b)
    # the journal grew by exactly the newly accepted requests, in order
    assert journal2[: len(journal1)] == journal1
    added = journal2[len(journal1) :]
    assert [t.id for t in added] == newly
    pendings = {t.id: t.amount for t in journal2 if t.kind is PENDING}
    delta = _effect(added, pendings)
    for n in totals1:
        assert tuple(x + y for x, y in zip(totals1[n], delta[n], strict=True)) == totals2[n]
    if not newly:
        assert totals2 == totals1
        assert journal2 == journal1
    return sum(r.ok for r in first), len(newly)


def _all_accepted_twice(maker: StoreMaker, items: list[TransferRequest | LinkedBatch]) -> None:
    async def go() -> None:
        store, cleanup = await maker()
        try:
            await _prepare(store)
            first, totals1, journal1 = await _apply(store, items, NOW)
            assert all(r.ok and not r.replayed for r in first), first
            second, totals2, journal2 = await _apply(store, items, LATER)
        finally:
            await cleanup()
        for a, b in zip(first, second, strict=True):
            assert b.ok, b
            assert b.replayed, b
            assert a.transfer == b.transfer
        assert totals2 == totals1
        assert journal2 == journal1

    asyncio.run(go())


SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=200, deadline=None, suppress_health_check=SLOW)
@given(items=valid_batches())
def test_accepted_batch_twice_is_a_replay_memory(
    items: list[TransferRequest | LinkedBatch],
) -> None:
    _all_accepted_twice(memory_store, items)


@settings(max_examples=300, deadline=None, suppress_health_check=SLOW)
@given(items=any_batches())
def test_any_batch_twice_memory(items: list[TransferRequest | LinkedBatch]) -> None:
    accepted, newly = asyncio.run(_twice(memory_store, items))
    event(f"accepted the first time: {min(accepted, 3)}+")
    event(f"newly accepted the second time: {bool(newly)}")


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(items=valid_batches())
def test_accepted_batch_twice_is_a_replay_sqlite(
    items: list[TransferRequest | LinkedBatch],
) -> None:
    _all_accepted_twice(sqlite_store, items)


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(items=any_batches())
def test_any_batch_twice_sqlite(items: list[TransferRequest | LinkedBatch]) -> None:
    asyncio.run(_twice(sqlite_store, items))


@pytest.mark.postgres
@settings(max_examples=15, deadline=None, suppress_health_check=SLOW)
@given(items=valid_batches())
def test_accepted_batch_twice_is_a_replay_postgres(
    pg_url: str, items: list[TransferRequest | LinkedBatch]
) -> None:
    _all_accepted_twice(postgres_store(pg_url), items)


@pytest.mark.postgres
@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(items=any_batches())
def test_any_batch_twice_postgres(pg_url: str, items: list[TransferRequest | LinkedBatch]) -> None:
    asyncio.run(_twice(postgres_store(pg_url), items))


def test_a_refused_request_is_decided_afresh_the_second_time() -> None:
    """Why the property above is not 'the second application is all replays or the same
    refusals': a refusal leaves no trace, so later funding lets the same request through."""
    items: list[TransferRequest | LinkedBatch] = [
        TransferRequest("spend", U3, ESCROW, 100, "x"),  # U3 has nothing yet
        TransferRequest("fund", TREASURY, U3, 100, "x"),
    ]
    accepted, newly = asyncio.run(_twice(memory_store, items))
    assert (accepted, newly) == (1, 1)

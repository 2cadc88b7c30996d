"""Real parallel clients against PostgreSQL: 4 processes × 8 connections = 32 clients make
2,400 random transfers among 20 wallets, a fifth of them replays of earlier keys. Afterwards
the books must balance exactly and agree with a sequential replay of the journal."""

from __future__ import annotations

import random
import sys
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from wagerkit import Actor, TransferKind, WagerKit
from wagerkit.adapters.sql import SqlStore

sys.path.insert(0, str(Path(__file__).parent))
from concurrency_worker import Op, run_client_process

pytestmark = pytest.mark.postgres

PROCESSES, CLIENTS_PER_PROCESS, WALLETS, OPS = 4, 8, 20, 2400


def _plan(users: list[int], seed: int = 7) -> list[Op]:
    rng = random.Random(seed)
    ops: list[Op] = []
    for i in range(OPS):
        if ops and rng.random() < 0.2:
            ops.append(rng.choice(ops))  # replay: same key, same content
        else:
            src, dst = rng.sample(users, 2)
            ops.append((f"k{i}", src, dst, rng.randint(1, 400)))
    return ops


async def test_concurrent_transfers_keep_the_books(pg_url: str) -> None:
    from wagerkit.adapters.sql.migrate import upgrade

    upgrade(pg_url)
    store = SqlStore.from_url(pg_url)
    kit = WagerKit(store)
    users = [(await kit.users.add(Actor.system(), f"u{i}")).id for i in range(WALLETS)]
    ops = _plan(users)
    shares = [ops[i::PROCESSES] for i in range(PROCESSES)]
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(run_client_process, pg_url, share, CLIENTS_PER_PROCESS) for share in shares
        ]
        results = [r for f in futures for r in f.result()]

    assert len(results) == OPS
    # no deadlock, serialization failure or other store error reached a caller
    unexpected = [r for r in results if not r["ok"] and r["error"] != "insufficient_funds"]
    assert unexpected == []

    accepted_by_key: dict[str, set[int]] = defaultdict(set)
    for r in results:
        if r["ok"]:
            accepted_by_key[r["key"]].add(r["seq"])
    # every replay of an accepted key got the same, single transfer
    assert all(len(seqs) == 1 for seqs in accepted_by_key.values())
    assert sum(1 for r in results if r["ok"]) > OPS // 3  # the test really moved money

    async with store() as uow:
        journal = []
        while batch := await uow.ledger.journal(
            after_seq=journal[-1].seq if journal else 0, limit=1000
        ):
            journal.extend(batch)
        totals = await uow.ledger.totals()
        accounts = {}
        for uid in users:
            for a in await uow.ledger.accounts_of(f"user:{uid}"):
                accounts[a.id] = a
        treasury_ids = {t.debit_account_id for t in journal if t.code == "grant"}
        for aid in treasury_ids:
            acc = await uow.ledger.get_account(aid)
            assert acc is not None
            accounts[aid] = acc

    transfer_ids = Counter(t.id for t in journal if t.code == "transfer")
    # every accepted transfer is in the journal exactly once, and nothing else is
    assert set(transfer_ids) == {
        f"transfer:user:{op[1]}:{op[0]}" for op in ops if op[0] in accepted_by_key
    }
    assert all(n == 1 for n in transfer_ids.values())

    assert all(t.conserved for t in totals)
    # a sequential replay of the journal gives exactly the stored balances
    replay: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for t in sorted(journal, key=lambda t: t.seq):
        assert t.kind is TransferKind.SINGLE
        replay[t.debit_account_id][0] += t.amount
        replay[t.credit_account_id][1] += t.amount
        # and no wallet was ever below zero along the way
        if t.code == "transfer":
            assert t.debit_balance_after >= 0
    for aid, acc in accounts.items():
        assert [acc.debits_posted, acc.credits_posted] == replay[aid], aid
        if acc.kind.value == "user":
            assert acc.balance >= 0
            assert acc.available >= 0
    await store.dispose()

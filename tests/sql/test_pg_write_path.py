"""PostgreSQL defers a ledger batch's write to the commit (one pipelined round trip). Whatever
runs in between must still see it, an uncommitted unit of work must leave nothing, and a race
that only shows at commit must come back as a retryable error, which the services retry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wagerkit import AccountFlags, AccountKind, TransferRequest, TransientStoreError
from wagerkit.adapters.sql import SqlStore

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def _accounts(store: SqlStore, n: int) -> list[int]:
    async with store() as uow:
        t = await uow.ledger.open_account(AccountKind.TREASURY, "system", "COIN", AccountFlags.NONE)
        ids = [t.id]
        for i in range(n):
            acc = await uow.ledger.open_account(
                AccountKind.USER, f"user:{i}", "COIN", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            )
            ids.append(acc.id)
        await uow.commit()
    return ids


async def test_reads_in_the_same_unit_of_work_see_the_deferred_write(pg_url: str) -> None:
    store = SqlStore.from_url(pg_url)
    await store.create_all()
    treasury, a, b = await _accounts(store, 2)
    async with store() as uow:
        (res,) = await uow.ledger.apply([TransferRequest("g1", treasury, a, 50, "grant")], NOW)
        assert res.ok
        assert res.transfer is not None
        assert res.transfer.seq > 0  # known before the write reaches the database
        assert (await uow.ledger.get_transfer("g1")) == res.transfer
        acc = await uow.ledger.get_account(a)
        assert acc is not None
        assert acc.balance == 50
        # a second batch in the same unit of work builds on the first
        (res2,) = await uow.ledger.apply([TransferRequest("t1", a, b, 30, "transfer")], NOW)
        assert res2.ok
        await uow.commit()
    async with store() as uow:
        balances = [(await uow.ledger.get_account(x)).balance for x in (treasury, a, b)]  # type: ignore[union-attr]
        assert balances == [-50, 20, 30]
        assert [t.id for t in await uow.ledger.journal()] == ["g1", "t1"]
    await store.dispose()


async def test_a_unit_of_work_that_is_not_committed_writes_nothing(pg_url: str) -> None:
    store = SqlStore.from_url(pg_url)
    await store.create_all()
    treasury, a = await _accounts(store, 1)
    async with store() as uow:
        (res,) = await uow.ledger.apply([TransferRequest("g1", treasury, a, 50, "grant")], NOW)
        assert res.ok
    async with store() as uow:
        assert await uow.ledger.get_transfer("g1") is None
        assert (await uow.ledger.get_account(a)).balance == 0  # type: ignore[union-attr]
    await store.dispose()


async def test_a_race_seen_only_at_commit_is_retryable(pg_url: str) -> None:
    store = SqlStore.from_url(pg_url)
    await store.create_all()
    treasury, a, _b, c = await _accounts(store, 3)
    async with store() as first:
        (res,) = await first.ledger.apply([TransferRequest("same", treasury, a, 5, "grant")], NOW)
        assert res.ok  # planned; its write waits for the commit
        async with store() as second:  # other accounts, so no lock wait: the same id wins first
            house = await second.ledger.open_account(
                AccountKind.HOUSE, "system", "COIN", AccountFlags.NONE
            )
            (res2,) = await second.ledger.apply([TransferRequest("same", house.id, c, 7, "x")], NOW)
            assert res2.ok
            await second.commit()
        with pytest.raises(TransientStoreError):
            await first.commit()
    async with store() as uow:  # the loser left nothing behind
        assert (await uow.ledger.get_account(a)).balance == 0  # type: ignore[union-attr]
        assert (await uow.ledger.get_transfer("same")).credit_account_id == c  # type: ignore[union-attr]
    await store.dispose()


@pytest.mark.parametrize("path", ["commit", "next statement"])
@pytest.mark.parametrize("race", [True, False])
async def test_a_deferred_write_names_the_failures_that_are_lost_races(
    pg_url: str, path: str, race: bool
) -> None:
    """A deferred write fails at the COMMIT or at the next statement, far from the code that
    knows what its failure means: the bet write says that a missing outcome (23503: replaced
    by an edit that committed while the batch waited) is a lost race, to be decided again."""
    from sqlalchemy import text

    from wagerkit import StoreError

    store = SqlStore.from_url(pg_url)
    await store.create_all()
    orphan = "INSERT INTO event_outcomes (event_id, name, position, total, bettors)"
    orphan += " VALUES ({e}, 'x', 0, 0, 0)"  # no event 424242: a foreign-key violation
    transient = frozenset({"23503"}) if race else frozenset()

    async def deferred_then(next_step: str) -> None:
        async with store() as uow:
            s = uow.ledger._s  # type: ignore[attr-defined]
            s.defer(
                text(orphan.format(e=":e")), orphan.format(e="%(e)s"), {"e": 424242},
                transient=transient,
            )  # fmt: skip
            if next_step == "commit":
                await uow.commit()
            else:
                await uow.ledger.get_account(1)

    with pytest.raises(StoreError) as caught:
        await deferred_then(path)
    assert isinstance(caught.value, TransientStoreError) is race
    async with store() as uow:  # nothing was written, and the next unit of work works
        assert await uow.ledger.get_account(1) is None
    await store.dispose()


async def test_json_parameters_and_results_keep_64_bit_totals_exact(pg_url: str) -> None:
    """The batches' JSON goes through orjson both ways (``dump_json`` parameters, the driver's
    json loader for ``json_agg`` results): totals near the top of ``bigint`` must survive the
    write's parameters and the lock-and-read's JSON unchanged, to the unit."""
    big = 2**62 + 12345
    store = SqlStore.from_url(pg_url)
    await store.create_all()
    treasury, a, b = await _accounts(store, 2)
    async with store() as uow:
        (res,) = await uow.ledger.apply([TransferRequest("big1", treasury, a, big, "grant")], NOW)
        assert res.ok
        await uow.commit()
    async with store() as uow:  # a new batch reads a's totals back from the lock's JSON
        (res,) = await uow.ledger.apply([TransferRequest("big2", a, b, big - 7, "transfer")], NOW)
        assert res.ok
        assert res.transfer is not None
        assert res.transfer.debit_balance_after == 7
        assert res.transfer.credit_balance_after == big - 7
        await uow.commit()
    async with store() as uow:
        balances = [(await uow.ledger.get_account(x)).balance for x in (treasury, a, b)]  # type: ignore[union-attr]
        assert balances == [-big, 7, big - 7]
        assert sum(balances) == 0
        # the transfers read back as they were written (json_populate_recordset of the rows)
        t2 = await uow.ledger.get_transfer("big2")
        assert t2 is not None
        assert (t2.amount, t2.credit_balance_after) == (big - 7, big - 7)
    await store.dispose()

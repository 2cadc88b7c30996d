"""The predictions benchmarks (issue 9, docs/benchmarks.md "Predictions").

**Settlement**: settling 100,000 due prediction contracts in one job pass, against settling
them one by one (the baseline: ``settle_due(limit=1)``, a claim, a ledger batch and a write per
contract; sampled and extrapolated).

**Placements over HTTP** (``placement_load``), the raffles purchase bench's method: set-up
through the library, not timed: 1,000 funded players with access tokens issued in-process with
the server's secret, one symbol (``BTC-USD``), house exposure limits set high enough never to
refuse (10^15 per symbol and in total: the limit check and the exposure row locks still run).
The server as production runs it (``events_bench.server``: uvicorn, 2 workers, no job loop)
with the same prediction settings through its environment (``PREDICTION_ENV``). wrk drives
``POST /api/v1/predictions`` with 64 connections (``contracts.lua``): fixed-odds contracts of
10 on the one symbol, up and down alternating, duration 1m (of the configured ``1m,5m``), an
``Idempotency-Key`` per request; only 201 answers count. Placements have no rate limit, so
there is nothing to lift beyond ``events_bench.RATE_LIMITS`` (``server_env`` sets it).

The price stays fresh the way production keeps it: the bench process records a tick through
the library (``kit.prices.store``) every second for the whole run (``_ticker``), and the
server keeps the default staleness window (``WAGERKIT_PRICE_MAX_AGE=10s``). A single manual
price with a window of hours would also work, but then the entry-price read would see a
one-row table and a setting production never runs with; one insert a second costs nothing.

After the runs (``_reconcile``, through the library): money is conserved; the contracts
stored are exactly the 201 answers (count, all open, stake 10); the house account holds their
stakes; the exposure rows (the symbol and the total) hold their maximum payouts; and each
player's wallet is down by exactly their own stakes. Any mismatch fails the bench.

Run alone: ``python tests/bench/predictions_bench.py [N]`` (settlement) or ``python
tests/bench/predictions_bench.py placements`` (starts its own PostgreSQL, or uses
``WAGERKIT_TEST_PG_URL``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from pgserver import create_database, postgres_server  # noqa: E402

from wagerkit import (  # noqa: E402
    Actor,
    Contract,
    ContractKind,
    Direction,
    PredictionPolicy,
    Tick,
    WagerKit,
)
from wagerkit.adapters.sql import SqlStore  # noqa: E402
from wagerkit.adapters.sql.migrate import upgrade  # noqa: E402
from wagerkit.testing import FixedClock  # noqa: E402

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SYM = "BTC-USD"


@dataclass(frozen=True, slots=True)
class SettleFigures:
    contracts: int
    batch_seconds: float
    sampled: int
    one_by_one_seconds: float  # extrapolated to ``contracts``

    @property
    def speedup(self) -> float:
        return self.one_by_one_seconds / self.batch_seconds


async def _world(url: str, n: int, users: int = 1000) -> None:
    """``n`` open contracts due at T0 + 60 s (no stakes: the house banks them), one tick."""
    store = SqlStore.from_url(url, pool_size=4)
    kit = WagerKit(store, clock=FixedClock(T0))
    try:
        ids = []
        for start in range(0, users, 50):
            made = await asyncio.gather(
                *(kit.users.add(Actor.system(), f"B{i}") for i in range(start, start + 50))
            )
            ids += [u.id for u in made]
        async with store() as uow:
            await uow.prices.add_ticks(
                [
                    Tick(SYM, T0, Decimal(100), "bench"),
                    Tick(SYM, T0 + timedelta(seconds=61), Decimal("100.5"), "bench"),
                ]
            )
            await uow.commit()
        for start in range(0, n, 5000):
            rows = [
                Contract(
                    id=0,
                    user_id=ids[i % users],
                    currency="COIN",
                    symbol=SYM,
                    direction=(Direction.UP, Direction.DOWN)[i % 2],
                    kind=ContractKind.FIXED if i % 3 else ContractKind.MULTIPLIER,
                    stake=10,
                    duration=60,
                    placed_at=T0,
                    expires_at=T0 + timedelta(seconds=60),
                    entry_price=Decimal(100),
                    entry_at=T0,
                    max_payout=110,
                    stake_transfer_id=f"bench:{i}",
                    payout_bps=8000,
                    leverage=None if i % 3 else 10,
                    cap=10,
                )
                for i in range(start, min(n, start + 5000))
            ]
            async with store() as uow:
                await uow.predictions.add_contracts(rows)
                await uow.commit()
    finally:
        await store.dispose()


async def _settle(url: str, *, limit: int, max_contracts: int | None) -> tuple[int, float]:
    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(
        store,
        clock=FixedClock(T0 + timedelta(seconds=120)),
        predictions=PredictionPolicy(durations=(60,)),
    )
    try:
        done = 0
        t = time.perf_counter()
        if max_contracts is None:
            r = await kit.predictions.settle_due(limit=limit)
            done = r.settled + r.voided
        else:
            while done < max_contracts:
                r = await kit.predictions._settle_chunk(limit)
                if not r:
                    break
                done += len(r)
        return done, time.perf_counter() - t
    finally:
        await store.dispose()


def settle_figures(server_url_for: object, n: int = 100_000, sample: int = 500) -> SettleFigures:
    """Both measurements on fresh databases of one server (``server_url_for(name)``)."""
    make = server_url_for  # a callable: database name -> URL
    assert callable(make)
    batch_url = make("predsettle")
    upgrade(batch_url)
    asyncio.run(_world(batch_url, n))
    done, batch = asyncio.run(_settle(batch_url, limit=5000, max_contracts=None))
    assert done == n, (done, n)
    base_url = make("predsettle1")
    upgrade(base_url)
    asyncio.run(_world(base_url, sample))
    done1, one = asyncio.run(_settle(base_url, limit=1, max_contracts=sample))
    assert done1 == sample
    return SettleFigures(n, batch, sample, one / sample * n)


# -- contract placements over HTTP -----------------------------------------------------------
CONTRACTS_LUA = HERE / "contracts.lua"
STAKE = 10
DURATION = 60
EXPOSURE_LIMIT = 10**15  # per symbol and in total: never refuses during the runs
PREDICTION_ENV = {
    "WAGERKIT_PRICE_SYMBOLS": SYM,
    "WAGERKIT_PRICE_FEED": "manual",  # the server records nothing (no job loop anyway)
    "WAGERKIT_PRICE_MAX_AGE": "10s",  # the default: the bench records a tick every second
    "WAGERKIT_PREDICTION_CURRENCY": "COIN",
    "WAGERKIT_PREDICTION_DURATIONS": "1m,5m",
    "WAGERKIT_PREDICTION_PAYOUT_BPS": "8000",
    "WAGERKIT_PREDICTION_EXPOSURE_LIMIT_SYMBOL": str(EXPOSURE_LIMIT),
    "WAGERKIT_PREDICTION_EXPOSURE_LIMIT_TOTAL": str(EXPOSURE_LIMIT),
}
POLICY = PredictionPolicy(
    durations=(60, 300),
    exposure_limit_symbol=EXPOSURE_LIMIT,
    exposure_limit_total=EXPOSURE_LIMIT,
)  # the bench process's view of the same settings


async def _players(url: str, secret: str) -> tuple[list[str], list[int]]:
    """1,000 funded players and their access tokens (issued with the server's secret)."""
    import events_bench as eb

    store = SqlStore.from_url(url, pool_size=16)
    try:
        people = await eb.funded_users(WagerKit(store), [f"player {i}" for i in range(eb.USERS)])
        issued = eb.access_tokens(secret, people)
    finally:
        await store.dispose()
    return issued, [u.id for u in people]


@contextlib.contextmanager
def _ticker(url: str, every: float = 1.0) -> Iterator[None]:
    """Record a tick of ``SYM`` now, then every ``every`` seconds until the block ends (a
    thread with its own event loop and a one-connection store)."""
    stop = threading.Event()
    first = threading.Event()
    failed: list[BaseException] = []

    async def loop() -> None:
        store = SqlStore.from_url(url, pool_size=1)
        kit = WagerKit(store)
        try:
            i = 0
            while not stop.is_set():
                price = Decimal(100) + Decimal(i % 11 - 5) / 100  # a small saw-tooth walk
                await kit.prices.store([Tick(SYM, datetime.now(UTC), price, "bench")])
                first.set()
                i += 1
                await asyncio.to_thread(stop.wait, every)
        finally:
            await store.dispose()

    def run() -> None:
        try:
            asyncio.run(loop())
        except BaseException as exc:  # reported when the block ends
            failed.append(exc)
            first.set()

    t = threading.Thread(target=run, name="bench-ticker", daemon=True)
    t.start()
    first.wait(30)
    try:
        if failed:
            raise RuntimeError(f"the price ticker failed: {failed[0]!r}")
        yield
    finally:
        stop.set()
        t.join(30)
    if failed:
        raise RuntimeError(f"the price ticker failed: {failed[0]!r}")


async def _reconcile(url: str, accepted: int, runs: int, user_ids: list[int]) -> None:
    """Fail unless the books match the ``accepted`` 201 answers of ``runs`` wrk runs (see the
    module docstring). wrk stops counting with requests in flight, which the server still
    completes: up to one a connection a run may be stored beyond the 201s counted."""
    import events_bench as eb

    from wagerkit.domain.ledger import AccountKind
    from wagerkit.services.accounts import system_account

    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(store, predictions=POLICY)
    staff = Actor.system("bench")
    try:
        for t in await kit.wallets.totals(staff):
            if not t.conserved:
                raise RuntimeError(f"money not conserved after the placements: {t}")
        contracts: list[Contract] = []
        before: int | None = None
        while True:
            page = await kit.predictions.list_contracts(staff, limit=500, before_id=before)
            contracts += page
            if len(page) < 500:
                break
            before = page[-1].id
        wrong = [
            c
            for c in contracts
            if (c.symbol, c.stake, c.kind, c.status.value)
            != (SYM, STAKE, ContractKind.FIXED, "open")
        ]
        stakes = sum(c.stake for c in contracts)
        most = sum(c.max_payout for c in contracts)
        per_user: dict[int, int] = {}
        for c in contracts:
            per_user[c.user_id] = per_user.get(c.user_id, 0) + c.stake
        exposure = {
            (r.currency, r.symbol): r.exposure for r in await kit.predictions.exposure(staff)
        }
        async with store() as uow:
            house = await system_account(uow, AccountKind.HOUSE, POLICY.currency)
            spent = {}
            for uid in user_ids:
                acc = await uow.ledger.find_account(
                    AccountKind.USER, f"user:{uid}", POLICY.currency
                )
                assert acc is not None
                spent[uid] = eb.FUNDS - acc.balance
            await uow.commit()
        problems = []
        if not accepted <= len(contracts) <= accepted + runs * eb.CONNECTIONS:
            problems.append(
                f"{len(contracts):,} contracts stored, {accepted:,} answered 201 in {runs} runs"
            )
        if wrong:
            problems.append(f"{len(wrong)} contracts not as placed, e.g. {wrong[0]}")
        if house.balance != stakes:
            problems.append(f"house balance {house.balance:,} != stakes {stakes:,}")
        for key in ((POLICY.currency, SYM), (POLICY.currency, "*")):
            if exposure.get(key, 0) != most:
                problems.append(f"exposure {key} = {exposure.get(key, 0):,} != {most:,}")
        bad = [u for u in user_ids if spent[u] != per_user.get(u, 0)]
        if bad:
            u = bad[0]
            problems.append(
                f"{len(bad)} wallets off, e.g. user {u} spent {spent[u]}, staked {per_user.get(u, 0)}"
            )
        if problems:
            raise RuntimeError("placements do not reconcile: " + "; ".join(problems))
    finally:
        await store.dispose()


def placement_load(
    url: str,
    *,
    seconds: float = 10.0,
    repeats: int = 3,
    warmup: float = 3.0,
    pg_pid: int | None = None,
    say: Callable[[str], None] = print,
) -> Any:
    """Migrate ``url``, set up the players, start the server (2 workers) and the ticker, drive
    ``POST /api/v1/predictions`` with wrk's 64 connections, then reconcile the books: the
    median of ``repeats`` runs (``events_bench.LoadFigures``). ``pg_pid``: PostgreSQL's
    pid, to report its CPU per placement."""
    import events_bench as eb

    secret = secrets.token_urlsafe(48)
    eb.migrate(url)
    t0 = time.perf_counter()
    tokens, user_ids = asyncio.run(_players(url, secret))
    say(f"{len(tokens):,} players set up in {time.perf_counter() - t0:.1f}s")
    saved = {k: os.environ.get(k) for k in PREDICTION_ENV}
    os.environ.update(PREDICTION_ENV)  # server_env copies this process's environment
    try:
        with (
            tempfile.TemporaryDirectory(prefix="wagerkit-bench-") as tmp,
            _ticker(url),
        ):
            work = Path(tmp)
            tok = work / "tokens.txt"
            tok.write_text("\n".join(tokens) + "\n")
            market = work / "market.txt"
            market.write_text(f"{SYM} {DURATION}\n")
            tag = f"p{time.time_ns() % 10**12}"
            accepted = 0
            with eb.server(url, secret, work) as running:
                offset = 0

                def once(secs: float, name: str) -> Any:
                    nonlocal offset, accepted
                    cpu0 = eb.cpu_seconds(running.pid), eb.cpu_seconds(pg_pid)
                    r = eb.wrk(
                        running.base, tok, market, secs, offset, f"{tag}{name}", lua=CONTRACTS_LUA
                    )
                    r.server_cpu_s = eb.cpu_seconds(running.pid) - cpu0[0]
                    r.db_cpu_s = eb.cpu_seconds(pg_pid) - cpu0[1]
                    offset += r.requests + eb.CONNECTIONS
                    accepted += r.ok
                    return r

                eb._check("placements warm-up", [once(warmup, "w")], say)
                runs = [once(seconds, str(i)) for i in range(repeats)]
                for r in runs:
                    per = 1000 / max(1, r.requests)
                    say(
                        f"placements: {r.rate:,.0f} contracts/s ({r.ok:,} of {r.requests:,}), "
                        f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms; CPU per request: "
                        f"server {r.server_cpu_s * per:.2f} ms, PostgreSQL {r.db_cpu_s * per:.2f}"
                        f" ms"
                    )
                eb._check("placements", runs, say)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    asyncio.run(_reconcile(url, accepted, 1 + len(runs), user_ids))
    say(f"reconciled: {accepted:,} contracts answered 201, stakes, exposure and wallets")
    return eb.LoadFigures(
        statistics.median(r.rate for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        runs,
    )


def main() -> None:
    if sys.argv[1:2] == ["placements"]:
        with postgres_server() as pg:
            fig = placement_load(create_database(pg, "contracts"), seconds=5, repeats=1)
        print(f"placements: {fig.rate:,.0f} contracts/s, p99 {fig.p99_ms:.1f} ms")
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with postgres_server() as pg:
        f = settle_figures(lambda name: create_database(pg, name), n)
    print(
        f"settled {f.contracts:,} due contracts in one pass: {f.batch_seconds:.2f} s; "
        f"one by one ({f.sampled} sampled, extrapolated): {f.one_by_one_seconds:.1f} s; "
        f"x{f.speedup:.1f}"
    )


if __name__ == "__main__":
    main()

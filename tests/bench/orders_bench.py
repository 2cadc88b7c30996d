"""The orders benchmark (issue 11, docs/benchmarks.md "Orders"): takes over HTTP.

Set-up (not timed), all through the library on a database migrated by ``wagerkit db
upgrade``: ``EXECUTORS`` funded executors with access tokens issued in-process with the
server's secret, ``CLIENTS`` clients, and enough active orders in the seed's ``plumbing``
category (fee 2, at most 3 executors, lifetime 60 min, response window 15 min: the whole bench
runs well inside both) for every take of the runs to be a first take of its own (order,
executor) pair: ``orders_for`` sizes them for ``TAKE_CEILING`` takes a second over the warm-up
and the runs (3 takes an order), and a run that outgrows them fails the bench. The clients'
order-creation limit is lifted in the set-up's own ``WagerKit``; the server's per-executor
take limit (60 a minute) is lifted the way events_bench lifts bets: ``take=1000000/60`` in
its ``WAGERKIT_RATE_LIMITS``.

Takes on distinct orders: the server as production runs it (``eb.server``, 2 workers), wrk's
64 connections post ``POST /api/v1/orders/{id}/take`` through takes.lua (each request a new
(executor, order) pair, its own ``Idempotency-Key``): a 3-second warm-up, then ``repeats``
runs; only ``201`` counts. Afterwards the ledger is read through the library: every currency
conserved, no wallet below zero, the house holds exactly fee × the takes answered 201, and
the orders' takes rows number the same; otherwise the bench fails.

One hot order: ``HOT_EXECUTORS`` threads, each with its own executor and an open keep-alive
connection, are released by a barrier and send one take each on one fresh order (standard
library ``http.client``; no wrk: it cannot send exactly one request per connection). Reported:
how many were charged (201, checked against the order's takes and fee transfers in the ledger:
must be exactly 3), the other answers' status codes (409 ``order_full``), and p50/p99 of all
answers; ``repeats`` fresh orders, medians.

Run: ``python tests/bench/orders_bench.py`` (starts its own PostgreSQL).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import math
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
TAKES_LUA = HERE / "takes.lua"

EXECUTORS = 1000
CLIENTS = 10
CATEGORY = "plumbing"  # the seed's terms: fee 2, 3 executors, 60 and 15 minutes
BLOCK = 1000  # takes.lua's BLOCK: orders per round (an order's takes are BLOCK requests apart)
TAKE_CEILING = 4000  # takes/s the orders are sized for (1,800 measured on a quiet machine)
HOT_EXECUTORS = 64
TAKE_LIMIT = "take=1000000/60"
MAX_EXECUTORS = 3


def orders_for(seconds: float) -> int:
    """Orders for ``seconds`` of takes at ``TAKE_CEILING`` a second (3 takes each), in whole
    rounds of ``BLOCK`` orders."""
    takes = TAKE_CEILING * seconds + 2 * 64  # + the requests in flight at each run's end
    return max(1, math.ceil(takes / (MAX_EXECUTORS * BLOCK))) * BLOCK


@dataclass
class World:
    tokens: list[str]  # the executors'
    orders: list[str]  # for wrk, in takes.lua's order
    hot: list[str]  # one fresh order per hot repeat
    fee: int
    currency: str


async def build_world(url: str, secret: str, orders: int, hot: int) -> World:
    """Executors (funded, tokens), clients and ``orders`` + ``hot`` active orders."""
    import events_bench as eb

    from wagerkit import Actor
    from wagerkit.adapters.sql import SqlStore
    from wagerkit.services import DEFAULT_LIMITS, IdentityPolicy, WagerKit

    store = SqlStore.from_url(url, pool_size=16)
    # the set-up posts thousands of orders from a few clients: lift their creation limit here
    policy = IdentityPolicy(limits={**DEFAULT_LIMITS, "order": (10**9, 60)})
    kit = WagerKit(store, identity_policy=policy)
    gate = asyncio.Semaphore(16)

    async def order(i: int) -> str:
        async with gate:
            client = Actor.of(clients[i % CLIENTS])
            view = await kit.orders.create(
                client, CATEGORY, "Moscow", f"bench job {i}", f"+7 900 {i:09d}"
            )
            return view.order.id

    try:
        people = await eb.funded_users(kit, [f"executor {i}" for i in range(EXECUTORS)])
        clients = await eb.funded_users(kit, [f"client {i}" for i in range(CLIENTS)], funds=0)
        ids = await asyncio.gather(*(order(i) for i in range(orders + hot)))
        first = (await kit.orders.get(None, ids[0])).order
        issued = eb.access_tokens(secret, people)
    finally:
        await store.dispose()
    return World(issued, list(ids[:orders]), list(ids[orders:]), first.fee, first.currency)


# -- the ledger afterwards ------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerCheck:
    house: int  # the house's balance in the orders' currency
    takes_rows: int
    charged: dict[str, int]  # hot order id -> its takes


async def read_ledger(url: str, world: World) -> LedgerCheck:
    """Conservation and non-negative wallets, the house's balance and the takes rows, read
    through the library (RuntimeError on a broken invariant)."""
    from wagerkit import Actor, WagerKit
    from wagerkit.adapters.sql import SqlStore
    from wagerkit.domain.ledger import AccountKind
    from wagerkit.services.accounts import SYSTEM_OWNER
    from wagerkit.services.orders.common import fee_id

    store = SqlStore.from_url(url, pool_size=2)
    kit = WagerKit(store)
    try:
        for t in await kit.wallets.totals(Actor.system()):
            if not t.conserved:
                raise RuntimeError(f"money not conserved: {t}")
        async with store() as uow:
            users = await uow.users.list(limit=EXECUTORS + CLIENTS + 10)
            owned = await uow.ledger.accounts_of_many([u.owner_ref for u in users])
            for accounts in owned.values():
                for acc in accounts:
                    if acc.balance < 0 or acc.available < 0:
                        raise RuntimeError(f"a wallet below zero: {acc}")
            house = await uow.ledger.find_account(AccountKind.HOUSE, SYSTEM_OWNER, world.currency)
            takes = await uow.orders.takes_of(world.orders)
            hot_takes = await uow.orders.takes_of(world.hot)
            charged: dict[str, int] = {}
            for oid in world.hot:
                mine = hot_takes.get(oid, [])
                fees = await uow.ledger.get_transfers([fee_id(oid, t.executor_id) for t in mine])
                if len(fees) != len(mine):
                    raise RuntimeError(f"order {oid}: takes without their fee")
                charged[oid] = len(mine)
    finally:
        await store.dispose()
    return LedgerCheck(house.balance if house else 0, sum(len(v) for v in takes.values()), charged)


# -- wrk on distinct orders -----------------------------------------------------------------
def _wrk(
    base: str, tokens: Path, orders: Path, seconds: float, offset: int, tag: str
) -> tuple[Any, int]:
    """One wrk run of takes.lua: (eb.WrkRun, the next unused request number)."""
    import events_bench as eb

    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk; nox -s bench does it)")
    cmd = [exe, "-t", str(eb.WRK_THREADS), "-c", str(eb.CONNECTIONS),
           "-d", f"{max(1, round(seconds))}s", "--timeout", "5s", "--latency",
           "-s", str(TAKES_LUA), base, "--", str(tokens), str(orders),
           str(eb.WRK_THREADS), str(offset), tag, "keys"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=seconds + 120)
    lines = res.stdout.splitlines()
    line = next((x for x in lines if x.startswith("WRKJSON ")), None)
    nxt = next((x for x in lines if x.startswith("WRKNEXT ")), None)
    if res.returncode != 0 or line is None or nxt is None:
        raise RuntimeError(
            f"wrk failed ({res.returncode}): {res.stderr[-2000:]}{res.stdout[-2000:]}"
        )
    d = json.loads(line.removeprefix("WRKJSON "))
    run = eb.WrkRun(
        requests=d["requests"],
        ok=d["ok"],
        refused=d["refused"],
        errors=d["errors"],
        seconds=d["duration_us"] / 1e6,
        p50_ms=d["p50_us"] / 1e3,
        p99_ms=d["p99_us"] / 1e3,
        mean_ms=d["mean_us"] / 1e3,
        sample=next((x[10:] for x in lines if x.startswith("WRKSAMPLE ")), ""),
    )
    return run, int(nxt.split()[1])


# -- one hot order --------------------------------------------------------------------------
@dataclass(frozen=True)
class HotRun:
    order_id: str
    statuses: dict[int, int]
    latencies_ms: list[float]

    @property
    def charged(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def p50_ms(self) -> float:
        return _percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float:
        return _percentile(self.latencies_ms, 99)


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (of 64 answers, p99 is the slowest but none)."""
    s = sorted(values)
    return s[max(0, math.ceil(pct / 100 * len(s)) - 1)]


def hot_once(base: str, tokens: list[str], order_id: str) -> HotRun:
    """``len(tokens)`` executors take ``order_id`` at the same moment: each thread opens its
    keep-alive connection first, then waits at a barrier; latency is send → full answer."""
    host, port = base.removeprefix("http://").split(":")
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = [0] * len(tokens)
    lat: list[float] = [0.0] * len(tokens)
    tag = secrets.token_hex(4)

    def one(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.connect()
            headers = {
                "Authorization": f"Bearer {tokens[i]}",
                "Idempotency-Key": f"hot-{tag}-{i}",
                "Content-Length": "0",
            }
            barrier.wait()
            t0 = time.perf_counter()
            conn.request("POST", f"/api/v1/orders/{order_id}/take", headers=headers)
            resp = conn.getresponse()
            resp.read()
            lat[i] = (time.perf_counter() - t0) * 1e3
            statuses[i] = resp.status
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return HotRun(order_id, dict(Counter(statuses)), lat)


@dataclass
class HotFigures:
    charged: int  # median of the runs (each must be 3)
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]  # over all runs
    runs: list[HotRun] = field(default_factory=list)


@dataclass
class OrderFigures:
    takes: Any  # eb.LoadFigures
    hot: HotFigures
    takes_total: int  # 201s over the warm-up and the runs
    ledger: LedgerCheck


def take_load(
    url: str,
    *,
    seconds: float = 10.0,
    repeats: int = 3,
    warmup: float = 3.0,
    pg_pid: int | None = None,
    say: Any = print,
) -> OrderFigures:
    """Migrate ``url``, build the world, start the server (2 workers), run the distinct-order
    load and the hot order, then check the ledger (see the module docstring). Each run also
    says the server's (and, given ``pg_pid``, PostgreSQL's) CPU per request: unlike takes/s,
    it hardly moves when others load the machine."""
    import events_bench as eb

    secret = secrets.token_urlsafe(48)
    eb.migrate(url)
    t0 = time.perf_counter()
    n_orders = orders_for(warmup + repeats * seconds)
    world = asyncio.run(build_world(url, secret, n_orders, repeats))
    say(
        f"set-up: {EXECUTORS:,} executors, {len(world.orders) + len(world.hot):,} orders "
        f"(fee {world.fee} {world.currency}) in {time.perf_counter() - t0:.1f}s"
    )
    with (
        tempfile.TemporaryDirectory(prefix="wagerkit-bench-") as tmp,
        mock.patch.object(eb, "RATE_LIMITS", f"{eb.RATE_LIMITS},{TAKE_LIMIT}"),
    ):
        work = Path(tmp)
        tok = work / "tokens.txt"
        tok.write_text("\n".join(world.tokens) + "\n")
        ords = work / "orders.txt"
        ords.write_text("\n".join(world.orders) + "\n")
        tag = f"o{time.time_ns() % 10**12}"
        with eb.server(url, secret, work) as running:
            offset = 0

            def once(secs: float, name: str) -> Any:
                nonlocal offset
                cpu0 = eb.cpu_seconds(running.pid), eb.cpu_seconds(pg_pid)
                r, offset = _wrk(running.base, tok, ords, secs, offset, f"{tag}{name}")
                r.server_cpu_s = eb.cpu_seconds(running.pid) - cpu0[0]
                r.db_cpu_s = eb.cpu_seconds(pg_pid) - cpu0[1]
                if offset > MAX_EXECUTORS * len(world.orders):
                    raise RuntimeError(
                        f"wrk ran out of orders ({offset:,} requests for "
                        f"{len(world.orders):,} orders): raise TAKE_CEILING"
                    )
                return r

            warm = once(warmup, "w")
            eb._check("takes warm-up", [warm], say)
            runs = [once(seconds, str(i)) for i in range(repeats)]
            for r in runs:
                per = 1000 / max(1, r.requests)
                say(
                    f"distinct orders: {r.rate:,.0f} takes/s ({r.ok:,} of {r.requests:,}), "
                    f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms; CPU per request: "
                    f"server {r.server_cpu_s * per:.2f} ms, PostgreSQL {r.db_cpu_s * per:.2f} ms"
                )
            eb._check("takes on distinct orders", runs, say)
            hot_runs = []
            for oid in world.hot:
                h = hot_once(running.base, world.tokens[:HOT_EXECUTORS], oid)
                say(
                    f"hot order {oid}: charged {h.charged}, statuses {h.statuses}, "
                    f"p50 {h.p50_ms:.1f} ms, p99 {h.p99_ms:.1f} ms"
                )
                hot_runs.append(h)
    total = warm.ok + sum(r.ok for r in runs)
    ledger = asyncio.run(read_ledger(url, world))
    hot_charged = sum(h.charged for h in hot_runs)
    # wrk drops the answers still in flight when a run ends (at most one per connection):
    # those takes are charged and stored, but were never counted as 201s
    cut = ledger.takes_rows - total
    if ledger.house != world.fee * (ledger.takes_rows + hot_charged):
        raise RuntimeError(
            f"the house holds {ledger.house:,}, but {ledger.takes_rows + hot_charged:,} takes "
            f"are stored, at {world.fee} each"
        )
    if not 0 <= cut <= eb.CONNECTIONS * (1 + len(runs)):
        raise RuntimeError(f"{ledger.takes_rows:,} takes stored, {total:,} answered 201")
    for h in hot_runs:
        if ledger.charged[h.order_id] != h.charged:
            raise RuntimeError(
                f"hot order {h.order_id}: {ledger.charged[h.order_id]} takes in the ledger, "
                f"{h.charged} answered 201"
            )
    say(
        f"ledger: conserved, no wallet below zero; house {ledger.house:,} = fee {world.fee} x "
        f"{ledger.takes_rows + hot_charged:,} takes stored ({total:,} answered 201, {cut} "
        f"cut off by wrk's ends, {hot_charged} on the hot orders)"
    )
    statuses: Counter[int] = Counter()
    for h in hot_runs:
        statuses.update(h.statuses)
    hot = HotFigures(
        int(statistics.median(h.charged for h in hot_runs)),
        statistics.median(h.p50_ms for h in hot_runs),
        statistics.median(h.p99_ms for h in hot_runs),
        dict(statuses),
        hot_runs,
    )
    takes = eb.LoadFigures(
        statistics.median(r.rate for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        runs,
    )
    return OrderFigures(takes, hot, total, ledger)


# -- the take batch without HTTP ---------------------------------------------------------------
async def batch_load(url: str, orders: int = 2000, clients: int = 64) -> str:
    """The take batch alone: one process, ``clients`` concurrent keyed takes through the
    library (no HTTP, no tokens) until each of ``orders`` fresh orders has its 3 executors,
    every take a first take of its own (order, executor) pair, the orders' three takes
    ``orders`` requests apart. Says takes/s, the process's CPU per take and the statements
    per batch: SQLAlchemy's ``before_cursor_execute`` plus ``Session.driver_rows`` (the
    statements sent through the driver); the COMMIT and what is pipelined with it are not
    counted."""
    import resource

    import events_bench as eb
    from sqlalchemy import event

    from wagerkit import Actor, Role
    from wagerkit.adapters.sql import SqlStore
    from wagerkit.adapters.sql.migrate import upgrade
    from wagerkit.adapters.sql.session import Session
    from wagerkit.services import DEFAULT_LIMITS, IdentityPolicy, WagerKit

    upgrade(url)
    store = SqlStore.from_url(url, pool_size=16)
    policy = IdentityPolicy(limits={**DEFAULT_LIMITS, "order": (10**9, 60), "take": (10**9, 60)})
    kit = WagerKit(store, identity_policy=policy)
    gate = asyncio.Semaphore(16)
    n_exec = 3 * clients

    async def order(i: int) -> str:
        async with gate:
            client = Actor.of(owners[i % CLIENTS])
            view = await kit.orders.create(
                client, CATEGORY, "Moscow", f"batch job {i}", f"+7 901 {i:09d}"
            )
            return view.order.id

    try:
        people = await eb.funded_users(kit, [f"executor {i}" for i in range(n_exec)])
        owners = await eb.funded_users(kit, [f"client {i}" for i in range(CLIENTS)], funds=0)
        ids = await asyncio.gather(*(order(i) for i in range(orders + 1)))
        actors = [Actor(u.id, Role.PLAYER, "x") for u in people]
        await kit.orders.take(actors[0], ids[-1])  # warm: the house account, the statements
        counts = {"statements": 0, "commits": 0}

        def statement(*_: Any) -> None:
            counts["statements"] += 1

        def commit(*_: Any) -> None:
            counts["commits"] += 1

        read = Session.driver_rows

        async def counted(self: Session, sql: str, params: Any, **kw: Any) -> Any:
            counts["statements"] += 1
            return await read(self, sql, params, **kw)

        Session.driver_rows = counted  # type: ignore[method-assign]
        event.listen(store.engine.sync_engine, "before_cursor_execute", statement)
        event.listen(store.engine.sync_engine, "commit", commit)
        done = 0

        async def taker(i: int) -> None:
            nonlocal done
            for k in range(i, 3 * orders, clients):
                slot, j = divmod(k, orders)
                r = await kit.orders.take(
                    actors[(j + clients * slot) % n_exec], ids[j], idempotency_key=f"b{k}"
                )
                assert not r.replayed
                done += 1

        ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        await asyncio.gather(*(taker(i) for i in range(clients)))
        ru1, dt = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - t0
        cpu = ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime
        batches = max(1, counts["commits"])
        return (
            f"{done:,} takes in {dt:.1f} s = {done / dt:,.0f} takes/s; CPU "
            f"{1000 * cpu / max(1, done):.3f} ms per take; {batches} batches of "
            f"{done / batches:.1f}; {counts['statements'] / batches:.2f} statements per batch "
            "(COMMIT not counted)"
        )
    finally:
        Session.driver_rows = read  # type: ignore[method-assign]
        await store.dispose()


if __name__ == "__main__":
    sys.path[:0] = [str(HERE), str(HERE.parent)]
    from pgserver import create_database, postgres_server

    if sys.argv[1:2] == ["batch"]:  # python tests/bench/orders_bench.py batch [orders]
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
        with postgres_server() as pg:
            print(asyncio.run(batch_load(create_database(pg, "takes"), n)))
        raise SystemExit(0)
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    with postgres_server() as pg:
        f = take_load(create_database(pg, "orders"), seconds=secs, repeats=1)
        print(
            f"distinct orders: {f.takes.rate:,.0f} takes/s, p99 {f.takes.p99_ms:.1f} ms; "
            f"hot order: {f.hot.charged} charged, p99 {f.hot.p99_ms:.1f} ms"
        )

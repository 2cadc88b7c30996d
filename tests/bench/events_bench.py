"""Events benchmarks: bets over HTTP under load, and settling a 100,000-bet event.

Bets: the server runs as in production (``uvicorn wagerkit_http.asgi:create_asgi`` with
``SERVER_WORKERS`` processes, access log off, on PostgreSQL migrated by ``wagerkit db
upgrade``); wrk on loopback drives ``POST /api/v1/bets`` with ``CONNECTIONS`` connections from
``USERS`` bettors whose tokens are issued in-process with the server's secret (bets.lua says
how requests are spread). Only 2xx answers count as accepted bets; anything else is reported
by status code, and the run fails when more than ``MAX_REFUSED`` of the requests were refused.
Two loads: one hot event (every bet on the same event) and ``EVENTS`` events.

Settlement: an event with ``bets`` bets (one per bettor) settled by ``kit.events.settle``
(chunks of ``chunk_size`` bets, one transaction each), against the same payouts applied bet
by bet on an identical copy of the event: per winning bet, one transaction holding one ledger
transfer (``uow.ledger.apply([one request])``) and its result, sequentially. Losing bets get
their result in one statement and the rake in one transfer (as ``settle`` does), so the
baseline only pays one transaction per paid bet. When there are more paid bets than
``sample``, a seeded random sample of them is timed and the rest extrapolated linearly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LUA = HERE / "bets.lua"

USERS = 1000
EVENTS = 100
CONNECTIONS = 64
WRK_THREADS = 2
SERVER_WORKERS = 2
APP = "wagerkit_http.asgi:create_asgi"  # the app factory ``wagerkit serve`` runs
FUNDS = 10**12  # per bettor: bets of 1 coin never run out
MAX_REFUSED = 0.01  # fail the run above this share of refused or failed requests
RATE_LIMITS = "bet=1000000/60"

Say = Callable[[str], None]


def _say(msg: str) -> None:
    print(f"    {msg}", flush=True)


# -- the bettors, their tokens and the events ----------------------------------------------
@dataclass
class BetWorld:
    tokens: list[str]
    hot: tuple[int, tuple[int, ...]]  # event id, outcome ids
    spread: list[tuple[int, tuple[int, ...]]]


def migrate(url: str) -> None:
    """``wagerkit db upgrade`` on ``url`` (the CLI beside this interpreter)."""
    exe = Path(sys.executable).parent / "wagerkit"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "wagerkit_cli.main"]
    env = {**os.environ, "WAGERKIT_DATABASE_URL": url}
    res = subprocess.run(
        [*cmd, "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    if res.returncode != 0:
        raise RuntimeError(f"wagerkit db upgrade failed: {res.stderr.strip()[-2000:]}")


async def funded_users(kit: Any, names: Sequence[str], funds: int = FUNDS) -> list[Any]:
    """Users made through the library (no password, no welcome grant), each granted
    ``funds`` (none for 0), 16 at a time: the bettors, players, buyers and executors."""
    from wagerkit import Actor

    admin = Actor.system("bench")
    gate = asyncio.Semaphore(16)

    async def one(name: str) -> Any:
        async with gate:
            user = await kit.users.add(admin, name, welcome_grant=False)
            if funds:
                await kit.wallets.grant(admin, user.id, funds, idempotency_key="bench-funds")
            return user

    return list(await asyncio.gather(*(one(n) for n in names)))


def access_tokens(secret: str, users: Sequence[Any]) -> list[str]:
    """12-hour access tokens for ``users``, issued in-process with the server's secret."""
    from wagerkit.adapters.tokens import JwtTokenService
    from wagerkit.services.identity import password_version

    tokens = JwtTokenService(secret, lifetime=timedelta(hours=12))
    now = datetime.now(UTC)
    return [tokens.issue(u.id, now=now, version=password_version(u)) for u in users]


async def build_world(url: str, secret: str, users: int = USERS, events: int = EVENTS) -> BetWorld:
    """Bettors (no password, funded), their access tokens, and open events that allow
    top-ups with no stake limit, all through the library."""
    from wagerkit import Actor
    from wagerkit.adapters.sql import SqlStore
    from wagerkit.domain.events import EventDraft, EventStatus
    from wagerkit.services import WagerKit

    store = SqlStore.from_url(url, pool_size=16)
    kit = WagerKit(store)
    admin = Actor.system("bench")

    try:
        people = await funded_users(kit, [f"bettor {i}" for i in range(users)])
        issued = access_tokens(secret, people)
        now = datetime.now(UTC)

        async def event(title: str) -> tuple[int, tuple[int, ...]]:
            ev = await kit.events.create(
                admin,
                EventDraft(
                    title=title,
                    outcomes=("home", "draw", "away"),
                    start_time=now + timedelta(days=1),
                    allow_topup=True,
                    status=EventStatus.OPEN,
                ),
            )
            return ev.id, tuple(o.id for o in ev.outcomes)

        hot = await event("hot event")
        spread = [await event(f"event {i}") for i in range(events)]
    finally:
        await store.dispose()
    return BetWorld(issued, hot, spread)


# -- the server -----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@dataclass(frozen=True)
class Running:
    base: str  # http://127.0.0.1:<port>
    pid: int  # uvicorn's supervisor; the workers are its children


@contextlib.contextmanager
def server(
    url: str, secret: str, workdir: Path, workers: int = SERVER_WORKERS, app: str = APP
) -> Iterator[Running]:
    """The HTTP server as production runs it (uvicorn, the app factory, ``workers`` processes,
    no access log, log level warning, no forwarded headers: ``uvicorn_options`` of
    wagerkit_http/serve.py turns them off unless proxies are configured); yields it once ``/ready`` answers. ``app``:
    another factory's import string (to try a change without editing the package)."""
    port = _free_port()
    env = server_env(url, secret, workers)
    log = (workdir / "server.log").open("w")
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--no-proxy-headers",  # as `wagerkit serve` with no WAGERKIT_FORWARDED_ALLOW_IPS
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({proc.returncode}):\n"
                    + (workdir / "server.log").read_text()[-3000:]
                )
            with contextlib.suppress(OSError):
                if _get(f"{base}/ready") == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "the server did not become ready:\n"
                    + (workdir / "server.log").read_text()[-3000:]
                )
            time.sleep(0.2)
        yield Running(base, proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # uvicorn stops its workers and exits
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()


def server_env(url: str, secret: str, workers: int) -> dict[str, str]:
    """The environment of a benchmarked server: this one without Redis or a shared rate-limit
    store, on ``url`` with ``workers`` processes, no job loop, bench rate limits, quiet logs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "WAGERKIT_REDIS_URL", "WAGERKIT_RATE_LIMIT_STORAGE")
    }
    env.update(
        WAGERKIT_DATABASE_URL=url,
        WAGERKIT_JWT_SECRET=secret,
        WAGERKIT_JOBS_IN_SERVER="false",
        WAGERKIT_RATE_LIMITS=RATE_LIMITS,
        WAGERKIT_LOG_LEVEL="warning",
        WAGERKIT_WORKERS=str(workers),
    )
    return env


def _proc_stats() -> dict[int, list[str]]:
    """``/proc/<pid>/stat`` fields after the command name, of every live process."""
    stats: dict[int, list[str]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            with contextlib.suppress(OSError):
                stats[int(p.name)] = (p / "stat").read_text().rpartition(")")[2].split()
    return stats


def process_tree(root: int, stats: dict[int, list[str]] | None = None) -> list[int]:
    """``root`` and its live descendants (Linux /proc)."""
    stats = _proc_stats() if stats is None else stats
    out: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in out or pid not in stats:
            continue
        out.append(pid)
        todo.extend(c for c, f in stats.items() if int(f[1]) == pid)
    return out


def cpu_seconds(root: int | None) -> float:
    """User + system CPU seconds of process ``root`` and its live descendants (Linux /proc;
    0.0 where that is unavailable). Where the time goes: sampled around each run."""
    if root is None or not Path("/proc/self/stat").exists():
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    stats = _proc_stats()
    return sum((int(stats[p][11]) + int(stats[p][12])) / tick for p in process_tree(root, stats))


def postmaster_pid(datadir: Path | None) -> int | None:
    """The PostgreSQL server's pid from its data directory (None if unknown)."""
    try:
        return int((datadir / "postmaster.pid").read_text().split()[0]) if datadir else None
    except (OSError, ValueError, IndexError):
        return None


# -- the load -------------------------------------------------------------------------------
@dataclass
class WrkRun:
    requests: int
    ok: int
    refused: dict[str, int]
    errors: dict[str, int]
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    sample: str = ""
    server_cpu_s: float = 0.0  # CPU the server's processes used during the run
    db_cpu_s: float = 0.0  # CPU PostgreSQL's processes used during the run

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.refused.values()) + sum(self.errors.values())


def wrk(
    base: str,
    tokens: Path,
    events: Path,
    seconds: float,
    offset: int,
    tag: str,
    *,
    connections: int = CONNECTIONS,
    keys: bool = True,
    lua: Path = LUA,
) -> WrkRun:
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk; nox -s bench does it)")
    cmd = [
        exe,
        "-t",
        str(WRK_THREADS),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(lua),
        base,
        "--",
        str(tokens),
        str(events),
        str(WRK_THREADS),
        str(offset),
        tag,
        "keys" if keys else "nokeys",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=seconds + 120)
    line = next((x for x in res.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if res.returncode != 0 or line is None:
        raise RuntimeError(
            f"wrk failed ({res.returncode}): {res.stderr[-2000:]}{res.stdout[-2000:]}"
        )
    d = json.loads(line.removeprefix("WRKJSON "))
    sample = next((x[10:] for x in res.stdout.splitlines() if x.startswith("WRKSAMPLE ")), "")
    return WrkRun(
        requests=d["requests"],
        ok=d["ok"],
        refused=d["refused"],
        errors=d["errors"],
        seconds=d["duration_us"] / 1e6,
        p50_ms=d["p50_us"] / 1e3,
        p99_ms=d["p99_us"] / 1e3,
        mean_ms=d["mean_us"] / 1e3,
        sample=sample,
    )


@dataclass
class LoadFigures:
    """Medians over the runs, and every run for the record."""

    rate: float
    p50_ms: float
    p99_ms: float
    runs: list[WrkRun] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.runs)

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.runs)


def _check(name: str, runs: list[WrkRun], say: Say) -> None:
    """Report refused requests and socket errors; too many make the figure meaningless."""
    total = sum(r.requests for r in runs) or 1
    refused: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in runs:
        for k, v in r.refused.items():
            refused[k] = refused.get(k, 0) + v
        for k, v in r.errors.items():
            if v:
                errors[k] = errors.get(k, 0) + v
    bad = sum(refused.values()) + sum(errors.values())
    if not bad:
        return
    sample = next((r.sample for r in runs if r.sample), "")
    say(
        f"{name}: {bad:,} of {total:,} requests not accepted: statuses {refused or '-'}, "
        f"socket errors {errors or '-'}; first refusal: {sample[:300]}"
    )
    if bad > MAX_REFUSED * total:
        raise RuntimeError(
            f"{name}: {bad:,} of {total:,} requests were refused or failed (more than "
            f"{MAX_REFUSED:.0%}): the accepted-bets figure would be meaningless"
        )


@dataclass
class BetFigures:
    hot: LoadFigures
    spread: LoadFigures
    bets_in_db: int = 0


def bet_load(
    url: str,
    *,
    seconds: float = 10.0,
    repeats: int = 3,
    warmup: float = 3.0,
    workers: int = SERVER_WORKERS,
    app: str = APP,
    pg_pid: int | None = None,
    say: Say = _say,
) -> BetFigures:
    """Migrate ``url`` (an empty database), build the world, start the server, run wrk on
    the hot event and on the spread events (median of ``repeats`` runs of ``seconds``).
    ``pg_pid``: the PostgreSQL server's pid, to report its CPU per bet too."""
    secret = secrets.token_urlsafe(48)
    migrate(url)
    t0 = time.perf_counter()
    world = asyncio.run(build_world(url, secret))
    say(f"{USERS:,} bettors, {1 + EVENTS} events set up in {time.perf_counter() - t0:.1f}s")
    with tempfile.TemporaryDirectory(prefix="wagerkit-bench-") as tmp:
        work = Path(tmp)
        tokens = work / "tokens.txt"
        tokens.write_text("\n".join(world.tokens) + "\n")
        hot = work / "hot.txt"
        hot.write_text(" ".join(map(str, (world.hot[0], *world.hot[1]))) + "\n")
        spread = work / "spread.txt"
        spread.write_text("".join(" ".join(map(str, (e, *o))) + "\n" for e, o in world.spread))
        run_tag = f"r{time.time_ns() % 10**12}"
        with server(url, secret, work, workers, app) as running:
            offsets = {hot: 0, spread: 0}

            def once(events: Path, secs: float, tag: str) -> WrkRun:
                cpu0 = cpu_seconds(running.pid), cpu_seconds(pg_pid)
                r = wrk(running.base, tokens, events, secs, offsets[events], f"{run_tag}{tag}")
                r.server_cpu_s = cpu_seconds(running.pid) - cpu0[0]
                r.db_cpu_s = cpu_seconds(pg_pid) - cpu0[1]
                offsets[events] += r.requests + CONNECTIONS  # later runs: new (user, event) pairs
                return r

            out: dict[Path, LoadFigures] = {}
            for events, name in ((hot, "hot event"), (spread, f"{EVENTS} events")):
                warm = once(events, warmup, f"{name[:3]}w")  # connections, caches, JIT of wrk
                _check(f"{name} warm-up", [warm], say)
                runs = [once(events, seconds, f"{name[:3]}{i}") for i in range(repeats)]
                for r in runs:
                    per = 1000 / max(1, r.requests)
                    say(
                        f"{name}: {r.rate:,.0f} bets/s accepted ({r.ok:,} of {r.requests:,}), "
                        f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms; CPU per request: "
                        f"server {r.server_cpu_s * per:.2f} ms, PostgreSQL {r.db_cpu_s * per:.2f}"
                        f" ms ({(r.server_cpu_s + r.db_cpu_s) / r.seconds:.2f} of "
                        f"{os.cpu_count()} cores)"
                    )
                _check(name, runs, say)
                out[events] = LoadFigures(
                    statistics.median(r.rate for r in runs),
                    statistics.median(r.p50_ms for r in runs),
                    statistics.median(r.p99_ms for r in runs),
                    runs,
                )
    return BetFigures(out[hot], out[spread])


# -- settlement -----------------------------------------------------------------------------
@dataclass
class SettleFigures:
    bets: int
    paid: int
    fast_s: float
    baseline_s: float
    sample: int  # paid bets actually applied one by one (== paid: nothing extrapolated)
    setup_s: float

    @property
    def extrapolated(self) -> bool:
        return self.sample < self.paid


def _stake(i: int) -> tuple[int, int]:
    """Bettor i's outcome position (60 % on the winner) and stake (10-1000 coins)."""
    return (0 if i % 10 < 6 else 1), 10 + (i * 7919) % 991


async def _settle_bench(
    url: str, bets: int, sample: int, chunk_size: int | None, say: Say
) -> SettleFigures:
    from sqlalchemy import insert

    from wagerkit import AccountFlags, AccountKind, Actor, Role, TransferRequest
    from wagerkit.adapters.sql import SqlStore
    from wagerkit.adapters.sql.tables import users
    from wagerkit.domain.events import (
        PAYOUT_CODE,
        RAKE_CODE,
        BetStatus,
        EventDraft,
        EventStatus,
        settle,
        stakes_of,
    )
    from wagerkit.ports import BetResult
    from wagerkit.services import DEFAULT_LIMITS, IdentityPolicy, WagerKit

    store = SqlStore.from_url(url, pool_size=8)
    kit = WagerKit(
        store,
        identity_policy=IdentityPolicy(limits={**DEFAULT_LIMITS, "bet": (10**9, 60)}),
    )
    if chunk_size is not None:
        kit.events.chunk_size = chunk_size
    admin = Actor.system("bench")
    t_setup = time.perf_counter()
    try:
        # bettors in bulk (rows only: the benchmark is about settling, not signing up)
        now = datetime.now(UTC)
        rows = [
            {
                "display_name": f"settler {i}",
                "role": "player",
                "status": "active",
                "whitelisted": False,
                "created_at": now,
                "rating_sum": 0,
                "rating_count": 0,
            }
            for i in range(bets)
        ]
        async with store.engine.begin() as conn:
            result = await conn.execute(
                insert(users).returning(users.c.id, sort_by_parameter_order=True), rows
            )
            uids = [int(r[0]) for r in result]
        # wallets and funds through the ledger's batch path
        for start in range(0, bets, 10_000):
            async with store() as uow:
                treasury = await uow.ledger.open_account(
                    AccountKind.TREASURY, "system", "COIN", AccountFlags.NONE
                )
                wallets = await uow.ledger.open_accounts(
                    [
                        (
                            AccountKind.USER,
                            f"user:{u}",
                            "COIN",
                            AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
                        )
                        for u in uids[start : start + 10_000]
                    ]
                )
                res = await uow.ledger.apply(
                    [
                        TransferRequest(f"bench-funds:{w.id}", treasury.id, w.id, 10**6, "grant")
                        for w in wallets
                    ],
                    now,
                )
                assert all(r.ok for r in res), next(r.error for r in res if not r.ok)
                await uow.commit()
        say(f"{bets:,} funded bettors in {time.perf_counter() - t_setup:.1f}s")

        # two identical events, every bettor on both, through the bet batcher
        async def event(title: str) -> Any:
            return await kit.events.create(
                admin,
                EventDraft(
                    title=title,
                    outcomes=("home", "away"),
                    start_time=now + timedelta(days=1),
                    rake_bps=500,
                    status=EventStatus.OPEN,
                ),
            )

        fast_ev, slow_ev = await event("settle: chunked"), await event("settle: bet by bet")
        kit.events.max_batch = 2048
        t_bets = time.perf_counter()
        wave = 8192
        for start in range(0, bets, wave):
            calls = []
            for i in range(start, min(bets, start + wave)):
                pos, amount = _stake(i)
                actor = Actor(uids[i], Role.PLAYER, "settler")
                for ev in (fast_ev, slow_ev):
                    calls.append(kit.events.place_bet(actor, ev.id, ev.outcomes[pos].id, amount))
            await asyncio.gather(*calls)
        kit.events.max_batch = 512
        say(f"{2 * bets:,} bets placed in {time.perf_counter() - t_bets:.1f}s")
        setup_s = time.perf_counter() - t_setup

        # the chunked settlement
        t0 = time.perf_counter()
        done = await kit.events.settle(admin, fast_ev.id, fast_ev.outcomes[0].id)
        fast_s = time.perf_counter() - t0
        assert done.status is EventStatus.SETTLED, done.status

        # the baseline: the same payouts, one transaction per paid bet
        ev = slow_ev
        t0 = time.perf_counter()
        async with store() as uow:
            current = await uow.events.get(ev.id)
            assert current is not None
            placed = await uow.events.bets_of_event(ev.id)
        plan = settle(stakes_of(placed), ev.outcomes[0].id, current.rake_bps)
        paid = [b for b in placed if plan.payouts[b.id] > 0]
        losers = [b for b in placed if plan.payouts[b.id] == 0]
        async with store() as uow:  # losers: one statement, the rake: one transfer
            if plan.rake:
                house = await uow.ledger.open_account(
                    AccountKind.HOUSE, "system", ev.currency, AccountFlags.NONE
                )
                (r,) = await uow.ledger.apply(
                    [
                        TransferRequest(
                            f"rake:{ev.id}",
                            ev.escrow_account_id,
                            house.id,
                            plan.rake,
                            RAKE_CODE,
                            reference=f"event:{ev.id}",
                            currency=ev.currency,
                        )
                    ],
                    datetime.now(UTC),
                )
                assert r.ok, r.error
            await uow.events.record_results(
                [BetResult(b.id, BetStatus.LOST, 0) for b in losers], datetime.now(UTC)
            )
            await uow.commit()
        fixed_s = time.perf_counter() - t0
        chosen = random.Random(7).sample(paid, min(sample, len(paid)))
        t0 = time.perf_counter()
        for b in chosen:
            async with store() as uow:
                at = datetime.now(UTC)
                (r,) = await uow.ledger.apply(
                    [
                        TransferRequest(
                            f"payout:{ev.id}:{b.id}",
                            ev.escrow_account_id,
                            b.wallet_account_id,
                            plan.payouts[b.id],
                            PAYOUT_CODE,
                            reference=f"event:{ev.id}:bet:{b.id}",
                            currency=ev.currency,
                        )
                    ],
                    at,
                )
                assert r.ok, r.error
                await uow.events.record_results(
                    [BetResult(b.id, BetStatus.WON, plan.payouts[b.id])], at
                )
                await uow.commit()
        one_by_one = time.perf_counter() - t0
        baseline_s = fixed_s + one_by_one * len(paid) / max(1, len(chosen))
        say(
            f"chunked settle {fast_s:.2f}s; bet by bet: {len(chosen):,} of {len(paid):,} paid "
            f"bets in {one_by_one:.1f}s ({1000 * one_by_one / max(1, len(chosen)):.2f} ms each)"
            f" + {fixed_s:.2f}s read, losers and rake"
        )
        return SettleFigures(bets, len(paid), fast_s, baseline_s, len(chosen), setup_s)
    finally:
        await store.dispose()


def settlement(
    url: str,
    *,
    bets: int = 100_000,
    sample: int = 5_000,
    chunk_size: int | None = None,
    say: Say = _say,
) -> SettleFigures:
    """Migrate ``url`` (an empty database) and run the settlement benchmark on it."""
    migrate(url)
    return asyncio.run(_settle_bench(url, bets, sample, chunk_size, say))

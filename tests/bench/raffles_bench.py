"""The raffles benchmark: close + draw + pay a raffle of many sold tickets on PostgreSQL,
against the floor of reading the same listing from the database and hashing it (the issue's
target: within 3x of the floor).

Set-up (not timed): users, a raffle of ``tickets`` numbers all sold (one bulk INSERT … SELECT
generate_series, the escrow funded through the ledger with one transfer), ``winners`` prizes.
Timed: ``close`` (listing read, commitment), ``draw`` with a text public value (the listing
read again, the beacon shuffle, winners stored) and ``pay`` (1,000 prize transfers through the
payout runner, the rake, ``paid_at``). The floor: one ``SELECT number, user_id … ORDER BY
number`` through psycopg, the listing bytes built and hashed with SHA-256.

Run: ``python tests/bench/raffles_bench.py [TICKETS]`` (starts its own PostgreSQL);
``… purchases`` runs the HTTP purchase load alone (5 s), ``… batch`` the purchase batch
without HTTP (one process, 64 concurrent keyed 1-ticket purchases on one hot raffle): tickets/s,
CPU per ticket of the process, statements per batch."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wagerkit import Actor, PrizeMode, RaffleCategoryDraft, RaffleDraft, Role, WagerKit, raffle_draw
from wagerkit.adapters.sql import SqlStore
from wagerkit.domain.ledger import AccountKind, TransferRequest

OPERATOR = Actor(None, Role.OPERATOR, "bench")
USERS = 1000
PRICE = 1


@dataclass(frozen=True)
class DrawFigures:
    tickets: int
    winners: int
    close_s: float
    draw_s: float
    pay_s: float
    floor_s: float

    @property
    def total_s(self) -> float:
        return self.close_s + self.draw_s + self.pay_s


async def _setup(url: str, tickets: int, winners: int) -> tuple[SqlStore, WagerKit, int]:
    store = SqlStore.from_url(url, pool_size=4)
    await store.create_all()
    kit = WagerKit(store)
    users = [await kit.users.add(Actor.system(), f"b{i}") for i in range(USERS)]
    c = await kit.raffles.create_category(
        OPERATOR,
        RaffleCategoryDraft("Bench", PRICE, tickets, winners, 1000, (), PrizeMode.PROPORTIONAL),
    )
    now = kit.deps.clock.now()
    r = await kit.raffles.create(
        OPERATOR, RaffleDraft("bench", c.id, now, now + timedelta(days=1), min_tickets=winners)
    )
    async with store() as uow:  # fund the escrow as the sales would have (one transfer)
        treasury = await uow.ledger.open_account(AccountKind.TREASURY, "system", "COIN", 0)  # type: ignore[arg-type]
        (res,) = await uow.ledger.apply(
            [
                TransferRequest(
                    "bench:sales",
                    treasury.id,
                    r.escrow_account_id,
                    PRICE * tickets,
                    "ticket",
                    currency="COIN",
                )
            ],
            now,
        )
        assert res.ok, res.error
        await uow.commit()
    raw_url = url.replace("postgresql+psycopg://", "postgresql://")
    import psycopg

    wallets = {}
    async with store() as uow:
        for u in users:
            acc = await uow.ledger.find_account(AccountKind.USER, f"user:{u.id}", "COIN")
            assert acc is not None
            wallets[u.id] = acc.id
    with psycopg.connect(raw_url) as conn:
        conn.execute(
            "CREATE TEMP TABLE w (k int, user_id bigint, wallet bigint)",
        )
        with conn.cursor().copy("COPY w (k, user_id, wallet) FROM STDIN") as cp:
            for k, (uid, wid) in enumerate(sorted(wallets.items())):
                cp.write_row((k, uid, wid))
        conn.execute(
            "INSERT INTO raffle_tickets (raffle_id, number, user_id, price, wallet_account_id,"
            " purchase, bought_at, prize, refunded)"
            " SELECT %s, g, w.user_id, %s, w.wallet, 'bench:sales', now(), 0, false"
            " FROM generate_series(0, %s - 1) g JOIN w ON w.k = g %% %s",
            (r.id, PRICE, tickets, USERS),
        )
        conn.execute("UPDATE raffles SET sold = %s WHERE id = %s", (tickets, r.id))
        conn.execute("ANALYZE raffle_tickets")
        conn.commit()
    return store, kit, r.id


def _floor(url: str, raffle_id: int, capacity: int) -> float:
    import psycopg

    raw_url = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw_url) as conn:
        t0 = time.perf_counter()
        rows = conn.execute(
            "SELECT number, user_id FROM raffle_tickets WHERE raffle_id = %s ORDER BY number",
            (raffle_id,),
        ).fetchall()
        w = raffle_draw.ticket_width(capacity)
        hashlib.sha256("".join(f"{n:0{w}d}:{u}\n" for n, u in rows).encode()).hexdigest()
        return time.perf_counter() - t0


async def _run(url: str, tickets: int, winners: int) -> DrawFigures:
    store, kit, rid = await _setup(url, tickets, winners)
    try:
        floor = min(_floor(url, rid, tickets) for _ in range(3))
        t0 = time.perf_counter()
        await kit.raffles.close(OPERATOR, rid)
        t1 = time.perf_counter()
        await kit.raffles.draw(OPERATOR, rid, public_value="bench", pay=False)
        t2 = time.perf_counter()
        paid = await kit.raffles.pay(OPERATOR, rid)
        t3 = time.perf_counter()
        assert paid.paid_at is not None
        assert (await kit.raffles.verify(rid)).match
        return DrawFigures(tickets, winners, t1 - t0, t2 - t1, t3 - t2, floor)
    finally:
        await store.dispose()


def close_draw_pay(url: str, *, tickets: int = 1_000_000, winners: int = 1000) -> DrawFigures:
    """Close, draw and pay a raffle of ``tickets`` sold tickets (see the module docstring)."""
    return asyncio.run(_run(url, tickets, winners))


# -- ticket purchases over HTTP ---------------------------------------------------------------
TICKETS_LUA = Path(__file__).resolve().parent / "tickets.lua"
HOT_CAPACITY = 10_000_000  # never sells out during the runs: every request can buy


async def _buyers(url: str, secret: str) -> tuple[list[str], int]:
    import events_bench as eb

    store = SqlStore.from_url(url, pool_size=16)
    kit = WagerKit(store)
    try:
        people = await eb.funded_users(kit, [f"buyer {i}" for i in range(eb.USERS)])
        c = await kit.raffles.create_category(
            OPERATOR, RaffleCategoryDraft("Hot", 1, HOT_CAPACITY, 1, 0, (), PrizeMode.PROPORTIONAL)
        )
        now = datetime.now(UTC)
        r = await kit.raffles.create(
            OPERATOR, RaffleDraft("hot raffle", c.id, now, now + timedelta(days=1))
        )
        issued = eb.access_tokens(secret, people)
    finally:
        await store.dispose()
    return issued, r.id


def purchase_load(
    url: str,
    *,
    seconds: float = 10.0,
    repeats: int = 3,
    warmup: float = 3.0,
    pg_pid: int | None = None,
    say: Any = print,
) -> Any:
    """Migrate ``url``, make 1,000 funded buyers and one hot raffle, start the server as
    production runs it (2 workers), and drive ``POST /raffles/{id}/tickets`` (one random
    number each) with wrk's 64 connections: the median of ``repeats`` runs (LoadFigures).
    Each run also says the server's (and, given ``pg_pid``, PostgreSQL's) CPU per request:
    unlike tickets/s, it does not move when others load the machine."""
    import secrets
    import statistics
    import tempfile

    import events_bench as eb

    secret = secrets.token_urlsafe(48)
    eb.migrate(url)
    tokens, raffle_id = asyncio.run(_buyers(url, secret))
    with tempfile.TemporaryDirectory(prefix="wagerkit-bench-") as tmp:
        work = Path(tmp)
        tok = work / "tokens.txt"
        tok.write_text("\n".join(tokens) + "\n")
        hot = work / "raffle.txt"
        hot.write_text(f"{raffle_id}\n")
        tag = f"t{time.time_ns() % 10**12}"
        with eb.server(url, secret, work) as running:
            offset = 0

            def once(secs: float, name: str) -> Any:
                nonlocal offset
                cpu0 = eb.cpu_seconds(running.pid), eb.cpu_seconds(pg_pid)
                r = eb.wrk(running.base, tok, hot, secs, offset, f"{tag}{name}", lua=TICKETS_LUA)
                r.server_cpu_s = eb.cpu_seconds(running.pid) - cpu0[0]
                r.db_cpu_s = eb.cpu_seconds(pg_pid) - cpu0[1]
                offset += r.requests + eb.CONNECTIONS
                return r

            eb._check("tickets warm-up", [once(warmup, "w")], say)
            runs = [once(seconds, str(i)) for i in range(repeats)]
            for r in runs:
                per = 1000 / max(1, r.requests)
                say(
                    f"hot raffle: {r.rate:,.0f} tickets/s ({r.ok:,} of {r.requests:,}), "
                    f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms; CPU per request: "
                    f"server {r.server_cpu_s * per:.2f} ms, PostgreSQL {r.db_cpu_s * per:.2f} ms"
                )
            eb._check("hot raffle", runs, say)
    return eb.LoadFigures(
        statistics.median(r.rate for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        runs,
    )


# -- the purchase batch without HTTP -----------------------------------------------------------
async def _batch_load(url: str, seconds: float, clients: int = 64) -> str:
    import resource

    from sqlalchemy import event

    from wagerkit.adapters.sql.migrate import upgrade
    from wagerkit.adapters.sql.session import Session

    upgrade(url)
    store = SqlStore.from_url(url, pool_size=16)
    kit = WagerKit(store)
    admin = Actor.system("bench")
    try:
        users = [await kit.users.add(admin, f"p{i}", welcome_grant=False) for i in range(clients)]
        for u in users:
            await kit.wallets.grant(admin, u.id, 10**9, idempotency_key="funds")
        c = await kit.raffles.create_category(
            OPERATOR, RaffleCategoryDraft("Hot", 1, HOT_CAPACITY, 1, 0, (), PrizeMode.PROPORTIONAL)
        )
        now = datetime.now(UTC)
        r = await kit.raffles.create(OPERATOR, RaffleDraft("hot", c.id, now, now + timedelta(1)))
        counts = {"statements": 0, "commits": 0}

        def statement(*_: Any) -> None:
            counts["statements"] += 1

        def commit(*_: Any) -> None:
            counts["commits"] += 1

        read = Session.driver_rows  # the batch read goes through the driver, unprepared

        async def counted(self: Session, sql: str, params: Any, **kw: Any) -> Any:
            counts["statements"] += 1
            return await read(self, sql, params, **kw)

        Session.driver_rows = counted  # type: ignore[method-assign]
        event.listen(store.engine.sync_engine, "before_cursor_execute", statement)
        event.listen(store.engine.sync_engine, "commit", commit)
        done = 0
        stop = time.monotonic() + seconds

        async def buyer(i: int) -> None:
            nonlocal done
            actor = Actor(users[i].id, Role.PLAYER, "b")
            k = 0
            while time.monotonic() < stop:
                await kit.raffles.buy(actor, r.id, count=1, idempotency_key=f"k{i}-{k}")
                k += 1
                done += 1

        await kit.raffles.buy(Actor(users[0].id, Role.PLAYER, "b"), r.id, count=1)  # warm
        counts.update(statements=0, commits=0)
        ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        await asyncio.gather(*(buyer(i) for i in range(clients)))
        ru1, dt = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - t0
        cpu = ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime
        batches = max(1, counts["commits"])
        return (
            f"{done:,} tickets in {dt:.1f} s = {done / dt:,.0f} tickets/s; CPU "
            f"{1000 * cpu / max(1, done):.3f} ms per ticket; {batches} batches of "
            f"{done / batches:.1f}; {counts['statements'] / batches:.2f} statements per batch "
            "(COMMIT not counted)"
        )
    finally:
        await store.dispose()


if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
    from pgserver import create_database, postgres_server

    with postgres_server() as pg:
        if sys.argv[1:2] == ["batch"]:
            secs = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
            print(asyncio.run(_batch_load(create_database(pg, "batch"), secs)))
        elif sys.argv[1:2] == ["purchases"]:
            import events_bench as eb

            fig = purchase_load(
                create_database(pg, "tickets"),
                seconds=5,
                repeats=1,
                pg_pid=eb.postmaster_pid(pg.datadir),
            )
            print(f"hot raffle: {fig.rate:,.0f} tickets/s, p99 {fig.p99_ms:.1f} ms")
        else:
            n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
            f = close_draw_pay(create_database(pg, "raffles"), tickets=n)
            print(
                f"{f.tickets:,} tickets, {f.winners:,} prizes: close {f.close_s:.2f}s, draw "
                f"{f.draw_s:.2f}s, pay {f.pay_s:.2f}s = {f.total_s:.2f}s; floor (read + hash) "
                f"{f.floor_s:.2f}s; ratio {f.total_s / f.floor_s:.2f}x"
            )

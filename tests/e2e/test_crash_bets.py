"""Crash test of the bet endpoint: ``POST /api/v1/bets`` over HTTP against PostgreSQL while the
server process is killed with SIGKILL at random moments (at least 10 times) and restarted
(tests/e2e/crashkit.py). A small share of the load is admin ``balance-adjust`` credits to the
same users (another idempotent write on the same wallet rows).

Afterwards:

(a) every acknowledged (2xx) request is in the ledger journal exactly once
    (``stake:<user>:<key>`` / ``adjust:user:<user>:<key>``), with its amount;
(b) every unacknowledged request, retried with the same Idempotency-Key, gets a 2xx (a 200
    replay if the lost attempt had committed, else a 201) and is charged exactly once: per
    user, the stakes charged, the bet's amount and its placements are those of the distinct
    keys accepted, and nothing else was charged;
(c) money is conserved, no wallet is negative, escrow balance == pool total == sum of bets;
and no answer was ever anything but JSON / problem+json, none a 5xx, and the server log holds
no traceback.

Set ``WAGERKIT_CRASH_SEED`` to replay a run's random choices (the seed is printed with
``-s`` and carried by the failure messages), ``WAGERKIT_CRASH_KILLS`` for more kills and
``WAGERKIT_CRASH_WORKERS`` for several uvicorn worker processes (killed as one group).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from builders import assert_conserved
from crashkit import Call, ServerProcess, crash_load, problems_in, retry_until_answered
from redisserver import free_port

from wagerkit import Actor, Role, WagerKit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import upgrade
from wagerkit.adapters.tokens import JwtTokenService
from wagerkit.domain.events import EventDraft, EventStatus

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SECRET = "test-secret-for-crash-tests-0123456789abcdef"
KILLS = int(os.environ.get("WAGERKIT_CRASH_KILLS", "10"))
SEED = int(os.environ.get("WAGERKIT_CRASH_SEED", str(random.SystemRandom().randrange(2**32))))
WORKERS = int(os.environ.get("WAGERKIT_CRASH_WORKERS", "1"))  # uvicorn worker processes
CONCURRENCY = 24
USERS = 40
FUNDS = 10_000_000  # COIN each: no bet is ever refused for want of money
ADJUST_SHARE = 0.1  # of the calls: admin credits to a bettor's wallet
REPLAYS = 100  # acknowledged bets sent again at the end: answered 200, nothing charged


def _server_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGERKIT_")}
    env.pop("REDIS_URL", None)
    env |= {
        "WAGERKIT_DATABASE_URL": db_url,
        "WAGERKIT_JWT_SECRET": SECRET,
        "WAGERKIT_RATE_LIMITS": "bet=1000000/60",
        "WAGERKIT_JOBS_IN_SERVER": "false",
    }
    return env


@pytest.fixture
async def kit(pg_url: str) -> AsyncIterator[WagerKit]:
    """The library on the test's freshly migrated database, issuing tokens the server takes."""
    await asyncio.to_thread(upgrade, pg_url)
    store = SqlStore.from_url(pg_url)
    try:
        yield WagerKit(store, tokens=JwtTokenService(SECRET))
    finally:
        await store.dispose()


async def _rows(db_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(db_url) as conn:
        cur = await conn.execute(sql, params)
        return await cur.fetchall()


def _bet_answer_problems(c: Call, event_id: int, outcome_id: int) -> list[str]:
    """A bet's 2xx answers: the caller's bet on the right outcome, what this placement
    added, and ``replayed`` exactly when the status is 200."""
    out = []
    for a in c.answers:
        b = a.json()
        want = {"event_id": event_id, "outcome_id": outcome_id, "user_id": c.user_id}
        fine = (
            {k: b.get(k) for k in want} == want
            and b.get("placed") == c.amount
            and b.get("replayed") is (a.status == 200)
            and c.amount <= b.get("amount", 0)
            and b.get("placements", 0) >= 1
        )
        if not fine:
            out.append(f"{c.key}: {a.status} {b}")
    return out


async def test_bets_survive_sigkill_and_retries_never_double_charge(
    kit: WagerKit, pg_url: str, tmp_path: Path
) -> None:
    # -- set-up through the library, on the database the server will use ------------------
    began = time.monotonic()
    seconds: dict[str, float] = {}  # wall time per phase (set-up: after migrating)
    system = Actor.system("crash-test")
    admin = await kit.users.add(system, "Crash Admin", role=Role.ADMIN)
    admin_token = kit.identity.session_for(admin).access_token
    event = await kit.events.create(
        system,
        EventDraft(
            title="Crash test",
            outcomes=("Red", "Blue", "Green"),
            start_time=datetime.now(UTC) + timedelta(hours=2),
            allow_topup=True,
            status=EventStatus.OPEN,
        ),
    )
    outcomes = [o.id for o in event.outcomes]
    users: dict[int, tuple[str, int]] = {}  # id -> (token, outcome)
    for i in range(USERS):
        u = await kit.users.add(system, f"Bettor {i}", welcome_grant=False)
        await kit.wallets.grant(system, u.id, FUNDS, memo="crash test funds")
        users[u.id] = (kit.identity.session_for(u).access_token, outcomes[i % len(outcomes)])
    user_ids = sorted(users)

    def new_call(rng: random.Random) -> Call:
        user, amount = rng.choice(user_ids), rng.randint(1, 100)
        key = f"crash-{uuid.UUID(int=rng.getrandbits(128)).hex}"
        if rng.random() < ADJUST_SHARE:
            return Call(
                key=key,
                path=f"/api/v1/admin/users/{user}/balance-adjust",
                body={"amount": amount, "reason": "crash test credit"},
                headers={"Authorization": f"Bearer {admin_token}", "Idempotency-Key": key},
                user_id=user,
                amount=amount,
                kind="adjust",
            )
        token, outcome = users[user]
        return Call(
            key=key,
            path="/api/v1/bets",
            body={"event_id": event.id, "outcome_id": outcome, "amount": amount},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            user_id=user,
            amount=amount,
            kind="bet",
        )

    # -- load, kills, restarts; then every unanswered call again with its own key ---------
    rng = random.Random(SEED)
    server = ServerProcess(
        _server_env(pg_url), free_port(), tmp_path / "server.log", workers=WORKERS
    )
    async with server.running():
        seconds["setup"] = time.monotonic() - began
        report = await crash_load(server, new_call, kills=KILLS, concurrency=CONCURRENCY, rng=rng)
        seconds["load"] = report.seconds
        calls = report.calls
        unacked = report.unacknowledged
        began_retry = time.monotonic()
        await retry_until_answered(server.url, unacked)
        # a few acknowledged bets sent again: replays, answered 200 with the same bet
        acked_bets = [c for c in calls if c.kind == "bet" and c.acked_at_once]
        replayed = rng.sample(acked_bets, min(REPLAYS, len(acked_bets)))
        limits = httpx.Limits(max_connections=CONCURRENCY)
        timeout = httpx.Timeout(30.0, pool=None)
        async with httpx.AsyncClient(base_url=server.url, timeout=timeout, limits=limits) as http:
            replay_answers = list(
                zip(
                    replayed,
                    await asyncio.gather(
                        *(http.post(c.path, json=c.body, headers=c.headers) for c in replayed)
                    ),
                    strict=True,
                )
            )
            listed = await asyncio.gather(
                *(
                    http.get("/api/v1/bets/me", headers={"Authorization": f"Bearer {t}"})
                    for t, _ in users.values()
                )
            )
            mine = dict(zip(users, listed, strict=True))
        seconds["retry"] = time.monotonic() - began_retry
    summary = (
        {"seed": SEED}
        | report.summary()
        | {
            "bets": sum(c.kind == "bet" for c in calls),
            "adjusts": sum(c.kind == "adjust" for c in calls),
            "unacknowledged_then_200": sum(c.final.status == 200 for c in unacked),
            "unacknowledged_then_201": sum(c.final.status == 201 for c in unacked),
            "start_seconds": [round(s, 2) for s in report.start_seconds],
        }
    )
    print(f"\ncrash run (seed {SEED}): {summary}")

    # -- the answers -----------------------------------------------------------------------
    assert report.kills >= KILLS
    assert report.acked_at_once > 0, summary
    assert unacked, summary
    assert not problems_in(calls), problems_in(calls)[:10]
    refused = [(c.kind, c.key, c.final.status, c.final.text[:200]) for c in calls if not c.final.ok]
    assert not refused, refused[:10]
    bets = [c for c in calls if c.kind == "bet"]
    adjusts = [c for c in calls if c.kind == "adjust"]
    outcome_of = {uid: o for uid, (_, o) in users.items()}
    bad = [p for c in bets for p in _bet_answer_problems(c, event.id, outcome_of[c.user_id])]
    assert not bad, bad[:10]
    # a fresh key answered at its first attempt is a first placement, never a replay
    assert all(c.final.status == 201 for c in bets if c.acked_at_once)
    assert all(c.final.status == 200 for c in adjusts)  # adjust answers 200 either way
    # first placements of one user's bet each saw their own placement number
    firsts: dict[int, list[int]] = defaultdict(list)
    for c in bets:
        if c.final.status == 201:
            firsts[c.user_id].append(c.final.json()["placements"])
    assert all(len(p) == len(set(p)) for p in firsts.values()), firsts
    for c, r in replay_answers:
        first = c.final.json()
        assert r.status_code == 200, r.text
        assert r.json()["replayed"] is True
        assert r.json()["id"] == first["id"]
        assert r.json()["placed"] == c.amount

    # -- (a) the journal: each accepted key exactly once, with its amount; nothing else ----
    expected = {f"stake:{c.user_id}:{c.key}": c for c in bets} | {
        f"adjust:user:{c.user_id}:{c.key}": c for c in adjusts
    }
    rows = await _rows(
        pg_url,
        "SELECT id, count(*), min(amount) FROM transfers"
        " WHERE code IN ('stake', 'adjust') GROUP BY id",
    )
    journal = {tid: (n, amount) for tid, n, amount in rows}
    assert set(journal) == set(expected), (
        sorted(set(journal) - set(expected))[:5],
        sorted(set(expected) - set(journal))[:5],
    )
    wrong = {tid: journal[tid] for tid, c in expected.items() if journal[tid] != (1, c.amount)}
    assert not wrong, list(wrong.items())[:10]

    # -- (b) per user: charged once per key; the bet and the wallet agree ------------------
    staked: Counter[int] = Counter()
    credited: Counter[int] = Counter()
    keys: Counter[int] = Counter()
    for c in bets:
        staked[c.user_id] += c.amount
        keys[c.user_id] += 1
    for c in adjusts:
        credited[c.user_id] += c.amount
    charged = dict(
        await _rows(
            pg_url,
            "SELECT a.owner, sum(t.amount) FROM transfers t"
            " JOIN accounts a ON a.id = t.debit_account_id"
            " WHERE t.code = 'stake' GROUP BY a.owner",
        )
    )
    assert charged == {f"user:{u}": n for u, n in staked.items()}
    bet_rows = await _rows(
        pg_url,
        "SELECT user_id, outcome_id, amount, placements, id FROM bets WHERE event_id = %s",
        event.id,
    )
    assert {u: (o, a, p) for u, o, a, p, _ in bet_rows} == {
        u: (outcome_of[u], staked[u], keys[u]) for u in staked
    }
    bet_ids = {u: i for u, _, _, _, i in bet_rows}
    assert all(c.final.json()["id"] == bet_ids[c.user_id] for c in bets)
    for uid, r in mine.items():
        assert r.status_code == 200, r.text
        listed = [b for b in r.json()["bets"] if b["event_id"] == event.id]
        assert [(b["amount"], b["placements"]) for b in listed] == (
            [(staked[uid], keys[uid])] if uid in staked else []
        )
    for uid in user_ids:
        (wallet,) = await kit.wallets.balances(system, uid)
        assert wallet.balance == FUNDS + credited[uid] - staked[uid], (uid, wallet)

    # -- (c) conservation; escrow == pool == bets; a clean server log -----------------------
    await assert_conserved(kit)
    [(escrow, pool, total_bets, bettors, bet_count)] = await _rows(
        pg_url,
        "SELECT (SELECT credits_posted - debits_posted FROM accounts WHERE id = e.escrow_account_id),"
        " (SELECT sum(total) FROM event_outcomes WHERE event_id = e.id),"
        " (SELECT sum(amount) FROM bets WHERE event_id = e.id),"
        " (SELECT sum(bettors) FROM event_outcomes WHERE event_id = e.id),"
        " e.bet_count FROM events e WHERE e.id = %s",
        event.id,
    )
    assert escrow == pool == total_bets == sum(staked.values())
    assert bettors == bet_count == len(bet_rows) == len(staked)
    per_outcome = dict(
        await _rows(pg_url, "SELECT id, total FROM event_outcomes WHERE event_id = %s", event.id)
    )
    by_outcome: Counter[int] = Counter()
    for u, n in staked.items():
        by_outcome[outcome_of[u]] += n
    assert per_outcome == {o: by_outcome[o] for o in outcomes}
    log = server.log_text()
    assert log.count("=== crashkit: start #") == KILLS + 1
    assert "Traceback" not in log, server.log_tail(8000)
    seconds["checks"] = time.monotonic() - began - sum(seconds.values())
    print(f"crash run seconds: { {k: round(v, 1) for k, v in seconds.items()} }")

"""Events and bets over HTTP against a real server (uvicorn), on every store: the seed's worked
example end to end, Idempotency-Key replays, the one-bet rule and top-ups, betting closed,
exactly-once settlement, voids, staff-only endpoints, the seed's field names, validation and
the bet rate limit. Every money scenario ends with the books balanced."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from authkit import (
    ADMIN_TG_ID,
    BOT_TOKEN,
    CHEAP_ARGON2,
    JWT_SECRET,
    admin_session,
    bearer,
    register,
)
from builders import assert_conserved
from test_auth_http import problem

from wagerkit import Actor, WagerKit
from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.config import Settings
from wagerkit.testing import InMemoryStore
from wagerkit_http import create_app, create_asgi
from wagerkit_http.auth import build_identity
from wagerkit_http.context import WagerkitApp

STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass
class Live:
    url: str
    app: WagerkitApp
    loop: asyncio.AbstractEventLoop

    @property
    def kit(self) -> WagerKit:
        return self.app.ctx.kit

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the server's event loop (where its store lives)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def conserved(self) -> None:
        self.run(assert_conserved(self.kit))


@contextlib.contextmanager
def live_server(
    request: pytest.FixtureRequest, server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """A server with sign-in configured, on the in-memory store, a SQLite file or a fresh
    PostgreSQL database (migrated first: the server never migrates PostgreSQL), by
    ``request.param``. The bet and chat rate limits are the defaults (5 and 20 a minute); the
    per-address sign-up limits are lifted because every test signs up from 127.0.0.1."""
    kind = request.param
    store = None
    if kind == "memory":
        db_url = "sqlite:///unused.db"
        store = InMemoryStore()
    elif kind == "sqlite":
        db_url = f"sqlite:///{tmp_path_factory.mktemp('events') / 'events.db'}"
    else:
        from pgserver import create_database

        from wagerkit.adapters.sql.migrate import upgrade

        db_url = create_database(
            request.getfixturevalue("pg_server"), f"ev_{uuid.uuid4().hex[:10]}"
        )
        upgrade(db_url)
    settings = Settings(  # type: ignore[call-arg]
        database_url=db_url,
        jwt_secret=JWT_SECRET,
        telegram_bot_token=BOT_TOKEN,
        telegram_admin_ids=str(ADMIN_TG_ID),
        _env_file=None,
    )
    app = create_app(settings, store=store, passwords=Argon2PasswordHasher(**CHEAP_ARGON2))
    identity = app.ctx.kit.identity
    relaxed = {"login_ip": (10_000, 60), "register": (10_000, 60), "telegram": (10_000, 60)}
    identity.policy = replace(identity.policy, limits={**identity.policy.limits, **relaxed})
    loops: list[asyncio.AbstractEventLoop] = []

    async def grab_loop(app: WagerkitApp) -> None:
        loops.append(asyncio.get_running_loop())

    app.register_listener(grab_loop, "before_server_start")
    with server(create_asgi(settings, app=app)) as url:
        yield Live(url, app, loops[0])


@pytest.fixture(scope="module", params=STORES)
def ev_live(
    request: pytest.FixtureRequest, server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    with live_server(request, server, tmp_path_factory) as live:
        yield live


@pytest.fixture
def http(ev_live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ev_live.url, timeout=20) as client:
        yield client


# -- helpers -----------------------------------------------------------------------------------


def admin_h(http: httpx.Client) -> dict[str, str]:
    return bearer(admin_session(http)["access_token"])


def player(http: httpx.Client) -> tuple[dict[str, str], int]:
    s = register(http)
    return bearer(s["access_token"]), int(s["user"]["id"])


def coin(http: httpx.Client, h: dict[str, str]) -> int:
    for b in http.get("/api/v1/wallet", headers=h).json()["balances"]:
        if b["currency"] == "COIN":
            return int(b["balance"])
    return 0


def at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def new_event(http: httpx.Client, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Match {uuid.uuid4().hex[:6]}",
        "outcomes": ["A", "B"],
        "start_time": at(hours=2),
        "status": "open",
        **fields,
    }
    r = http.post("/api/v1/admin/events", json=body, headers=admin)
    assert r.status_code == 201, r.text
    event: dict[str, Any] = r.json()
    return event


def bet(
    http: httpx.Client, h: dict[str, str], event: dict[str, Any], outcome: int, amount: int,
    key: str | None = None,
) -> httpx.Response:  # fmt: skip
    headers = {**h, **({"Idempotency-Key": key} if key else {})}
    body = {"event_id": event["id"], "outcome_id": event["outcomes"][outcome]["id"],
            "amount": amount}  # fmt: skip
    return http.post("/api/v1/bets", json=body, headers=headers)


# -- the seed's worked example -------------------------------------------------------------------


def test_seed_example_over_http(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    r = http.post(
        "/api/v1/admin/events",
        json={
            "title": "  Grand final  ",
            "description": "best of three",
            "stream_type": "twitch",
            "stream_url": "https://twitch.tv/example",
            "teams": [{"name": "A"}, "B"],  # the seed's name, objects and names mixed
            "start_time": "2031-05-01T20:00:00+02:00",
            "betting_locked_at": at(hours=1),
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["status"] == "scheduled"
    assert event["title"] == "Grand final"
    assert event["start_time"] == "2031-05-01T18:00:00+00:00"  # sent as UTC
    assert [o["name"] for o in event["outcomes"]] == ["A", "B"]
    assert (event["currency"], event["rake_bps"], event["allow_topup"]) == ("COIN", 0, False)
    a_id, b_id = (o["id"] for o in event["outcomes"])

    (h1, _), (h2, _), (h3, _) = player(http), player(http), player(http)
    problem(bet(http, h1, event, 0, 100), 409, "betting_closed")  # scheduled, not open yet
    opened = http.post(f"/api/v1/admin/events/{event['id']}/open", headers=admin)
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"

    r1 = bet(http, h1, event, 0, 100)
    assert r1.status_code == 201, r1.text
    assert r1.json()["amount"] == 100
    assert r1.json()["placed"] == 100
    assert r1.json()["currency"] == "COIN"
    assert r1.json()["replayed"] is False
    assert r1.json()["status"] == "open"
    # the seed's stream_id / team_id
    r2 = http.post(
        "/api/v1/bets", json={"stream_id": event["id"], "team_id": a_id, "amount": 300}, headers=h2
    )
    assert r2.status_code == 201, r2.text
    assert (r2.json()["event_id"], r2.json()["outcome_id"]) == (event["id"], a_id)
    assert bet(http, h3, event, 1, 200).status_code == 201

    # the live pool, public
    view = http.get(f"/api/v1/events/{event['id']}")
    assert view.status_code == 200, view.text
    v = view.json()
    assert (v["total"], v["bettors"], v["bet_count"]) == (600, 3, 3)
    pool = {o["id"]: (o["bettors"], o["total"], o["multiplier"]) for o in v["outcomes"]}
    assert pool == {a_id: (2, 400, "1.5000"), b_id: (1, 200, "3.0000")}
    assert v["my_bet"] is None
    mine = http.get(f"/api/v1/events/{event['id']}", headers=h1).json()["my_bet"]
    assert (mine["amount"], mine["outcome_id"], mine["status"], mine["payout"]) == (
        100,
        a_id,
        "open",
        None,
    )
    assert [coin(http, h) for h in (h1, h2, h3)] == [900, 700, 800]

    won = http.post(f"/api/v1/admin/events/{event['id']}/set-winner", json={"team_id": a_id},
                    headers=admin)  # fmt: skip
    assert won.status_code == 200, won.text
    assert (won.json()["status"], won.json()["winning_outcome_id"]) == ("settled", a_id)
    assert [coin(http, h) for h in (h1, h2, h3)] == [1050, 1150, 800]  # +50 / +150 / -200

    results = {}
    for h in (h1, h2, h3):
        b = http.get(f"/api/v1/events/{event['id']}", headers=h).json()["my_bet"]
        results[b["amount"]] = (b["status"], b["payout"])
    assert results == {100: ("won", 150), 300: ("won", 450), 200: ("lost", 0)}
    listed = http.get("/api/v1/bets/me", headers=h2).json()
    assert [(b["event_id"], b["status"], b["payout"]) for b in listed["bets"]] == [
        (event["id"], "won", 450)
    ]
    assert listed["next_before"] is None

    # exactly once: a second settlement (either outcome) is 409 and moves nothing
    for outcome in (a_id, b_id):
        problem(http.post(f"/api/v1/admin/events/{event['id']}/set-winner",
                          json={"outcome_id": outcome}, headers=admin),
                409, "event_already_resolved")  # fmt: skip
    problem(http.post(f"/api/v1/admin/events/{event['id']}/void", headers=admin), 409,
            "event_already_resolved")  # fmt: skip
    assert [coin(http, h) for h in (h1, h2, h3)] == [1050, 1150, 800]

    staff = http.get("/api/v1/admin/bets", params={"event_id": event["id"]}, headers=admin)
    assert staff.status_code == 200, staff.text
    assert sorted(b["payout"] for b in staff.json()["bets"]) == [0, 150, 450]
    ev_live.conserved()


def test_bet_lists_give_each_bet_its_events_currency(http: httpx.Client, ev_live: Live) -> None:
    """A page of bets on events in several currencies names each bet's own currency (read
    from its event on every request: the server keeps no event-currency cache)."""
    admin = admin_h(http)
    coin_event = new_event(http, admin)
    rub_event = new_event(http, admin, currency="RUB")
    assert rub_event["currency"] == "RUB"
    h, uid = player(http)
    ev_live.run(ev_live.kit.wallets.adjust(Actor.system(), uid, 500, "RUB", reason="test"))
    assert bet(http, h, coin_event, 0, 40).status_code == 201
    assert bet(http, h, rub_event, 1, 250).status_code == 201
    expected = [(rub_event["id"], 250, "RUB"), (coin_event["id"], 40, "COIN")]
    mine = http.get("/api/v1/bets/me", headers=h).json()["bets"]
    assert [(b["event_id"], b["amount"], b["currency"]) for b in mine] == expected
    staff = http.get("/api/v1/admin/bets", params={"user_id": uid}, headers=admin).json()["bets"]
    assert [(b["event_id"], b["amount"], b["currency"]) for b in staff] == expected
    ev_live.conserved()


# -- idempotency, the one-bet rule, top-ups -------------------------------------------------------


def test_bet_replay_with_idempotency_key(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin)
    h, uid = player(http)
    key = f"bet-{uuid.uuid4().hex[:12]}"
    first = bet(http, h, event, 0, 120, key)
    assert first.status_code == 201, first.text
    again = bet(http, h, event, 0, 120, key)
    assert again.status_code == 200, again.text
    assert again.json()["replayed"] is True
    assert {**again.json(), "replayed": False} == first.json()
    assert first.json()["user_id"] == uid
    assert coin(http, h) == 880  # charged once
    problem(bet(http, h, event, 0, 121, key), 409, "idempotency_conflict")
    problem(bet(http, h, event, 1, 120, key), 409, "idempotency_conflict")
    problem(bet(http, h, event, 0, 120, "bad key!"), 422, "invalid_input")
    assert coin(http, h) == 880
    view = http.get(f"/api/v1/events/{event['id']}").json()
    assert (view["total"], view["bettors"]) == (120, 1)
    ev_live.conserved()


def test_one_bet_per_event_unless_topup(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    (h1, _), (h, _) = player(http), player(http)  # 5 bets a minute each
    single = new_event(http, admin)
    assert bet(http, h1, single, 0, 50).status_code == 201
    problem(bet(http, h1, single, 0, 50), 409, "already_bet")
    problem(bet(http, h1, single, 1, 50), 409, "already_bet")
    assert coin(http, h1) == 950

    topup = new_event(http, admin, allow_topup=True, max_stake=500)
    assert bet(http, h, topup, 1, 100).status_code == 201
    second = bet(http, h, topup, 1, 150)
    assert second.status_code == 201, second.text
    assert (second.json()["amount"], second.json()["placed"], second.json()["placements"]) == (
        250,
        150,
        2,
    )
    problem(bet(http, h, topup, 0, 10), 409, "already_bet")  # a top-up is on the same outcome
    problem(bet(http, h, topup, 1, 251), 422, "stake_out_of_range")  # 501 > max_stake
    view = http.get(f"/api/v1/events/{topup['id']}").json()
    assert [(o["bettors"], o["total"]) for o in view["outcomes"]] == [(0, 0), (1, 250)]
    assert view["outcomes"][1]["multiplier"] == "1.0000"
    assert coin(http, h) == 1000 - 250
    ev_live.conserved()


# -- closing, settling, voiding ------------------------------------------------------------------


def test_lock_void_foreign_outcome(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin)
    other = new_event(http, admin)
    (h1, _), (h2, _) = player(http), player(http)
    assert bet(http, h1, event, 0, 300).status_code == 201
    # an outcome of another event
    body = {"event_id": event["id"], "outcome_id": other["outcomes"][0]["id"], "amount": 5}
    problem(http.post("/api/v1/bets", json=body, headers=h2), 422, "unknown_outcome")
    problem(http.post("/api/v1/bets", json={**body, "event_id": 10**12}, headers=h2), 404,
            "event_not_found")  # fmt: skip
    problem(http.post(f"/api/v1/admin/events/{event['id']}/set-winner",
                      json={"outcome_id": other["outcomes"][1]["id"]}, headers=admin),
            422, "unknown_outcome")  # fmt: skip

    locked = http.post(f"/api/v1/admin/events/{event['id']}/lock", headers=admin)
    assert locked.status_code == 200, locked.text
    assert locked.json()["status"] == "locked"
    assert locked.json()["locked_at"] is not None
    problem(bet(http, h2, event, 1, 10), 409, "betting_closed")
    problem(http.post(f"/api/v1/admin/events/{event['id']}/open", headers=admin), 409,
            "event_state_conflict")  # fmt: skip
    assert coin(http, h1) == 700

    voided = http.post(f"/api/v1/admin/events/{event['id']}/void",
                       json={"reason": "stream cancelled"}, headers=admin)  # fmt: skip
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    assert coin(http, h1) == 1000  # refunded in full
    assert coin(http, h2) == 1000
    mine = http.get(f"/api/v1/events/{event['id']}", headers=h1).json()["my_bet"]
    assert (mine["status"], mine["payout"]) == ("refunded", 300)
    problem(http.post(f"/api/v1/admin/events/{event['id']}/void", headers=admin), 409,
            "event_already_resolved")  # fmt: skip
    problem(http.post(f"/api/v1/admin/events/{event['id']}/set-winner",
                      json={"outcome_id": event["outcomes"][0]["id"]}, headers=admin),
            409, "event_already_resolved")  # fmt: skip
    assert coin(http, h1) == 1000
    audit = http.get("/api/v1/admin/audit", params={"target": f"event:{event['id']}"},
                     headers=admin).json()["entries"]  # fmt: skip
    assert [e["action"] for e in audit][:2] == ["event.void", "event.lock"]
    assert audit[0]["reason"] == "stream cancelled"
    ev_live.conserved()


def test_nobody_on_the_winner_refunds_everyone(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin, outcomes=["A", "B", "C"], rake_bps=500)
    h, _ = player(http)
    assert bet(http, h, event, 0, 40).status_code == 201
    r = http.post(f"/api/v1/admin/events/{event['id']}/set-winner",
                  json={"outcome_id": event["outcomes"][2]["id"]}, headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert coin(http, h) == 1000
    ev_live.conserved()


# -- staff only, public reads, authentication -----------------------------------------------------


def test_players_get_403_on_admin_endpoints(http: httpx.Client, ev_live: Live) -> None:
    """Every staff operation of events, bets and chat (the list is checked against the OpenAPI
    document, so a new one cannot be forgotten): 403 for a player, 401 without a token, and
    nothing changes."""
    admin = admin_h(http)
    event = new_event(http, admin)
    h, uid = player(http)
    msg = http.post(f"/api/v1/events/{event['id']}/chat", json={"text": "hi"}, headers=h)
    assert msg.status_code == 201, msg.text
    ids = {"event_id": event["id"], "user_id": uid, "message_id": msg.json()["id"]}
    oid = event["outcomes"][0]["id"]
    calls = [
        ("POST", "/api/v1/admin/events",
         {"title": "x", "outcomes": ["a", "b"], "start_time": at(hours=1)}),
        ("PATCH", "/api/v1/admin/events/{event_id}", {"title": "mine now"}),
        ("POST", "/api/v1/admin/events/{event_id}/open", None),
        ("POST", "/api/v1/admin/events/{event_id}/lock", None),
        ("POST", "/api/v1/admin/events/{event_id}/void", {"reason": "no"}),
        ("POST", "/api/v1/admin/events/{event_id}/set-winner", {"outcome_id": oid}),
        ("GET", "/api/v1/admin/bets", None),
        ("DELETE", "/api/v1/admin/chat/{message_id}", None),
        ("POST", "/api/v1/admin/users/{user_id}/mute", {"minutes": 5}),
        ("POST", "/api/v1/admin/users/{user_id}/unmute", None),
    ]  # fmt: skip
    spec = http.get("/openapi.json").json()
    mine = {
        (m.upper(), p)
        for p, ops in spec["paths"].items()
        if p.startswith(("/api/v1/admin/events", "/api/v1/admin/bets", "/api/v1/admin/chat"))
        or p.endswith(("/mute", "/unmute"))
        for m in ops
    }
    assert {(m, p) for m, p, _ in calls} == mine
    calls.append(("GET", f"/api/v1/admin/bets?user_id={uid}", None))
    for method, path, body in calls:
        r = http.request(method, path.format(**ids), json=body, headers=h)
        problem(r, 403, "forbidden")
        r = http.request(method, path.format(**ids), json=body)
        problem(r, 401, "unauthenticated")
    after = http.get(f"/api/v1/events/{event['id']}").json()
    assert (after["status"], after["title"]) == ("open", event["title"])  # nothing changed
    chat = http.get(f"/api/v1/events/{event['id']}/chat").json()["messages"]
    assert [m["id"] for m in chat] == [ids["message_id"]]
    problem(bet(http, {}, event, 0, 10), 401, "unauthenticated")
    problem(http.get("/api/v1/bets/me"), 401, "unauthenticated")
    ev_live.conserved()


def test_public_reads_and_tokens(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    scheduled = new_event(http, admin, status="scheduled")
    opened = new_event(http, admin)
    listed = http.get("/api/v1/events")
    assert listed.status_code == 200, listed.text
    ids = [e["id"] for e in listed.json()["events"]]
    assert ids == sorted(ids, reverse=True)
    assert {scheduled["id"], opened["id"]} <= set(ids)
    only_open = http.get("/api/v1/events", params={"status": "open"}).json()["events"]
    assert {e["status"] for e in only_open} == {"open"}
    both = http.get("/api/v1/events", params=[("status", "open"), ("status", "scheduled")])
    comma = http.get("/api/v1/events", params={"status": "open,scheduled"})
    assert both.json() == comma.json()
    assert {scheduled["id"], opened["id"]} <= {e["id"] for e in both.json()["events"]}
    page = http.get("/api/v1/events", params={"limit": 1}).json()
    assert len(page["events"]) == 1
    assert page["next_before"] == page["events"][0]["id"]
    nxt = http.get("/api/v1/events", params={"limit": 1, "before": page["next_before"]})
    assert nxt.json()["events"][0]["id"] < page["events"][0]["id"]
    problem(http.get("/api/v1/events", params={"status": "finished"}), 422, "validation_failed")
    problem(http.get("/api/v1/events", params={"limit": 0}), 422, "validation_failed")

    problem(http.get("/api/v1/events/999999999"), 404, "event_not_found")
    problem(http.get("/api/v1/events/-1"), 404, "event_not_found")
    problem(http.get(f"/api/v1/events/{10**30}"), 404, "event_not_found")
    bad = http.get(f"/api/v1/events/{opened['id']}", headers=bearer("not.a.token"))
    problem(bad, 401, "token_invalid")
    assert bad.headers["www-authenticate"] == "Bearer"


# -- validation and editing ------------------------------------------------------------------------


def test_event_validation_and_edit(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    base = {"title": "T", "outcomes": ["A", "B"], "start_time": at(hours=3)}
    post = "/api/v1/admin/events"
    naive = problem(http.post(post, json={**base, "start_time": "2031-01-01T10:00:00"},
                              headers=admin), 422, "validation_failed")  # fmt: skip
    assert naive["errors"][0]["field"] == "start_time"
    for bad in (
        {"start_time": 1893456000},
        {"start_time": "9999-12-31T23:59:59-23:59"},
        {"stream_type": "vimeo"},
        {"rake_bps": 1001},
        {"outcomes": ["A", "B"], "teams": ["A", "B"]},
        {"status": "settled"},
        {"min_stake": 0},
        {"surprise": 1},
    ):
        problem(http.post(post, json={**base, **bad}, headers=admin), 422, "validation_failed")
    for bad, code in (
        ({"outcomes": ["A"]}, "invalid_input"),
        ({"outcomes": ["A", "a"]}, "invalid_input"),
        ({"stream_url": "ftp://x"}, "invalid_input"),
        ({"currency": "XYZ"}, "unknown_currency"),
        ({"min_stake": 10, "max_stake": 5}, "invalid_amount"),
        ({"status": "open", "start_time": at(hours=-1)}, "invalid_input"),
        ({"settle_deadline": at(hours=1)}, "invalid_input"),
    ):
        problem(http.post(post, json={**base, **bad}, headers=admin), 422, code)
    problem(http.post(post, content=b"{", headers={**admin, "content-type": "application/json"}),
            400, "malformed_json")  # fmt: skip

    rub = http.post(post, json={**base, "currency": "RUB", "min_stake": 100}, headers=admin)
    assert rub.status_code == 201, rub.text
    assert (rub.json()["currency"], rub.json()["min_stake"]) == ("RUB", 100)

    event = new_event(http, admin, status="scheduled")
    edit = f"/api/v1/admin/events/{event['id']}"
    r = http.patch(edit, json={"title": "Renamed", "teams": ["X", {"name": "Y"}, "Z"],
                               "rake_bps": 250}, headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Renamed"
    assert [o["name"] for o in r.json()["outcomes"]] == ["X", "Y", "Z"]
    assert r.json()["rake_bps"] == 250
    problem(http.patch(edit, json={}, headers=admin), 422, "validation_failed")
    problem(http.patch(edit, json={"status": "open"}, headers=admin), 422, "validation_failed")
    problem(http.patch(edit, json={"currency": "RUB"}, headers=admin), 422, "validation_failed")
    problem(http.patch("/api/v1/admin/events/999999999", json={"title": "x"}, headers=admin),
            404, "event_not_found")  # fmt: skip
    assert http.post(f"{edit}/open", headers=admin).status_code == 200
    h, _ = player(http)
    assert bet(http, h, r.json(), 2, 10).status_code == 201
    problem(http.patch(edit, json={"title": "Too late"}, headers=admin), 409, "event_has_bets")
    ev_live.conserved()


def test_bet_validation(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin, min_stake=10)
    h, _ = player(http)
    oid = event["outcomes"][0]["id"]
    for body in (
        {"event_id": event["id"], "outcome_id": oid},
        {"event_id": event["id"], "outcome_id": oid, "amount": 0},
        {"event_id": event["id"], "outcome_id": oid, "amount": "10"},
        {"event_id": event["id"], "outcome_id": oid, "amount": 10.5},
        {"event_id": event["id"], "outcome_id": oid, "amount": 2**64},
        {"event_id": event["id"], "stream_id": event["id"], "outcome_id": oid, "amount": 10},
        {"event_id": True, "outcome_id": oid, "amount": 10},
    ):
        problem(http.post("/api/v1/bets", json=body, headers=h), 422, "validation_failed")
    problem(bet(http, h, event, 0, 9), 422, "stake_out_of_range")
    problem(bet(http, h, event, 0, 1001), 409, "insufficient_funds")
    assert coin(http, h) == 1000
    ev_live.conserved()


# -- rate limits -----------------------------------------------------------------------------------


def test_bet_flood_is_rate_limited(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin)
    h, _ = player(http)
    codes = [bet(http, h, event, 0, 10).status_code for _ in range(5)]
    assert codes == [201, 409, 409, 409, 409]  # 5 a minute by default, refused ones count
    limited = problem(bet(http, h, event, 0, 10), 429, "rate_limited")
    assert limited["status"] == 429
    r = bet(http, h, event, 0, 10)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    other, _ = player(http)  # per user: someone else still bets
    assert bet(http, other, event, 1, 10).status_code == 201
    assert coin(http, h) == 990
    ev_live.conserved()


def test_rate_limits_setting() -> None:
    settings = Settings(  # type: ignore[call-arg]
        jwt_secret=JWT_SECRET, rate_limits="bet=1000000/60, chat=3/10", _env_file=None
    )
    limits = build_identity(settings).policy.limits
    assert limits["bet"] == (1_000_000, 60)
    assert limits["chat"] == (3, 10)
    assert limits["login"] == (10, 60)  # the rest keep their defaults
    default = build_identity(Settings(jwt_secret=JWT_SECRET, _env_file=None))  # type: ignore[call-arg]
    assert default.policy.limits["bet"] == (5, 60)
    for bad in ("bet", "bet=5", "bet=0/60", "bet=5/0", "poke=1/1", "bet=1/60;chat=2/60"):
        with pytest.raises(ValueError, match=r"rate limit|rate-limited"):
            Settings(jwt_secret=JWT_SECRET, rate_limits=bad, _env_file=None)  # type: ignore[call-arg]


def test_rate_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAGERKIT_RATE_LIMITS", "bet=1000000/60")
    settings = Settings(jwt_secret=JWT_SECRET, _env_file=None)  # type: ignore[call-arg]
    assert build_identity(settings).policy.limits["bet"] == (1_000_000, 60)

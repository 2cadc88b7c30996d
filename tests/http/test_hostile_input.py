"""Hostile input against a real server: bodies that cannot be parsed (nested past the parser's
recursion limit, integers longer than Python converts, NaN and Infinity) are a 400
``malformed_json`` problem on every route that reads a body, with or without signing in, and
change nothing; huge numbers in query strings and paths are 4xx problems; names carrying
control or bidi characters are refused (422 ``invalid_input``) and never stored."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from authkit import admin_session, bearer, register
from test_auth_http import PROBLEM, conserved, problem

from wagerkit_http.context import WagerkitApp

DEEP = ('{"a":' * 1100 + "1" + "}" * 1100).encode()
DEEP_LIST = ("[" * 100_000 + "]" * 100_000).encode()
HUGE_INT = ('{"login": ' + "9" * 5000 + ', "password": "x"}').encode()
HUGE_AMOUNT = ('{"event_id": 1, "outcome_id": 1, "amount": ' + "7" * 5000 + "}").encode()
NAN = b'{"event_id": 1, "outcome_id": 1, "amount": NaN}'
INFINITY = b'{"login": Infinity, "password": "x"}'
BODIES = {
    "deep": DEEP,
    "deep_list": DEEP_LIST,
    "huge_int": HUGE_INT,
    "huge_amount": HUGE_AMOUNT,
    "nan": NAN,
    "infinity": INFINITY,
}
ROUTES = (
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/telegram",
    "/api/v1/auth/telegram/webapp",
    "/api/v1/bets",
)
JSON = {"Content-Type": "application/json"}
EVIL_NAME = "\u001b[2J\u0000evil\u202e"


def _db(db_url: str) -> str:
    return db_url.removeprefix("sqlite:///")


def snapshot(db_url: str) -> dict[str, Any]:
    """Row counts and every account's totals: what a refused request must leave unchanged."""
    with sqlite3.connect(_db(db_url)) as db:
        counts = {
            t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("users", "bets", "transfers", "audit_log", "chat_messages", "events")
        }
        accounts = db.execute(
            "SELECT id, debits_posted, credits_posted, debits_pending, credits_pending"
            " FROM accounts ORDER BY id"
        ).fetchall()
    return {"counts": counts, "accounts": accounts}


@pytest.fixture
def unchanged(auth_live: tuple[str, WagerkitApp, str], player: dict[str, Any]) -> Any:
    """Call the returned function at the end of a test: nothing changed since it started
    (``player`` first: a ledger with a welcome grant in it, for the conservation check)."""
    db_url = auth_live[2]
    before = snapshot(db_url)

    def check() -> None:
        assert snapshot(db_url) == before
        conserved(db_url)

    return check


@pytest.fixture(scope="module")
def player(auth_live: tuple[str, WagerkitApp, str]) -> dict[str, Any]:
    with httpx.Client(base_url=auth_live[0], timeout=10) as client:
        admin_session(client)  # the bootstrap admin exists (conservation needs a ledger)
        return register(client)


@pytest.fixture(scope="module")
def admin(auth_live: tuple[str, WagerkitApp, str]) -> dict[str, str]:
    with httpx.Client(base_url=auth_live[0], timeout=10) as client:
        return bearer(admin_session(client)["access_token"])


def test_brackets_inside_strings_do_not_count_as_nesting(
    http: httpx.Client, unchanged: Callable[[], None]
) -> None:
    """Thousands of brackets (and escaped quotes) in a string: parsed, judged by the model."""
    body = {"login": '\\"[{' * 5000, "password": "wrong password"}
    out = problem(http.post("/api/v1/auth/login", json=body), 422, "validation_failed")
    assert out["errors"][0]["type"] == "string_too_long"
    unchanged()


def _malformed(r: httpx.Response) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["code"] == "malformed_json", body
    assert body["status"] == 400


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_an_unparsable_body_is_a_400_without_signing_in(
    http: httpx.Client, player: dict[str, Any], unchanged: Callable[[], None], route: str, kind: str
) -> None:
    headers = {**JSON, "Authorization": "Bearer not-a-token"} if route.endswith("bets") else JSON
    _malformed(http.post(route, content=BODIES[kind], headers=headers))
    unchanged()


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_an_unparsable_bet_of_a_signed_in_player_is_a_400(
    http: httpx.Client, player: dict[str, Any], unchanged: Callable[[], None], kind: str
) -> None:
    headers = {**JSON, **bearer(player["access_token"]), "Idempotency-Key": uuid.uuid4().hex}
    _malformed(http.post("/api/v1/bets", content=BODIES[kind], headers=headers))
    unchanged()


@pytest.mark.parametrize("kind", ["deep", "huge_int"])
def test_staff_routes_refuse_unparsable_bodies_too(
    http: httpx.Client, admin: dict[str, str], unchanged: Callable[[], None], kind: str
) -> None:
    for route in ("/api/v1/admin/events", "/api/v1/wallet/deposits", "/api/v1/admin/users/1/ban"):
        _malformed(http.post(route, content=BODIES[kind], headers={**JSON, **admin}))
    unchanged()


def test_a_body_just_inside_the_limits_is_judged_by_the_model(
    http: httpx.Client, unchanged: Callable[[], None]
) -> None:
    """4,300 digits and 30 levels still parse: the model then refuses them (422)."""
    big = ('{"login": ' + "9" * 4300 + ', "password": "x"}').encode()
    problem(http.post("/api/v1/auth/login", content=big, headers=JSON), 422, "validation_failed")
    nested = ('{"login": ' + "[" * 30 + "]" * 30 + ', "password": "x"}').encode()
    problem(http.post("/api/v1/auth/login", content=nested, headers=JSON), 422, "validation_failed")
    unchanged()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events?limit=" + "9" * 5000,
        "/api/v1/events?before=" + "9" * 5000,
        "/api/v1/events?status=" + "x" * 5000,
        "/api/v1/bets/me?event_id=" + "9" * 5000,
        "/api/v1/wallet/statement?before=" + "9" * 5000,
        "/api/v1/events/" + "9" * 5000,
        "/api/v1/events/" + "9" * 30,
    ],
)
def test_huge_numbers_in_queries_and_paths_are_refused(
    http: httpx.Client, player: dict[str, Any], unchanged: Callable[[], None], path: str
) -> None:
    r = http.get(path, headers=bearer(player["access_token"]))
    assert r.status_code in (400, 404, 422), r.text
    assert r.headers["content-type"] == PROBLEM
    unchanged()


# -- the text rule over HTTP -----------------------------------------------------------------


def _names(db_url: str) -> list[str]:
    with sqlite3.connect(_db(db_url)) as db:
        return [r[0] for r in db.execute("SELECT display_name FROM users")]


def _evil(text: str) -> bool:
    return any(c in text for c in "\x00\x1b\u202e\u2066")


@pytest.mark.parametrize(
    "name", [EVIL_NAME, "evil\u202e", "ann\u2066lee", "a\x00b", "tab\tname", "x\x85y"]
)
def test_a_typed_display_name_with_controls_is_refused_and_never_stored(
    http: httpx.Client,
    auth_live: tuple[str, WagerkitApp, str],
    unchanged: Callable[[], None],
    name: str,
) -> None:
    username = f"e{uuid.uuid4().hex[:12]}"
    body = {"username": username, "password": "correct horse", "display_name": name}
    out = problem(http.post("/api/v1/auth/register", json=body), 422, "invalid_input")
    assert "display_name must not contain" in out["detail"]
    r = http.post("/api/v1/auth/login", json={"login": username, "password": "correct horse"})
    problem(r, 401, "invalid_credentials")
    assert not any(_evil(n) for n in _names(auth_live[2]))
    unchanged()


def test_a_telegram_name_with_controls_signs_in_with_the_name_cleaned(
    http: httpx.Client, auth_live: tuple[str, WagerkitApp, str]
) -> None:
    from authkit import init_data, webapp_pairs, widget_for

    tg = 880000 + uuid.uuid4().int % 10000
    r = http.post("/api/v1/auth/telegram", json=widget_for(tg, first_name=EVIL_NAME))
    assert r.status_code == 200, r.text
    assert r.json()["user"]["display_name"] == "[2Jevil"
    pairs = webapp_pairs(tg + 1, first_name="Mini\u202e\x1b", last_name="\tApp\u2066")
    r = http.post("/api/v1/auth/telegram/webapp", json={"init_data": init_data(pairs)})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["display_name"] == "Mini App"
    assert not any(_evil(n) for n in _names(auth_live[2]))
    conserved(auth_live[2])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "Final\x00"),
        ("title", "Final \u202eslaF"),
        ("outcomes", ["A\x00", "B"]),
        ("outcomes", ["A", "\u2067B"]),
        ("description", "line\nbreaks are fine but \x1b[2J is not"),
        ("stream_url", "https://example.org/\x00"),
    ],
)
def test_event_texts_with_controls_are_refused(
    http: httpx.Client,
    admin: dict[str, str],
    unchanged: Callable[[], None],
    field: str,
    value: Any,
) -> None:
    body = {
        "title": "Hostile texts",
        "outcomes": ["A", "B"],
        "start_time": "2030-01-01T00:00:00Z",
        field: value,
    }
    out = problem(http.post("/api/v1/admin/events", json=body, headers=admin), 422, "invalid_input")
    assert "must not contain" in out["detail"]
    unchanged()


def test_an_event_description_keeps_its_line_breaks(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    body = {
        "title": "  Multi-line  ",
        "description": "first line\n\tsecond line\n",
        "outcomes": ["A", "B"],
        "start_time": "2030-01-01T00:00:00Z",
    }
    r = http.post("/api/v1/admin/events", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert (r.json()["title"], r.json()["description"]) == (
        "Multi-line",
        "first line\n\tsecond line",
    )


def test_reasons_with_controls_are_refused(
    http: httpx.Client,
    admin: dict[str, str],
    player: dict[str, Any],
    unchanged: Callable[[], None],
) -> None:
    uid = player["user"]["id"]
    for path, body in (
        (f"/api/v1/admin/users/{uid}/ban", {"reason": "spam\x1b[2J"}),
        (f"/api/v1/admin/users/{uid}/balance-adjust", {"amount": 5, "reason": "gift\u202e"}),
        (f"/api/v1/admin/users/{uid}/mute", {"minutes": 5, "reason": "x\x00"}),
    ):
        r = http.post(path, json=body, headers=admin)
        problem(r, 422, "invalid_input")
    unchanged()


def test_chat_refuses_bidi_overrides_and_keeps_line_breaks(
    http: httpx.Client, admin: dict[str, str], player: dict[str, Any]
) -> None:
    body = {
        "title": "Chat texts",
        "outcomes": ["A", "B"],
        "status": "open",
        "start_time": "2030-01-01T00:00:00Z",
    }
    r = http.post("/api/v1/admin/events", json=body, headers=admin)
    assert r.status_code == 201, r.text
    chat = f"/api/v1/events/{r.json()['id']}/chat"
    me = bearer(player["access_token"])
    out = problem(http.post(chat, json={"text": "hi\u202eereht"}, headers=me), 422, "invalid_input")
    assert "chat message must not contain bidi control" in out["detail"]
    r = http.post(chat, json={"text": " hi\nthere "}, headers=me)
    assert r.status_code == 201, r.text
    assert r.json()["text"] == "hi\nthere"
    assert not _evil(r.json()["author"])

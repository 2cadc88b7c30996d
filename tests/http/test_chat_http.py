"""Event chat over HTTP against a real server, on every store: post and history (public),
message rules, staff delete / mute / unmute (players get 403), muted users refused with
``chat_muted``, and the chat rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authkit import bearer
from test_auth_http import problem
from test_events_http import STORES, Live, admin_h, live_server, new_event, player


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


def chat(http: httpx.Client, h: dict[str, str], event_id: int, text: str) -> httpx.Response:
    return http.post(f"/api/v1/events/{event_id}/chat", json={"text": text}, headers=h)


def test_post_and_history(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin)
    h, uid = player(http)
    me = http.get("/api/v1/me", headers=h).json()
    first = chat(http, h, event["id"], "  hello there  ")
    assert first.status_code == 201, first.text
    msg = first.json()
    assert (msg["event_id"], msg["user_id"], msg["text"], msg["deleted"]) == (
        event["id"],
        uid,
        "hello there",
        False,
    )
    assert msg["author"] == me["display_name"]
    assert msg["created_at"].endswith("+00:00")
    second = chat(http, h, event["id"], "line one\nline two").json()

    # public: no sign-in needed; newest first
    hist = http.get(f"/api/v1/events/{event['id']}/chat")
    assert hist.status_code == 200, hist.text
    assert [m["id"] for m in hist.json()["messages"]] == [second["id"], msg["id"]]
    assert hist.json()["next_before"] is None
    page = http.get(f"/api/v1/events/{event['id']}/chat", params={"limit": 1}).json()
    assert [m["id"] for m in page["messages"]] == [second["id"]]
    older = http.get(f"/api/v1/events/{event['id']}/chat",
                     params={"limit": 1, "before": page["next_before"]}).json()  # fmt: skip
    assert [m["id"] for m in older["messages"]] == [msg["id"]]
    other = new_event(http, admin)
    assert http.get(f"/api/v1/events/{other['id']}/chat").json()["messages"] == []

    for bad in ("", "   ", "x" * 501, "bell\x07"):
        problem(chat(http, h, event["id"], bad), 422, "invalid_input")
    assert chat(http, h, event["id"], "  " + "y" * 500 + "  ").status_code == 201
    problem(http.post(f"/api/v1/events/{event['id']}/chat", json={"text": 5}, headers=h), 422,
            "validation_failed")  # fmt: skip
    problem(http.post(f"/api/v1/events/{event['id']}/chat", json={}, headers=h), 422,
            "validation_failed")  # fmt: skip
    problem(chat(http, {}, event["id"], "anonymous"), 401, "unauthenticated")
    problem(chat(http, bearer("x.y.z"), event["id"], "forged"), 401, "token_invalid")
    problem(chat(http, h, 999_999_999, "nowhere"), 404, "event_not_found")
    problem(http.get("/api/v1/events/999999999/chat"), 404, "event_not_found")
    problem(http.get(f"/api/v1/events/{event['id']}/chat", params={"limit": 500}), 422,
            "validation_failed")  # fmt: skip


def test_moderation(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin)
    (h, uid), (other, other_id) = player(http), player(http)
    msg = chat(http, h, event["id"], "spam spam spam").json()

    # players may not moderate
    problem(http.delete(f"/api/v1/admin/chat/{msg['id']}", headers=other), 403, "forbidden")
    problem(http.post(f"/api/v1/admin/users/{uid}/mute", json={}, headers=other), 403,
            "forbidden")  # fmt: skip
    problem(http.post(f"/api/v1/admin/users/{uid}/unmute", headers=other), 403, "forbidden")
    problem(http.delete(f"/api/v1/admin/chat/{msg['id']}"), 401, "unauthenticated")

    deleted = http.delete(f"/api/v1/admin/chat/{msg['id']}", params={"reason": "spam"},
                          headers=admin)  # fmt: skip
    assert deleted.status_code == 200, deleted.text
    assert (deleted.json()["id"], deleted.json()["deleted"]) == (msg["id"], True)
    assert http.get(f"/api/v1/events/{event['id']}/chat").json()["messages"] == []
    again = http.delete(f"/api/v1/admin/chat/{msg['id']}", headers=admin)
    assert again.status_code == 200
    problem(http.delete("/api/v1/admin/chat/999999999", headers=admin), 404, "message_not_found")

    muted = http.post(f"/api/v1/admin/users/{uid}/mute", json={"minutes": 30, "reason": "spam"},
                      headers=admin)  # fmt: skip
    assert muted.status_code == 200, muted.text
    assert (muted.json()["user_id"], muted.json()["muted"]) == (uid, True)
    assert muted.json()["until"] is not None
    problem(chat(http, h, event["id"], "let me talk"), 403, "chat_muted")
    assert chat(http, other, event["id"], "I still can").status_code == 201

    forever = http.post(f"/api/v1/admin/users/{other_id}/mute", headers=admin)  # no body
    assert forever.status_code == 200, forever.text
    assert (forever.json()["muted"], forever.json()["until"]) == (True, None)
    problem(chat(http, other, event["id"], "hello?"), 403, "chat_muted")

    for bad in ({"minutes": 0}, {"minutes": "5"}, {"minutes": 10**9}, {"why": "x"}):
        problem(http.post(f"/api/v1/admin/users/{uid}/mute", json=bad, headers=admin), 422,
                "validation_failed")  # fmt: skip
    problem(http.post("/api/v1/admin/users/999999999/mute", json={}, headers=admin), 404,
            "user_not_found")  # fmt: skip

    unmuted = http.post(f"/api/v1/admin/users/{uid}/unmute", json={"reason": "served"},
                        headers=admin)  # fmt: skip
    assert unmuted.status_code == 200, unmuted.text
    assert unmuted.json() == {"user_id": uid, "muted": False, "until": None, "reason": "",
                              "created_at": None}  # fmt: skip
    assert chat(http, h, event["id"], "I'll behave").status_code == 201

    audit = http.get("/api/v1/admin/audit", params={"target": f"user:{uid}"},
                     headers=admin).json()["entries"]  # fmt: skip
    assert [e["action"] for e in audit][:2] == ["chat.unmute", "chat.mute"]
    actions = http.get("/api/v1/admin/audit", params={"action": "chat.delete"},
                       headers=admin).json()["entries"]  # fmt: skip
    assert actions[0]["target"] == f"chat:{msg['id']}"
    assert actions[0]["reason"] == "spam"
    ev_live.conserved()


def test_banned_users_cannot_post(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin)
    h, uid = player(http)
    r = http.post(f"/api/v1/admin/users/{uid}/ban", json={"reason": "abuse"}, headers=admin)
    assert r.status_code == 200, r.text
    problem(chat(http, h, event["id"], "hi"), 403, "account_banned")


def test_chat_flood_is_rate_limited(http: httpx.Client, ev_live: Live) -> None:
    admin = admin_h(http)
    event = new_event(http, admin)
    h, _ = player(http)
    codes = [chat(http, h, event["id"], f"message {i}").status_code for i in range(20)]
    assert codes == [201] * 20  # 20 a minute by default
    r = chat(http, h, event["id"], "one too many")
    problem(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) >= 1
    other, _ = player(http)
    assert chat(http, other, event["id"], "me too").status_code == 201

"""HEAD and OPTIONS on every path (wagerkit_http/methods.py), left out of the OpenAPI document."""

from __future__ import annotations

import httpx


def test_head_answers_like_get_without_a_body(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        got = c.get("/api/v1/events")
        head = c.head("/api/v1/events")
        assert got.status_code == head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"]
        assert c.head("/api/v1/events/999999").status_code == 404  # the GET handler's answer
        assert c.head("/health").status_code == 200


def test_options_names_the_methods_of_the_path(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        events = c.options("/api/v1/events")
        assert events.status_code == 204
        assert set(events.headers["allow"].split(",")) == {"GET", "HEAD", "OPTIONS"}
        bets = c.options("/api/v1/bets")
        assert set(bets.headers["allow"].split(",")) == {"POST", "OPTIONS"}
        one = c.options("/api/v1/events/7")
        assert "GET" in one.headers["allow"].split(",")


def test_head_and_options_are_not_documented(base_url: str) -> None:
    doc = httpx.get(f"{base_url}/openapi.json").json()
    methods = {m for ops in doc["paths"].values() for m in ops}
    assert "get" in methods
    assert not methods & {"head", "options"}

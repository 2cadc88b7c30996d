"""Hostile Socket.IO packets against a real server and a real python-socketio client:
payloads nested past the limit, integers longer than Python converts and event packets that
are not ``["name", ...]`` are acknowledged with a ``malformed_json`` refusal, never dropped
with a traceback; the socket keeps working and nothing is logged as an error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import socketio  # type: ignore[import-untyped]
from authkit import JWT_SECRET

from wagerkit import Actor
from wagerkit.config import Settings
from wagerkit.testing import InMemoryStore
from wagerkit_http import create_app, create_asgi

DEEP = '{"a":' * 1100 + "1" + "}" * 1100
HUGE = "9" * 5000
LONG = "9" * 90  # parses (python-engineio refuses integers of more than 100 digits); refused


@pytest.fixture(scope="module")
def live(server: Callable[[Any], AbstractContextManager[str]]) -> Iterator[tuple[str, str]]:
    """A server on the in-memory store and an access token of one of its players."""
    settings = Settings(  # type: ignore[call-arg]
        database_url="sqlite:///:memory:", jwt_secret=JWT_SECRET, _env_file=None
    )
    app = create_app(settings, store=InMemoryStore())
    kit = app.ctx.kit
    loops: list[asyncio.AbstractEventLoop] = []

    async def capture(_app: Any) -> None:
        loops.append(asyncio.get_running_loop())

    app.register_listener(capture, "after_server_start")
    with server(create_asgi(settings, app=app)) as url:
        add = kit.users.add(Actor.system("tests"), "sock")
        user = asyncio.run_coroutine_threadsafe(add, loops[0]).result(10)
        yield url, kit.identity.session_for(user).access_token


async def _raw_call(client: Any, body: str) -> Any:
    """Send ``2<id><body>`` as it is (the client could not encode these) and await the ack."""
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def ack(*args: Any) -> None:
        done.set_result(args[0] if args else None)

    ack_id = client._generate_ack_id("/", ack)
    await client.eio.send(f"2{ack_id}{body}")
    return await asyncio.wait_for(done, 5)


MALFORMED = [
    f'["join_event",{DEEP}]',
    f'["join_event",{{"event_id":{HUGE}}}]',
    f'["chat_message",{{"event_id":1,"text":"x","n":{HUGE}}}]',
    '["join_event",' + "[" * 40 + "]" * 40 + "]",
    f'["join_event",{{"event_id":{"9" * 101}}}]',
    '{"a":1}',
    "[]",
    "[123]",
    '"ping"',
    '["ping",NaN',
]


def test_malformed_packets_are_refused_and_the_socket_keeps_working(
    live: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, token = live

    async def scenario() -> None:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, transports=["websocket"], auth={"token": token}, wait_timeout=5)
        try:
            for body in MALFORMED:
                ack = await _raw_call(client, body)
                assert ack["error"]["code"] == "malformed_json", (body[:40], ack)
            for body in (
                f'["join_event",{{"event_id":{LONG}}}]',
                f'["chat_message",{{"event_id":{LONG},"text":"hi"}}]',
            ):
                ack = await _raw_call(client, body)
                assert ack["error"]["code"] == "invalid_input", (body[:40], ack)
            assert await client.call("ping", timeout=5) == "pong"
        finally:
            await client.disconnect()

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def test_a_connect_payload_nested_too_deeply_is_refused(live: tuple[str, str]) -> None:
    url, token = live
    nested: Any = token
    for _ in range(40):
        nested = {"token": nested}

    async def scenario() -> None:
        client = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(url, transports=["websocket"], auth=nested, wait_timeout=5)

    asyncio.run(scenario())

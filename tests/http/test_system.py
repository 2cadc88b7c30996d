"""Health, readiness, metrics and the start-up/shutdown listeners, against a live server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

import wagerkit
from wagerkit.adapters.sql import SqlStore
from wagerkit.adapters.sql.migrate import current, upgrade
from wagerkit.config import Settings
from wagerkit_http import create_app, create_asgi
from wagerkit_http.context import WagerkitApp
from wagerkit_http.schema import head_revisions


def test_health_is_ok_with_version(base_url: str) -> None:
    r = httpx.get(f"{base_url}/health")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"status": "ok", "version": wagerkit.__version__}


def test_startup_migrated_the_sqlite_file(live: tuple[str, WagerkitApp], sqlite_file: Path) -> None:
    base_url, app = live
    assert app.ctx.started
    heads = head_revisions()
    assert heads
    assert current(f"sqlite:///{sqlite_file}") in heads
    r = httpx.get(f"{base_url}/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "schema": "at_head"}}


def test_currencies_lists_configured_currencies(base_url: str) -> None:
    r = httpx.get(f"{base_url}/api/v1/currencies")
    assert r.status_code == 200
    currencies = r.json()["currencies"]
    assert currencies[0] == {"code": "COIN", "exponent": 0, "default": True}
    assert {(c["code"], c["exponent"]) for c in currencies} == {
        ("COIN", 0),
        ("RUB", 2),
        ("COP", 0),
        ("USDT", 6),
    }


async def test_ready_is_503_problem_when_database_unreachable(
    server: Any, closed_port: int
) -> None:
    """A PostgreSQL URL to a closed port: start-up must not hang, /ready must say 503."""
    url = f"postgresql://wk:s3cretpw@127.0.0.1:{closed_port}/nowhere"
    settings = Settings(
        database_url=url, jwt_secret="test-secret-for-http-tests-0123456789abcdef", _env_file=None
    )  # type: ignore[call-arg]
    app = create_app(settings)
    assert isinstance(app.ctx.store, SqlStore)
    assert "s3cretpw" not in app.ctx.store.url
    with server(create_asgi(settings, app=app)) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            health = await client.get("/health")
            r = await client.get("/ready")
    assert health.status_code == 200  # liveness does not depend on the database
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "not_ready"
    assert body["status"] == 503
    assert body["checks"] == {"database": "unavailable"}
    assert body["type"] == "https://wagerkit.dev/problems/not_ready"
    assert "s3cretpw" not in r.text
    assert "127.0.0.1" not in r.text
    assert r.headers["retry-after"] == "5"


@pytest.mark.postgres
def test_ready_on_postgres_waits_for_migrations(server: Any, pg_url: str) -> None:
    settings = Settings(
        database_url=pg_url,
        jwt_secret="test-secret-for-http-tests-0123456789abcdef",
        _env_file=None,
    )  # type: ignore[call-arg]
    with server(create_asgi(settings)) as base_url:
        before = httpx.get(f"{base_url}/ready")
        upgrade(pg_url)  # what `wagerkit db upgrade` does; the server never auto-migrates PG
        after = httpx.get(f"{base_url}/ready")
    assert before.status_code == 503
    assert before.json()["checks"] == {"database": "ok", "schema": "behind"}
    assert "wagerkit db upgrade" in before.json()["detail"]
    assert after.status_code == 200
    assert after.json() == {"status": "ready", "checks": {"database": "ok", "schema": "at_head"}}


def test_shutdown_disposes_the_store(server: Any, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        jwt_secret="test-secret-for-http-tests-0123456789abcdef",
        _env_file=None,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    with server(create_asgi(settings, app=app)) as base_url:
        assert httpx.get(f"{base_url}/ready").status_code == 200
        assert app.ctx.started
    assert not app.ctx.started  # the after_server_stop listener ran


_SAMPLE = re.compile(
    r"^wagerkit_http_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$", re.M
)


def _count(text: str, route: str, status: str) -> float:
    total = 0.0
    for m in _SAMPLE.finditer(text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m["labels"]))
        if labels.get("route") == route and labels.get("status") == status:
            total += float(m["value"])
    return total


def test_metrics_exposition_and_counters_move(base_url: str) -> None:
    before = httpx.get(f"{base_url}/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    text = before.text
    assert "# TYPE wagerkit_http_requests_total counter" in text
    assert "# TYPE wagerkit_http_request_duration_seconds histogram" in text
    assert "process_resident_memory_bytes" in text
    assert "python_info" in text
    n_health = _count(text, "/health", "200")
    n_missing = _count(text, "<unmatched>", "404")

    for _ in range(3):
        httpx.get(f"{base_url}/health")
    httpx.get(f"{base_url}/no/such/path/{n_health}")

    after = httpx.get(f"{base_url}/metrics").text
    assert _count(after, "/health", "200") == n_health + 3
    assert _count(after, "<unmatched>", "404") == n_missing + 1
    assert re.search(
        r"wagerkit_http_request_duration_seconds_count"
        r'\{method="GET",route="/health",status="200"\} ',
        after,
    )
    assert "/no/such/path" not in after  # raw paths never become labels

"""A schemathesis run over the OpenAPI document of the identity and wallet endpoints, against a
live server signed in as an admin: no 5xx, and every response fits the documented schema
(status code, content type, body). The run is bounded by the number of examples per operation,
never by a time limit: with `--max-time` a busy machine reached the limit after 27 of 38
operations and the coverage assertion failed with no bug in the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from authkit import ACME_SECRET, ADMIN_TG_ID, BOT_TOKEN, CHEAP_ARGON2, JWT_SECRET, widget_for

from wagerkit.adapters.passwords import Argon2PasswordHasher
from wagerkit.config import Settings
from wagerkit_http import create_app, create_asgi

#: The operations under test (everything under /api/v1).
INCLUDE = r"^/api/v1/"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture(scope="module")
def fuzz_server(server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}",
        jwt_secret=JWT_SECRET,
        telegram_bot_token=BOT_TOKEN,
        telegram_admin_ids=str(ADMIN_TG_ID),
        dev_payments=True,
        webhook_secrets={"acme": ACME_SECRET},
        _env_file=None,
    )
    app = create_app(settings, passwords=Argon2PasswordHasher(**CHEAP_ARGON2))
    with server(create_asgi(settings, app=app)) as url:
        r = httpx.post(f"{url}/api/v1/auth/telegram", json=widget_for(ADMIN_TG_ID))
        assert r.status_code == 200, r.text
        yield url, r.json()["access_token"]


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    fuzz_server: tuple[str, str], tmp_path: Path
) -> None:
    url, token = fuzz_server
    report = tmp_path / "report.json"
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
        "--checks", CHECKS,
        "--include-path-regex", INCLUDE,
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", "6",
        "--phases", "examples,fuzzing",
        "--seed", "20260301",
        "--no-shrink",
        "--request-timeout", "10",
        "--workers", "1",
        "--report", "ndjson",
        "--report-ndjson-path", str(report),
    ]  # fmt: skip
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert " passed" in out, out[-3000:]
    spec = httpx.get(f"{url}/openapi.json").json()
    ops = sum(len(v) for k, v in spec["paths"].items() if k.startswith("/api/v1/"))
    assert f"Tested: {ops}" in out, out[-3000:]  # every /api/v1 operation was exercised
    assert "Errored" not in out, out[-3000:]
    # the run really exercised the endpoints
    assert report.exists()
    events = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert events

"""What the end-to-end tests share to run real server processes: the JWT secret, the CLI
beside this interpreter, a clean environment and a readiness wait."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["SECRET", "WAGERKIT", "base_env", "wait_ready"]

SECRET = "test-secret-for-e2e-tests-0123456789abcdef"
WAGERKIT = str(Path(sys.executable).parent / "wagerkit")


def base_env(db_url: str) -> dict[str, str]:
    """This process's environment without any WAGERKIT_* or REDIS_URL, on ``db_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAGERKIT_")}
    env.pop("REDIS_URL", None)
    env["WAGERKIT_DATABASE_URL"] = db_url
    return env


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Wait until ``/ready`` answers 200; fail if the server exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.communicate()}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")

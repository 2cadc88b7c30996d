"""The sessions people and CI run. `nox` alone runs lint, typecheck, imports and tests."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "imports", "tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PY = "3.11"


@nox.session(python=PY)
def tests(session: nox.Session) -> None:
    """The whole test suite on four xdist workers (the suite mostly waits on servers, fsyncs and
    subprocesses, so four beat two on two cores); each starts its own PostgreSQL server
    (tests/pgserver.py)."""
    session.install("-e", ".[test]")
    # the Redis-backed rate limiter is tested against a real redis-server (tests/unit/test_rate_limits.py)
    session.run(
        "sh",
        "-c",
        'command -v redis-server || { [ "$(id -u)" = 0 ] && apt-get update -qq && '
        "apt-get install -y -qq redis-server; }",
        external=True,
    )
    session.run("pytest", *(session.posargs or ["-q", "-p", "no:cacheprovider", "-n", "4"]))


@nox.session(python=PY)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PY)
def typecheck(session: nox.Session) -> None:
    """mypy strict on the library."""
    session.install("-e", ".[all]", "mypy>=1.10")
    session.run("mypy")


@nox.session(python=PY)
def imports(session: nox.Session) -> None:
    """The dependency rule of ARCHITECTURE.md, as import-linter contracts, and the light core."""
    session.install("-e", ".[all]", "import-linter>=2.0")
    session.run("lint-imports")
    session.run(
        "python",
        "-c",
        "import sys, wagerkit; heavy = {'sqlalchemy', 'sanic', 'socketio', 'typer', 'rich'} & "
        "{m.split('.')[0] for m in sys.modules}; assert not heavy, heavy; print('import wagerkit is light')",
    )


@nox.session(python=PY)
def bench(session: nox.Session) -> None:
    """Benchmarks with same-run baselines; writes .bench/results.json."""
    session.install("-e", ".[test]")
    # the events benchmark drives the HTTP server with wrk (tests/bench/events_bench.py)
    session.run(
        "sh",
        "-c",
        'command -v wrk || { [ "$(id -u)" = 0 ] && apt-get update -qq && '
        "apt-get install -y -qq wrk; }",
        external=True,
    )
    session.run("python", "tests/bench/run.py", *session.posargs)
